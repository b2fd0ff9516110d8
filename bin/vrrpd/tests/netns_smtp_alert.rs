//! SMTP alerts against keepalived 2.2.7: a mail server in the client's namespace records every
//! conversation while each daemon in turn runs the same configuration (two instances in a sync group with
//! `smtp_alert`, alone on the link so they become master) from its start to its stop. The conversations
//! (commands, headers, subjects and bodies; the `Date:` line aside) must be the same, but for the alerts of
//! the stop, which keepalived never gets to send.

mod netns;

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use netns::{Implementation, Topology, wait_for};
use nix::sched::{CloneFlags, setns};

const CONFIG: &str = "\
global_defs {
    notification_email {
        ops@example.com
        noc@example.com
    }
    notification_email_from lvs@example.com
    smtp_server 10.99.0.9 2525
    smtp_helo_name director.example
    smtp_connect_timeout 5
    router_id LVS_TEST
    smtp_alert
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 200
    advert_int 0.1
    version 3
    virtual_ipaddress {
        10.99.0.100/24
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 150
    advert_int 0.1
    version 3
    virtual_ipaddress {
        10.99.0.102/24
    }
}
";

/// A mail server answering every command with success, in `namespace`; the conversations it had.
struct MailServer {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<String>>,
}

impl MailServer {
    fn start(namespace: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let (ready, listening) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let netns = File::open(format!("/run/netns/{namespace}")).expect("namespace");
            setns(netns.as_fd(), CloneFlags::CLONE_NEWNET).expect("setns");
            let listener = TcpListener::bind("10.99.0.9:2525").expect("listen");
            listener.set_nonblocking(true).expect("non-blocking");
            let _ = ready.send(());
            let mut conversations = Vec::new();
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => conversations.push(converse(stream)),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
            conversations
        });
        listening
            .recv_timeout(Duration::from_secs(5))
            .expect("mail server ready");
        Self { stop, thread }
    }

    fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("mail server")
    }
}

/// One SMTP conversation: what the client sent, with the `Date:` header blanked.
fn converse(stream: TcpStream) -> String {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    let mut said = String::new();
    let _ = writer.write_all(b"220 mail.example ESMTP\r\n");
    let mut in_data = false;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if in_data && line.starts_with("Date: ") {
            said.push_str("Date: (now)\r\n");
        } else {
            said.push_str(&line);
        }
        let reply: &[u8] = if in_data {
            if line == ".\r\n" {
                in_data = false;
                b"250 queued\r\n"
            } else {
                continue;
            }
        } else if line.starts_with("DATA") {
            in_data = true;
            b"354 go ahead\r\n"
        } else if line.starts_with("QUIT") {
            let _ = writer.write_all(b"221 bye\r\n");
            break;
        } else {
            b"250 ok\r\n"
        };
        let _ = writer.write_all(reply);
    }
    said
}

/// The conversations the mail server had with `implementation` from its start to its stop, sorted (mails
/// may arrive in any order).
fn conversations(implementation: Implementation) -> Vec<String> {
    let mut topology = Topology::new(1);
    let server = MailServer::start(topology.client());
    let run = topology.start(1, implementation, CONFIG);
    assert!(
        wait_for(Duration::from_secs(15), || topology.has_vip(1)).is_some(),
        "{implementation:?} did not become master\n{}",
        topology.logs()
    );
    std::thread::sleep(Duration::from_millis(1500));
    topology.daemon(run).terminate();
    assert!(
        topology.daemon(run).wait_exit().is_some(),
        "{implementation:?} did not stop"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let mut mails = server.finish();
    mails.sort();
    mails
}

#[test]
fn smtp_alerts_are_keepalived_s() {
    require_netns!(keepalived);
    let reference = conversations(Implementation::Keepalived);
    let ours = conversations(Implementation::Vrrpd);
    assert!(
        reference
            .iter()
            .any(|mail| mail.contains("VRRP Instance VI_1 - Entering MASTER state")),
        "keepalived sent no MASTER alert: {reference:#?}"
    );
    // keepalived connects for its "Stopping" alerts but exits before it says anything; ours delivers them
    // when the server answers while the daemon stops.
    let stopping = |mail: &&String| mail.contains(" - Stopping\r\n");
    let reference_stops = reference.iter().filter(|mail| mail.is_empty()).count();
    let our_stops: Vec<&String> = ours.iter().filter(stopping).collect();
    assert_eq!(
        our_stops.len(),
        reference_stops,
        "stop alerts (ours, keepalived's connections): {ours:#?}"
    );
    let reference_sent: Vec<&String> = reference.iter().filter(|mail| !mail.is_empty()).collect();
    let ours_sent: Vec<&String> = ours.iter().filter(|mail| !stopping(mail)).collect();
    assert_eq!(ours_sent, reference_sent, "mails (ours, keepalived's)");
}
