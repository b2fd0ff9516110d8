//! `net.ipv4.ping_group_range` while `PING_CHECK`s run: the kernel lets a process open ping
//! sockets only when one of its groups is in the range (root included), and the range is empty
//! ("1 0") by default. keepalived lowers the first group to 0 when it reads a `PING_CHECK`, keeps
//! the last, and writes the first back when it stops (`set_ping_group_range`); so does this.

use std::path::{Path, PathBuf};

use log::info;
use lvs::ping::GroupRange;

/// The sysctl, for the network namespace of the process.
pub const PING_GROUP_RANGE: &str = "/proc/sys/net/ipv4/ping_group_range";

/// The range's file and the first group it had before it was widened.
pub struct PingGroups {
    path: PathBuf,
    saved_first: Option<u32>,
}

impl Default for PingGroups {
    fn default() -> Self {
        PingGroups::at(Path::new(PING_GROUP_RANGE))
    }
}

impl PingGroups {
    /// The range kept in the file at `path`.
    pub fn at(path: &Path) -> Self {
        PingGroups {
            path: path.to_path_buf(),
            saved_first: None,
        }
    }

    /// Lets group 0 open ping sockets, once; a file that cannot be read or understood is left as
    /// it is (the ping sockets may then be refused).
    pub fn widen(&mut self) {
        if self.saved_first.is_some() {
            return;
        }
        let Some(range) = self.read() else {
            return;
        };
        self.saved_first = Some(range.first);
        if range.first == 0 {
            return;
        }
        if range.first > 1 && range.last > 1 {
            info!(
                "Warning: {} being expanded from {} {} to 0 {}",
                self.path.display(),
                range.first,
                range.last,
                range.last
            );
        }
        self.write(&range.with_first(0));
    }

    /// Puts the first group back as it was before [`widen`](Self::widen).
    pub fn restore(&mut self) {
        let Some(saved) = self.saved_first.take() else {
            return;
        };
        let Some(range) = self.read() else {
            return;
        };
        if range.first != saved {
            self.write(&range.with_first(saved));
        }
    }

    fn read(&self) -> Option<GroupRange> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        GroupRange::parse(&text)
    }

    fn write(&self, text: &str) {
        if let Err(e) = std::fs::write(&self.path, text) {
            info!("Write {} failed - {e}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(tag: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "lvs-runtime-ping-groups-{tag}-{}",
            std::process::id()
        ));
        std::fs::write(&path, text).expect("write");
        path
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).expect("read")
    }

    #[test]
    fn widened_while_running_and_put_back_at_stop() {
        let path = file("default", "1\t0\n");
        let mut groups = PingGroups::at(&path);
        groups.widen();
        assert_eq!(read(&path), "0\t0\t\n");
        // The kernel shows it back as "0\t0\n".
        std::fs::write(&path, "0\t0\n").expect("write");
        // Once: a second PING_CHECK (or a reload) does not save the widened value.
        groups.widen();
        groups.restore();
        assert_eq!(read(&path), "1\t0\t\n");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_range_from_0_is_left_alone() {
        let path = file("open", "0\t2147483647\n");
        let mut groups = PingGroups::at(&path);
        groups.widen();
        groups.restore();
        assert_eq!(read(&path), "0\t2147483647\n");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn an_unreadable_range_is_left_alone() {
        let path = file("garbage", "one two\n");
        let mut groups = PingGroups::at(&path);
        groups.widen();
        groups.restore();
        assert_eq!(read(&path), "one two\n");
        let _ = std::fs::remove_file(&path);
        // A missing file: nothing happens.
        let mut groups = PingGroups::at(&path);
        groups.widen();
        groups.restore();
        assert!(!path.exists());
    }
}
