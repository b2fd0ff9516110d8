//! The conversation of `SMTP_CHECK`, as keepalived 2.2.7's `check_smtp.c`, without I/O: read the
//! greeting until a newline and want status 220, send `HELO helo_name`, want 250, send `QUIT`,
//! and read one more line (any). A status is the first three characters of what was read when
//! the newline came; what came after that newline is dropped, as keepalived clears its buffer
//! before each line. A failure is worded as keepalived's `smtp_final` words it (its log line and the
//! checker's mail carry the words).

use std::net::SocketAddr;

/// keepalived's `SMTP_DEFAULT_HELO`.
pub const DEFAULT_HELO: &str = "smtpchecker.keepalived.org";

/// keepalived's `SMTP_BUFF_MAX`: a line longer than this has no newline in time.
pub const MAX_LINE: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Greeting,
    Helo,
    Quit,
}

/// What the daemon does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read more.
    Read,
    /// Send these bytes, then read.
    Send(Vec<u8>),
    /// The check succeeded.
    Success,
    /// The check failed.
    Failure(Failure),
}

/// Why an `SMTP_CHECK` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No connection within `connect_timeout`.
    ConnectionTimeout,
    /// The connection was refused or failed otherwise.
    CouldNotConnect,
    /// No complete line within `connect_timeout`.
    ReadTimeout,
    /// Reading failed, or the server closed the connection.
    ReadFailure,
    /// A command could not be sent within `connect_timeout`.
    WriteTimeout,
    /// Sending failed.
    WriteFailure,
    /// The greeting's status is not 220.
    BadGreeting,
    /// The answer to `HELO` is not 250.
    BadHelo,
}

impl Failure {
    /// keepalived's words for it, naming the server as `[ADDRESS]:PORT`.
    pub fn text(self, server: SocketAddr) -> String {
        let server = format!("[{}]:{}", server.ip(), server.port());
        match self {
            Failure::ConnectionTimeout => format!("Connection timeout to server {server}"),
            Failure::CouldNotConnect => format!("Could not connect to server {server}"),
            Failure::ReadTimeout => format!("Read timeout from server {server}"),
            Failure::ReadFailure => format!("Read failure from server {server}"),
            Failure::WriteTimeout => format!("Write timeout to server {server}"),
            Failure::WriteFailure => format!("Write failure to server {server}"),
            Failure::BadGreeting => format!("Bad greeting banner from server {server}"),
            Failure::BadHelo => format!("Bad HELO response from server {server}"),
        }
    }
}

/// One SMTP conversation.
#[derive(Clone, Debug)]
pub struct Conversation {
    helo: String,
    stage: Stage,
    line: Vec<u8>,
}

impl Conversation {
    /// A conversation greeting as `helo_name` (keepalived's default when missing).
    pub fn new(helo_name: Option<&str>) -> Self {
        Conversation {
            helo: helo_name.unwrap_or(DEFAULT_HELO).to_owned(),
            stage: Stage::Greeting,
            line: Vec::new(),
        }
    }

    /// Bytes arrived.
    pub fn received(&mut self, data: &[u8]) -> Action {
        self.line.extend_from_slice(data);
        if !self.line.contains(&b'\n') {
            if self.line.len() >= MAX_LINE {
                // keepalived starts its buffer again and waits for a newline until the timeout.
                return Action::Failure(Failure::ReadTimeout);
            }
            return Action::Read;
        }
        let status = status(&self.line);
        self.line.clear();
        match self.stage {
            Stage::Greeting if status == Some(220) => {
                self.stage = Stage::Helo;
                Action::Send(format!("HELO {}\r\n", self.helo).into_bytes())
            }
            Stage::Greeting => Action::Failure(Failure::BadGreeting),
            Stage::Helo if status == Some(250) => {
                self.stage = Stage::Quit;
                Action::Send(b"QUIT\r\n".to_vec())
            }
            Stage::Helo => Action::Failure(Failure::BadHelo),
            Stage::Quit => Action::Success,
        }
    }

    /// The server closed the connection before the line was complete.
    pub fn closed(&self) -> Action {
        Action::Failure(Failure::ReadFailure)
    }
}

/// The status at the start of a line: three digits.
fn status(line: &[u8]) -> Option<u16> {
    match line {
        [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_conversation() {
        let mut c = Conversation::new(Some("checker.example"));
        assert_eq!(c.received(b"220 mail.exa"), Action::Read);
        assert_eq!(
            c.received(b"mple ESMTP\r\n"),
            Action::Send(b"HELO checker.example\r\n".to_vec())
        );
        assert_eq!(
            c.received(b"250 hello\r\n"),
            Action::Send(b"QUIT\r\n".to_vec())
        );
        assert_eq!(c.received(b"221 bye\r\n"), Action::Success);
    }

    #[test]
    fn default_helo_and_multiline_greeting() {
        let mut c = Conversation::new(None);
        assert_eq!(
            c.received(b"220-first\r\n220 second\r\n"),
            Action::Send(b"HELO smtpchecker.keepalived.org\r\n".to_vec())
        );
    }

    #[test]
    fn bad_statuses_fail() {
        let mut c = Conversation::new(None);
        assert_eq!(
            c.received(b"554 no\r\n"),
            Action::Failure(Failure::BadGreeting)
        );
        let mut c = Conversation::new(None);
        assert!(matches!(c.received(b"22\n"), Action::Failure(_)));
        let mut c = Conversation::new(None);
        c.received(b"220 ok\n");
        assert_eq!(c.received(b"501 no\n"), Action::Failure(Failure::BadHelo));
        let mut c = Conversation::new(None);
        assert!(matches!(c.received(&[b'2'; MAX_LINE]), Action::Failure(_)));
        assert!(matches!(
            Conversation::new(None).closed(),
            Action::Failure(_)
        ));
    }

    #[test]
    fn failures_in_keepalived_s_words() {
        let server: SocketAddr = "10.0.2.11:25".parse().expect("address");
        assert_eq!(
            Failure::CouldNotConnect.text(server),
            "Could not connect to server [10.0.2.11]:25"
        );
        let server: SocketAddr = "[2001:db8::11]:2525".parse().expect("address");
        assert_eq!(
            Failure::BadHelo.text(server),
            "Bad HELO response from server [2001:db8::11]:2525"
        );
    }
}
