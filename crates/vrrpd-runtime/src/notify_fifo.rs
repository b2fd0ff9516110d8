//! The notify FIFOs (`notify_fifo`, `vrrp_notify_fifo`, `lvs_notify_fifo`): each process opens the
//! global one and its own, as keepalived 2.2.7's `notify_fifo_open` does, and writes one line per change
//! (the VRRP process `INSTANCE "VI_1" MASTER 100`, the checker process `RS …` and `VS …`).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use keepalived_config::model::global::NotifyFifo;
use log::warn;

/// The open FIFOs of one process.
#[derive(Debug, Default)]
pub struct NotifyFifos {
    files: Vec<File>,
}

impl NotifyFifos {
    /// Opens the FIFOs that have a path, creating those that do not exist; one that cannot be opened is
    /// logged and left out.
    pub fn open(fifos: &[&NotifyFifo]) -> NotifyFifos {
        let mut files = Vec::new();
        for fifo in fifos {
            let Some(path) = &fifo.path else { continue };
            if !std::path::Path::new(path).exists() {
                if let Err(e) = nix::unistd::mkfifo(
                    path.as_str(),
                    nix::sys::stat::Mode::from_bits_truncate(0o600),
                ) {
                    warn!("Unable to create notify FIFO {path}: {e}");
                    continue;
                }
            }
            // Read-write, so that opening does not wait for a reader and writing never fails for lack of one.
            match OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)
            {
                Ok(file) => files.push(file),
                Err(e) => warn!("Unable to open notify FIFO {path}: {e}"),
            }
        }
        NotifyFifos { files }
    }

    /// Whether any FIFO is open.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Writes `line` (with its newline) to every FIFO.
    pub fn write_line(&mut self, line: &str) {
        for fifo in &mut self.files {
            // A full FIFO (nobody reading) loses the line, as in keepalived.
            let _ = fifo.write_all(line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn lines_reach_every_fifo_and_a_missing_one_is_created() {
        let dir = std::env::temp_dir().join(format!("notify-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let global = dir.join("global");
        let own = dir.join("own");
        let _ = std::fs::remove_file(&global);
        let _ = std::fs::remove_file(&own);
        let fifo = |path: &std::path::Path| NotifyFifo {
            path: Some(path.to_string_lossy().into_owned()),
            ..NotifyFifo::default()
        };
        let (a, b, none) = (fifo(&global), fifo(&own), NotifyFifo::default());
        let mut fifos = NotifyFifos::open(&[&a, &none, &b]);
        assert!(!fifos.is_empty());
        let mut readers: Vec<File> = [&global, &own]
            .iter()
            .map(|path| {
                OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(path)
                    .expect("reader")
            })
            .collect();
        fifos.write_line("VS [10.0.0.1]:tcp:80 UP\n");
        for reader in &mut readers {
            let mut buffer = [0u8; 64];
            let read = reader.read(&mut buffer).expect("a line");
            assert_eq!(&buffer[..read], b"VS [10.0.0.1]:tcp:80 UP\n");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
