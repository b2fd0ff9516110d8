//! The log file through `logging::batch`: lines logged in a batch reach the file together when it
//! ends, in order and each with its own time stamp; lines outside a batch are written at once.

use std::time::Duration;

use log::info;
use vrrpd_runtime::logging::{self, Facility, LogSettings};

#[test]
fn batched_lines_are_written_when_the_batch_ends() {
    let path = std::env::temp_dir().join(format!("vrrpd-log-batch-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&path);
    logging::init(&LogSettings {
        console: false,
        syslog: false,
        facility: Facility::Daemon,
        file: Some(path.to_string_lossy().into_owned()),
        flush_file: true,
        detailed: false,
        ident: "log_batch".to_owned(),
    });
    let read = || std::fs::read_to_string(&path).unwrap_or_default();

    info!("before the batch");
    assert!(read().ends_with(": before the batch\n"), "{}", read());

    let seen_inside = logging::batch(|| {
        info!("first held line");
        std::thread::sleep(Duration::from_millis(20));
        info!("second held line");
        read()
    });
    assert!(!seen_inside.contains("held line"), "{seen_inside}");

    let text = read();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].ends_with(": first held line"), "{text}");
    assert!(lines[2].ends_with(": second held line"), "{text}");
    // Each line keeps the time it was logged at, not the time it was written.
    assert_ne!(
        lines[1].split(": ").next(),
        lines[2].split(": ").next(),
        "{text}"
    );

    info!("after the batch");
    assert!(read().ends_with(": after the batch\n"), "{}", read());
    let _ = std::fs::remove_file(&path);
}
