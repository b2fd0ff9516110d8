//! File-name patterns for `include`, with the parts of glob(3) keepalived relies on:
//! `*`, `?`, `[...]` and csh braces `{a,b}` (GLOB_BRACE), directories marked with a trailing
//! `/` (GLOB_MARK), and the counts of missing files and directories that keepalived collects
//! through its GLOB_ALTDIRFUNC hooks to tell "missing" from "matched nothing".

use std::fs;
use std::path::{Path, PathBuf};

/// The result of expanding a pattern.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GlobResult {
    /// Matches, as glob(3) returns them: relative patterns give relative paths; directories end
    /// with `/`.
    pub matches: Vec<String>,
    /// Literal path components that did not exist (glob's `lstat` failed).
    pub missing_files: usize,
    /// Directories that could not be listed (glob's `opendir` failed).
    pub missing_directories: usize,
    /// Whether a wildcard made glob list a directory.
    pub had_wildcards: bool,
}

/// Expands `pattern`; relative patterns are resolved against `base`.
pub fn expand(pattern: &str, base: &Path) -> GlobResult {
    let mut result = GlobResult::default();
    for alternative in expand_braces(pattern) {
        let mut found = Vec::new();
        expand_one(&alternative, base, &mut result, &mut found);
        found.sort();
        result.matches.extend(found);
    }
    result
}

/// Whether `pattern` uses csh braces (a `{` not escaped by a backslash).
pub fn has_brace(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '{' => return true,
            _ => {}
        }
    }
    false
}

/// Expands csh braces: `a{b,c}d` gives `abd`, `acd`. Unbalanced braces are left alone.
pub fn expand_braces(pattern: &str) -> Vec<String> {
    let bytes = pattern.as_bytes();
    let Some(open) = find_unescaped(bytes, 0, b'{') else {
        return vec![pattern.to_owned()];
    };
    // Find the matching close brace and the top-level commas between.
    let mut depth = 0usize;
    let mut commas = Vec::new();
    let mut close = None;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    let Some(close) = close else {
        return vec![pattern.to_owned()];
    };
    let prefix = &pattern[..open];
    let suffix = &pattern[close + 1..];
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let mut out = Vec::new();
    for pair in bounds.windows(2) {
        let middle = &pattern[pair[0] + 1..pair[1]];
        for expanded in expand_braces(&format!("{prefix}{middle}{suffix}")) {
            out.push(expanded);
        }
    }
    out
}

fn find_unescaped(bytes: &[u8], from: usize, wanted: u8) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == wanted {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn has_wildcard(component: &str) -> bool {
    let bytes = component.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'*' | b'?' | b'[' => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

fn unescape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Expands a brace-free pattern, appending to `found`.
fn expand_one(pattern: &str, base: &Path, result: &mut GlobResult, found: &mut Vec<String>) {
    let absolute = pattern.starts_with('/');
    let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    // Each candidate: (path as displayed, path on disk).
    let display_root = if absolute {
        "/".to_owned()
    } else {
        String::new()
    };
    let disk_root = if absolute {
        PathBuf::from("/")
    } else {
        base.to_path_buf()
    };
    let mut candidates = vec![(display_root, disk_root)];

    for (index, component) in components.iter().enumerate() {
        let last = index + 1 == components.len();
        let mut next = Vec::new();
        for (display, disk) in &candidates {
            if has_wildcard(component) {
                result.had_wildcards = true;
                let Ok(entries) = fs::read_dir(disk) else {
                    result.missing_directories += 1;
                    continue;
                };
                let mut names: Vec<String> = entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|name| !name.starts_with('.') || component.starts_with('.'))
                    .filter(|name| fnmatch(component.as_bytes(), name.as_bytes()))
                    .collect();
                names.sort();
                for name in names {
                    let path = disk.join(&name);
                    if !last && !path.is_dir() {
                        continue;
                    }
                    next.push((join_display(display, &name), path));
                }
            } else {
                // Like glob(3), only the last component of a literal path is looked up; a
                // missing directory on the way shows when a later wildcard cannot list it.
                let name = unescape(component);
                let path = disk.join(&name);
                if last && fs::symlink_metadata(&path).is_err() {
                    result.missing_files += 1;
                    continue;
                }
                next.push((join_display(display, &name), path));
            }
        }
        candidates = next;
    }

    for (mut display, disk) in candidates {
        if components.is_empty() {
            continue;
        }
        if disk.is_dir() {
            display.push('/');
        }
        found.push(display);
    }
}

fn join_display(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else if prefix.ends_with('/') {
        format!("{prefix}{name}")
    } else {
        format!("{prefix}/{name}")
    }
}

/// Shell-style matching of one path component: `*`, `?`, `[...]` (with `!`/`^` negation and
/// ranges) and backslash escapes.
pub fn fnmatch(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0usize, 0usize);
    // Where to resume after the last `*`.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    star = Some((p + 1, n));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    n += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next_p)) = match_class(pattern, p, name[n]) {
                        if matched {
                            p = next_p;
                            n += 1;
                            continue;
                        }
                    } else if name[n] == b'[' {
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pattern.len() => {
                    if pattern[p + 1] == name[n] {
                        p += 2;
                        n += 1;
                        continue;
                    }
                }
                c => {
                    if c == name[n] {
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, sn)) => {
                p = sp;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// Matches `c` against the bracket expression starting at `pattern[start] == b'['`.
/// Returns whether it matched and the index after the expression, or `None` if the expression
/// is not closed (then `[` is an ordinary character).
fn match_class(pattern: &[u8], start: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < pattern.len() {
        let lo = pattern[i];
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < pattern.len() && pattern[i + 1] == b'-' && pattern[i + 2] != b']' {
            let hi = pattern[i + 2];
            if lo <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand_in_order_and_nest() {
        assert_eq!(expand_braces("a{b,c}d"), vec!["abd", "acd"]);
        assert_eq!(expand_braces("x{1,{2,3}}"), vec!["x1", "x2", "x3"]);
        assert_eq!(expand_braces("no{brace"), vec!["no{brace"]);
        assert!(has_brace("a{b}"));
        assert!(!has_brace(r"a\{b"));
    }

    #[test]
    fn wildcards_match_like_fnmatch() {
        assert!(fnmatch(b"*.conf", b"a.conf"));
        assert!(!fnmatch(b"*.conf", b"a.cfg"));
        assert!(fnmatch(b"a?c", b"abc"));
        assert!(fnmatch(b"[a-c]x", b"bx"));
        assert!(!fnmatch(b"[!a-c]x", b"bx"));
        assert!(fnmatch(b"*a*b", b"xxaxxb"));
    }

    #[test]
    fn missing_files_and_directories_are_counted() {
        let dir = std::env::temp_dir().join(format!("kc-glob-{}", std::process::id()));
        fs::create_dir_all(dir.join("sub")).unwrap_or_default();
        fs::write(dir.join("sub/b.conf"), "").unwrap_or_default();
        fs::write(dir.join("sub/a.conf"), "").unwrap_or_default();

        let r = expand("sub/*.conf", &dir);
        assert_eq!(r.matches, vec!["sub/a.conf", "sub/b.conf"]);
        assert!(r.had_wildcards);

        let r = expand("nodir/*.conf", &dir);
        assert!(r.matches.is_empty());
        assert_eq!(r.missing_directories, 1);

        let r = expand("sub/c.conf", &dir);
        assert_eq!(r.missing_files, 1);

        let r = expand("sub", &dir);
        assert_eq!(r.matches, vec!["sub/"]);
        let _ = fs::remove_dir_all(&dir);
    }
}
