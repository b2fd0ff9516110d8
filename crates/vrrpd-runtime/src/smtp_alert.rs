//! SMTP alerts (`smtp_alert`, `notification_email`, `smtp_server`): keepalived 2.2.7's mails on state
//! changes, with its conversation (`HELO`, `MAIL FROM`, one `RCPT TO` per address, `DATA`, `QUIT`), headers
//! and subjects (`[ROUTER_ID] VRRP Instance VI_1 - Entering MASTER state`).
//!
//! The conversation itself is pure ([`Conversation`]: replies in, commands out); [`Mailer::send`] runs it on a
//! blocking socket with the `smtp_connect_timeout` in a short-lived thread of its own, so that a slow mail
//! server never holds up the event loop (keepalived runs it in its event loop for the same reason).

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use keepalived_config::model::GlobalDefs;
use log::{debug, info};

/// keepalived's limits on a subject and a body (`MAX_HEADERS_LENGTH`, `MAX_BODY_LENGTH`), terminator included.
const MAX_SUBJECT: usize = 256;
const MAX_BODY: usize = 512;
/// A reply longer than this without its end is an error (`SMTP_BUFFER_MAX`).
const MAX_REPLY: usize = 1024;

/// Where and how alerts are sent, from `global_defs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailer {
    server: SocketAddr,
    helo_name: String,
    from: String,
    recipients: Vec<String>,
    router_id: String,
    timeout: Duration,
}

/// One mail: its subject and body, and the `Date:` it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
    pub date: String,
}

impl Mailer {
    /// The mailer of a configuration: none without `notification_email` or `smtp_server`, as keepalived
    /// sends nothing then. `local_name` is the host's canonical name, keepalived's default for the router
    /// id, the HELO name and the sender's domain (`USER@NAME`, the user running the daemon).
    pub fn new(global: &GlobalDefs, local_name: &str, user: &str) -> Option<Mailer> {
        let server = global.smtp_server.as_ref()?;
        if global.notification_email.is_empty() {
            return None;
        }
        Some(Mailer {
            server: SocketAddr::new(server.address, server.port),
            helo_name: global
                .smtp_helo_name
                .clone()
                .unwrap_or_else(|| local_name.to_owned()),
            from: global
                .notification_email_from
                .clone()
                .unwrap_or_else(|| format!("{user}@{local_name}")),
            recipients: global.notification_email.clone(),
            router_id: global
                .router_id
                .clone()
                .unwrap_or_else(|| local_name.to_owned()),
            timeout: global.smtp_connect_timeout,
        })
    }

    /// The mailer of a configuration with keepalived's defaults: the host's canonical name and the user
    /// running the daemon.
    pub fn of(global: &GlobalDefs) -> Option<Mailer> {
        if global.smtp_server.is_none() || global.notification_email.is_empty() {
            return None;
        }
        let user = nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map(|user| user.name)
            .unwrap_or_default();
        Mailer::new(global, &local_name(), &user)
    }

    /// Sends `[ROUTER_ID] WHAT - SUBJECT` with `body`, dated now, in the background; the thread
    /// sending it, for a caller that must wait for it (at stop).
    pub fn alert(&self, what: &str, subject: &str, body: &str) -> Option<JoinHandle<()>> {
        let subject = self.subject(what, subject);
        self.send(self.mail(subject, body, crate::logging::mail_date()))
    }

    /// `[ROUTER_ID] WHAT - SUBJECT`, cut to keepalived's length.
    pub fn subject(&self, what: &str, subject: &str) -> String {
        truncate(
            format!("[{}] {what} - {subject}", self.router_id),
            MAX_SUBJECT - 1,
        )
    }

    /// The mail for `subject` and `body`, dated `date` (keepalived's `%a, %d %b %Y %H:%M:%S %z`).
    pub fn mail(&self, subject: String, body: &str, date: String) -> Mail {
        Mail {
            subject,
            body: truncate(body.to_owned(), MAX_BODY - 1),
            date,
        }
    }

    /// Sends `mail` in the background; the outcome is logged as keepalived logs it.
    pub fn send(&self, mail: Mail) -> Option<JoinHandle<()>> {
        let mailer = self.clone();
        let spawned = std::thread::Builder::new()
            .name("smtp-alert".into())
            .spawn(move || mailer.deliver(&mail));
        match spawned {
            Ok(handle) => Some(handle),
            Err(e) => {
                info!("SMTP alert not sent: cannot start its thread: {e}");
                None
            }
        }
    }

    fn deliver(&self, mail: &Mail) {
        let server = host_and_port(self.server);
        let mut stream = match TcpStream::connect_timeout(&self.server, self.timeout) {
            Ok(stream) => stream,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                info!("Timeout connecting SMTP server {server}.");
                return;
            }
            Err(_) => {
                info!("SMTP connection ERROR to {server}.");
                return;
            }
        };
        debug!("Remote SMTP server {server} connected.");
        let _ = stream.set_read_timeout(Some(self.timeout));
        let _ = stream.set_write_timeout(Some(self.timeout));
        let mut conversation = Conversation::new(self, mail);
        let mut replies = ReplyReader::default();
        let mut buffer = [0u8; 512];
        loop {
            let code = loop {
                if let Some(code) = replies.next_code() {
                    break Some(code);
                }
                match stream.read(&mut buffer) {
                    Ok(0) => {
                        info!("Remote SMTP server {server} has closed the connection.");
                        return;
                    }
                    Ok(read) => {
                        if !replies.push(&buffer[..read]) {
                            info!(
                                "Received buffer from remote SMTP server {server} overflow our get read buffer length."
                            );
                            break None;
                        }
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        info!("Timeout reading data to remote SMTP server {server}.");
                        break None;
                    }
                    Err(_) => {
                        info!("Error reading data from remote SMTP server {server}.");
                        break None;
                    }
                }
            };
            let step = match code {
                Some(code) => conversation.reply(code),
                None => conversation.give_up(),
            };
            match step {
                Step::Send(command) => {
                    if stream.write_all(command.as_bytes()).is_err() {
                        info!("Error writing data to remote SMTP server {server}.");
                        return;
                    }
                }
                Step::Failed { command, code } => {
                    info!(
                        "Error processing {command} cmd on SMTP server {server}. SMTP status code = {code}"
                    );
                    let _ = stream.write_all(b"QUIT\r\n");
                }
                Step::Sent => debug!("SMTP alert successfully sent."),
                Step::Done => return,
            }
            if conversation.stage == Stage::Sent {
                // The body was accepted: say goodbye.
                if let Step::Send(quit) = conversation.quit() {
                    let _ = stream.write_all(quit.as_bytes());
                }
            }
        }
    }
}

/// Where a conversation stands: what the server's next reply answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Greeting,
    Helo,
    Mail,
    Rcpt(usize),
    Data,
    Body,
    Sent,
    Quit,
    Done,
}

/// What to do after a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this command.
    Send(String),
    /// The server refused `command` with `code`: the conversation ends with `QUIT`.
    Failed { command: &'static str, code: u16 },
    /// The mail was accepted.
    Sent,
    /// The conversation is over.
    Done,
}

/// keepalived's SMTP conversation for one mail.
#[derive(Clone, Debug)]
pub struct Conversation {
    stage: Stage,
    helo: String,
    from: String,
    recipients: Vec<String>,
    message: String,
}

impl Conversation {
    pub fn new(mailer: &Mailer, mail: &Mail) -> Conversation {
        let to = mailer.recipients.join(", ");
        let message = format!(
            "Date: {}\r\nFrom: {}\r\nSubject: {}\r\nX-Mailer: Keepalived\r\nTo: {to}\r\n\r\n{}\r\n\r\n.\r\n",
            mail.date, mailer.from, mail.subject, mail.body
        );
        Conversation {
            stage: Stage::Greeting,
            helo: mailer.helo_name.clone(),
            from: mailer.from.clone(),
            recipients: mailer.recipients.clone(),
            message,
        }
    }

    /// The server answered the last command (or greeted) with `code`.
    pub fn reply(&mut self, code: u16) -> Step {
        let (expected, command) = match self.stage {
            Stage::Greeting => (220, "(E)SMTP"),
            Stage::Helo => (250, "HELO"),
            Stage::Mail => (250, "MAIL"),
            Stage::Rcpt(_) => (250, "RCPT"),
            Stage::Data => (354, "DATA"),
            Stage::Body => (250, "BODY"),
            Stage::Quit => (221, "QUIT"),
            Stage::Sent | Stage::Done => return Step::Done,
        };
        if code != expected {
            if self.stage == Stage::Quit {
                self.stage = Stage::Done;
                return Step::Done;
            }
            self.stage = Stage::Quit;
            return Step::Failed { command, code };
        }
        let (next, step) = match self.stage {
            Stage::Greeting => (Stage::Helo, Step::Send(format!("HELO {}\r\n", self.helo))),
            Stage::Helo => (
                Stage::Mail,
                Step::Send(format!("MAIL FROM:<{}>\r\n", self.from)),
            ),
            Stage::Mail | Stage::Rcpt(_) => {
                let next = match self.stage {
                    Stage::Rcpt(sent) => sent + 1,
                    _ => 0,
                };
                match self.recipients.get(next) {
                    Some(address) => (
                        Stage::Rcpt(next),
                        Step::Send(format!("RCPT TO:<{address}>\r\n")),
                    ),
                    None => (Stage::Data, Step::Send("DATA\r\n".into())),
                }
            }
            Stage::Data => (Stage::Body, Step::Send(self.message.clone())),
            Stage::Body => (Stage::Sent, Step::Sent),
            _ => (Stage::Done, Step::Done),
        };
        self.stage = next;
        step
    }

    /// After the mail was accepted, or after a failure: `QUIT`, whose answer ends the conversation.
    pub fn quit(&mut self) -> Step {
        self.stage = Stage::Quit;
        Step::Send("QUIT\r\n".into())
    }

    /// No usable reply came (timeout, overlong reply): keepalived sends `QUIT` unless that was the last
    /// command already.
    pub fn give_up(&mut self) -> Step {
        if matches!(self.stage, Stage::Quit | Stage::Done) {
            self.stage = Stage::Done;
            return Step::Done;
        }
        self.quit()
    }
}

/// Collects reply text and yields the code of each complete reply (the last line of a multi-line one).
#[derive(Default, Debug)]
pub struct ReplyReader {
    pending: Vec<u8>,
}

impl ReplyReader {
    /// Adds received bytes; false when the reply grows past keepalived's buffer.
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        self.pending.extend_from_slice(bytes);
        self.pending.len() < MAX_REPLY
    }

    /// The code of the next complete reply, if one has arrived.
    pub fn next_code(&mut self) -> Option<u16> {
        loop {
            let end = self.pending.windows(2).position(|pair| pair == b"\r\n")?;
            let line: Vec<u8> = self.pending.drain(..end + 2).collect();
            if line.get(3) == Some(&b'-') {
                continue;
            }
            // keepalived reads the first three characters as digits whatever they are.
            let digit =
                |at: usize| u16::from(line.get(at).copied().unwrap_or(b'0').wrapping_sub(b'0'));
            return Some(digit(0) * 100 + digit(1) * 10 + digit(2));
        }
    }
}

/// `ADDRESS:PORT`, or `[ADDRESS]:PORT` for IPv6, as keepalived names the server in its log.
fn host_and_port(server: SocketAddr) -> String {
    match server.ip() {
        IpAddr::V4(address) => format!("{address}:{}", server.port()),
        IpAddr::V6(address) => format!("[{address}]:{}", server.port()),
    }
}

/// `text` cut to at most `limit` bytes, at a character boundary (keepalived's fixed buffers).
fn truncate(mut text: String, limit: usize) -> String {
    let end = (0..=limit.min(text.len()))
        .rev()
        .find(|&end| text.is_char_boundary(end))
        .unwrap_or(0);
    text.truncate(end);
    text
}

/// The host's canonical name, keepalived's `local_name` (`getaddrinfo` of the node name with
/// `AI_CANONNAME`); the node name itself when that fails.
pub fn local_name() -> String {
    let node = nix::sys::utsname::uname()
        .map(|name| name.nodename().to_string_lossy().into_owned())
        .unwrap_or_default();
    canonical_name(&node).unwrap_or(node)
}

fn canonical_name(node: &str) -> Option<String> {
    let node = std::ffi::CString::new(node).ok()?;
    // SAFETY: all-zero is a valid `addrinfo` hint (no flags, any family).
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    let mut result: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: the pointers are valid for the call; the result is freed below.
    let status = unsafe { libc::getaddrinfo(node.as_ptr(), std::ptr::null(), &hints, &mut result) };
    if status != 0 || result.is_null() {
        return None;
    }
    // SAFETY: `result` is a list getaddrinfo returned; its first entry carries the canonical name, read
    // before the list is freed.
    unsafe {
        let canonical = (*result).ai_canonname;
        let name = (!canonical.is_null()).then(|| {
            std::ffi::CStr::from_ptr(canonical)
                .to_string_lossy()
                .into_owned()
        });
        libc::freeaddrinfo(result);
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::model::global::SmtpServer;

    fn mailer(recipients: &[&str]) -> Mailer {
        let global = GlobalDefs {
            smtp_server: Some(SmtpServer {
                address: IpAddr::from([192, 0, 2, 25]),
                port: 25,
            }),
            notification_email: recipients.iter().map(|r| r.to_string()).collect(),
            router_id: Some("LVS_1".into()),
            ..GlobalDefs::default()
        };
        Mailer::new(&global, "director.example", "root").expect("mailer")
    }

    fn commands(conversation: &mut Conversation, replies: &[u16]) -> Vec<Step> {
        replies
            .iter()
            .map(|&code| conversation.reply(code))
            .collect()
    }

    #[test]
    fn nothing_is_sent_without_recipients_or_a_server() {
        let mut global = GlobalDefs {
            notification_email: vec!["ops@example.com".into()],
            ..GlobalDefs::default()
        };
        assert_eq!(Mailer::new(&global, "host", "root"), None);
        global.notification_email.clear();
        global.smtp_server = Some(SmtpServer {
            address: IpAddr::from([192, 0, 2, 25]),
            port: 25,
        });
        assert_eq!(Mailer::new(&global, "host", "root"), None);
    }

    #[test]
    fn the_conversation_and_the_message_are_keepalived_s() {
        let mailer = mailer(&["a@example.com", "b@example.com"]);
        let subject = mailer.subject("VRRP Instance VI_1", "Entering MASTER state");
        assert_eq!(
            subject,
            "[LVS_1] VRRP Instance VI_1 - Entering MASTER state"
        );
        let mail = mailer.mail(
            subject,
            "=> VRRP Instance is now owning VRRP VIPs <=",
            "Wed, 02 Dec 2026 00:11:23 +0000".into(),
        );
        let mut conversation = Conversation::new(&mailer, &mail);
        let steps = commands(&mut conversation, &[220, 250, 250, 250, 250, 354, 250]);
        assert_eq!(
            steps,
            vec![
                Step::Send("HELO director.example\r\n".into()),
                Step::Send("MAIL FROM:<root@director.example>\r\n".into()),
                Step::Send("RCPT TO:<a@example.com>\r\n".into()),
                Step::Send("RCPT TO:<b@example.com>\r\n".into()),
                Step::Send("DATA\r\n".into()),
                Step::Send(
                    "Date: Wed, 02 Dec 2026 00:11:23 +0000\r\nFrom: root@director.example\r\n\
                     Subject: [LVS_1] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\n\
                     To: a@example.com, b@example.com\r\n\r\n=> VRRP Instance is now owning VRRP VIPs <=\r\n\
                     \r\n.\r\n"
                        .into()
                ),
                Step::Sent,
            ]
        );
        assert_eq!(conversation.quit(), Step::Send("QUIT\r\n".into()));
        assert_eq!(conversation.reply(221), Step::Done);
    }

    #[test]
    fn a_refusal_ends_with_quit() {
        let mailer = mailer(&["a@example.com"]);
        let mail = mailer.mail("s".into(), "b", "d".into());
        let mut conversation = Conversation::new(&mailer, &mail);
        assert!(matches!(conversation.reply(220), Step::Send(_)));
        assert!(matches!(conversation.reply(250), Step::Send(_)));
        assert_eq!(
            conversation.reply(550),
            Step::Failed {
                command: "MAIL",
                code: 550
            }
        );
        assert_eq!(conversation.reply(221), Step::Done);
        let mut silent = Conversation::new(&mailer, &mail);
        assert_eq!(silent.give_up(), Step::Send("QUIT\r\n".into()));
        assert_eq!(silent.give_up(), Step::Done);
    }

    #[test]
    fn replies_in_pieces_and_on_several_lines() {
        let mut reader = ReplyReader::default();
        assert!(reader.push(b"220-mail.example ESMTP\r\n220 read"));
        assert_eq!(reader.next_code(), None);
        assert!(reader.push(b"y\r\n250 ok\r\n"));
        assert_eq!(reader.next_code(), Some(220));
        assert_eq!(reader.next_code(), Some(250));
        assert_eq!(reader.next_code(), None);
        assert!(!reader.push(&[b'x'; MAX_REPLY]));
    }

    #[test]
    fn long_subjects_and_bodies_are_cut_as_keepalived_cuts_them() {
        let mailer = mailer(&["a@example.com"]);
        let subject = mailer.subject(&"x".repeat(400), "DOWN");
        assert_eq!(subject.len(), MAX_SUBJECT - 1);
        let mail = mailer.mail(subject, &"é".repeat(400), "d".into());
        assert!(mail.body.len() < MAX_BODY);
    }
}
