//! `track_file` files, for the VRRP side's `track_file` and the checker side's `FILE_CHECK` alike
//! (keepalived's `track_file.c` serves both): the number a file holds, `init_file` writing it at
//! start, and one inotify instance watching their directories (as keepalived does, so a file
//! that does not exist yet or is replaced by a rename is seen) for writes closed, deletions and
//! renames.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

/// What keepalived reads from a tracked file: `None` when the number does not fit an `int`
/// (keepalived logs it and keeps the last value).
pub fn parse_value(content: &[u8]) -> Option<i64> {
    let mut rest = content;
    while let [first, tail @ ..] = rest {
        if matches!(first, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            rest = tail;
        } else {
            break;
        }
    }
    let negative = match rest.first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    let radix = match rest {
        [b'0', b'x' | b'X', digit, ..] if digit.is_ascii_hexdigit() => {
            rest = &rest[2..];
            16
        }
        [b'0', ..] => 8,
        _ => 10,
    };
    let mut value: i64 = 0;
    for &byte in rest {
        let Some(digit) = char::from(byte).to_digit(radix) else {
            break;
        };
        value = value
            .checked_mul(i64::from(radix))?
            .checked_add(i64::from(digit))?;
    }
    let value = if negative { -value } else { value };
    (i64::from(i32::MIN)..=i64::from(i32::MAX))
        .contains(&value)
        .then_some(value)
}

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
    parse_value(&buffer[..length])
}

/// `init_file [VALUE] [overwrite]`: writes `VALUE` to a file that does not exist, or, with
/// `overwrite`, also over a regular file that does, except on a reload (keepalived's
/// `track_file_end_handler`). Returns what went wrong, to be logged.
pub fn initialise(path: &Path, value: i64, overwrite: bool, reload: bool) -> Result<(), String> {
    if let Ok(metadata) = std::fs::metadata(path) {
        if !overwrite {
            return Ok(());
        }
        if !metadata.is_file() {
            return Err(format!(
                "Cannot initialise track file {} - it is not a regular file",
                path.display()
            ));
        }
        if reload {
            return Ok(());
        }
    }
    std::fs::write(path, format!("{value}\n"))
        .map_err(|e| format!("Unable to initialise track file {}: {e}", path.display()))
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
        let dir = std::env::temp_dir().join(format!("track-files-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        dir
    }

    #[test]
    fn numbers_are_read_as_strtol_does() {
        assert_eq!(parse_value(b""), Some(0));
        assert_eq!(parse_value(b"5\n"), Some(5));
        assert_eq!(parse_value(b"  -12 trailing"), Some(-12));
        assert_eq!(parse_value(b"+7"), Some(7));
        assert_eq!(parse_value(b"0x1f"), Some(31));
        assert_eq!(parse_value(b"010"), Some(8));
        assert_eq!(parse_value(b"09"), Some(0));
        assert_eq!(parse_value(b"0x"), Some(0));
        assert_eq!(parse_value(b"abc"), Some(0));
        assert_eq!(parse_value(b"2147483647"), Some(2_147_483_647));
        assert_eq!(parse_value(b"2147483648"), None);
        assert_eq!(parse_value(b"-2147483648"), Some(-2_147_483_648));
        assert_eq!(parse_value(b"99999999999999999999999"), None);
    }

    #[test]
    fn init_file_writes_missing_files_and_overwrites_only_when_asked() {
        let dir = directory("init");
        let path = dir.join("state");
        let _ = std::fs::remove_file(&path);
        initialise(&path, 5, false, false).expect("create");
        assert_eq!(read_value(&path), Some(5));
        initialise(&path, 7, false, false).expect("kept");
        assert_eq!(
            read_value(&path),
            Some(5),
            "no overwrite: an existing file is kept"
        );
        initialise(&path, 7, true, true).expect("kept on reload");
        assert_eq!(read_value(&path), Some(5), "a reload overwrites nothing");
        initialise(&path, 7, true, false).expect("overwrite");
        assert_eq!(read_value(&path), Some(7));
        assert!(
            initialise(&dir, 1, true, false).is_err(),
            "a directory is not a file"
        );
        let _ = std::fs::remove_dir_all(&dir);
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
