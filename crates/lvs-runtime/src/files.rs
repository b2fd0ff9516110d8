//! The files of `FILE_CHECK`s: read at start, and watched with inotify on their directories
//! (as keepalived does, so a file that does not exist yet or is replaced by a rename is seen)
//! for writes closed, deletions and renames.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

/// The value a tracked file holds: a missing or empty file is 0; `None` when the number does
/// not fit (keepalived ignores such a write).
pub fn read_value(path: &Path) -> Option<i64> {
    // keepalived reads at most 127 bytes.
    let mut buffer = [0u8; 127];
    let Ok(mut file) = std::fs::File::open(path) else {
        return Some(0);
    };
    let mut length = 0;
    while length < buffer.len() {
        match file.read(&mut buffer[length..]) {
            Ok(0) => break,
            Ok(n) => length += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    lvs::file::parse_value(&buffer[..length])
}

/// One inotify instance watching the directories of the tracked files.
pub struct FileWatch {
    inotify: Inotify,
    /// Per watched directory: the file names in it that are tracked, and their paths as
    /// configured.
    watches: HashMap<WatchDescriptor, Vec<(OsString, PathBuf)>>,
}

impl FileWatch {
    /// Watches the directories of `paths`; a directory that cannot be watched is reported and
    /// its files are only read at start.
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<Self, String> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .map_err(|e| format!("cannot monitor track files: {e}"))?;
        let mut watch = FileWatch {
            inotify,
            watches: HashMap::new(),
        };
        for path in paths {
            if let Err(e) = watch.add(path) {
                log::warn!("{e}");
            }
        }
        Ok(watch)
    }

    fn add(&mut self, path: &Path) -> Result<(), String> {
        let Some(name) = path.file_name() else {
            return Err(format!("track file {} has no file name", path.display()));
        };
        let directory = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let wd = self
            .inotify
            .add_watch(
                &directory,
                AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVE,
            )
            .map_err(|e| {
                format!(
                    "track file directory {} cannot be watched: {e}",
                    directory.display()
                )
            })?;
        let files = self.watches.entry(wd).or_default();
        if !files.iter().any(|(_, p)| p == path) {
            files.push((name.to_owned(), path.to_path_buf()));
        }
        Ok(())
    }

    /// The descriptor to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.inotify.as_fd()
    }

    /// The tracked files touched since the last call, each once, in the order first seen.
    pub fn changed(&mut self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            for event in events {
                if event.mask.contains(AddWatchFlags::IN_ISDIR) {
                    continue;
                }
                let (Some(name), Some(files)) = (&event.name, self.watches.get(&event.wd)) else {
                    continue;
                };
                for (file, path) in files {
                    if file == name && !out.contains(path) {
                        out.push(path.clone());
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lvs-files-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        dir
    }

    #[test]
    fn values_of_missing_empty_and_written_files() {
        let dir = directory("values");
        let path = dir.join("state");
        assert_eq!(read_value(&path), Some(0));
        std::fs::write(&path, "").expect("write");
        assert_eq!(read_value(&path), Some(0));
        std::fs::write(&path, "-3\n").expect("write");
        assert_eq!(read_value(&path), Some(-3));
        std::fs::write(&path, "4294967296\n").expect("write");
        assert_eq!(read_value(&path), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn writes_renames_and_deletions_are_seen() {
        let dir = directory("watch");
        let tracked = dir.join("tracked");
        let other = dir.join("other");
        let mut watch = FileWatch::new([tracked.as_path()]).expect("inotify");
        assert!(watch.changed().is_empty());
        std::fs::write(&other, "1").expect("write");
        assert!(watch.changed().is_empty(), "another file is not reported");
        std::fs::write(&tracked, "1").expect("write");
        assert_eq!(watch.changed(), vec![tracked.clone()]);
        std::fs::rename(&other, &tracked).expect("rename");
        assert_eq!(watch.changed(), vec![tracked.clone()]);
        std::fs::remove_file(&tracked).expect("remove");
        assert_eq!(watch.changed(), vec![tracked.clone()]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
