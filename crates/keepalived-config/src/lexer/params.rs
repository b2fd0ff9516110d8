//! `$NAME=value` parameters and their substitution, as keepalived 2.2.7 does it.
//!
//! A definition line is `$NAME=VALUE` (blanks allowed before `=`); a value ending in `\`
//! continues on the following lines. A use is `$NAME` followed by a blank, `,`, `)` or the end
//! of the line, or `${NAME}` anywhere. Substituted text is scanned again, so parameters may
//! refer to parameters; undefined ones stay as written. A multi-line parameter can only be used
//! alone at the end of a line: its first line replaces the use and the others follow as lines
//! of their own.

use std::time::{SystemTime, UNIX_EPOCH};

use super::text::MappedText;

/// keepalived's line buffer size: a substitution may not make a line this long.
pub const MAX_LINE: usize = 1024;

/// Upper bound on substitutions in one line, against definitions that refer to themselves
/// (keepalived loops for ever on those).
const MAX_SUBSTITUTIONS: usize = 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    Text(String),
    /// `${_PWD}`: the directory of the file being read.
    CurrentDirectory,
    /// `${_INSTANCE}`: the config id.
    Instance,
    /// `${_RANDOM [MIN [MAX]]}`.
    Random,
}

#[derive(Clone, Debug)]
struct Definition {
    name: String,
    value: Value,
    multiline: bool,
    /// How many numeric parameters a use may give (`${_RANDOM 1 10}`).
    max_params: usize,
}

/// The parameters defined so far.
#[derive(Clone, Debug)]
pub struct Definitions {
    defs: Vec<Definition>,
    config_id: String,
    current_directory: String,
    random_state: u64,
}

/// A use of a parameter found in a line.
struct Use {
    def: usize,
    /// Length of the reference after the `$` (name, braces and parameters).
    len: usize,
    params: Option<(u64, Option<u64>)>,
}

/// What a substitution pass did.
#[derive(Debug, Default)]
pub struct Substitution {
    /// Something was replaced.
    pub changed: bool,
    /// The following lines of a multi-line parameter, to be read after this one.
    pub continuation: Option<Vec<String>>,
}

impl Definitions {
    /// The predefined parameters (`_PWD`, `_INSTANCE`, `_RANDOM`, `_HASH`, `_BANG`).
    pub fn new(config_id: &str) -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        let builtin = |name: &str, value: Value, max_params: usize| Definition {
            name: name.to_owned(),
            value,
            multiline: false,
            max_params,
        };
        Definitions {
            defs: vec![
                builtin("_PWD", Value::CurrentDirectory, 0),
                builtin("_INSTANCE", Value::Instance, 0),
                builtin("_RANDOM", Value::Random, 2),
                builtin("_HASH", Value::Text("#".into()), 0),
                builtin("_BANG", Value::Text("!".into()), 0),
            ],
            config_id: config_id.to_owned(),
            current_directory: String::new(),
            random_state: seed | 1,
        }
    }

    /// Sets the directory `${_PWD}` stands for.
    pub fn set_current_directory(&mut self, dir: &str) {
        self.current_directory = dir.to_owned();
    }

    /// Defines or redefines a one-line parameter (used by `~SEQ` and `~LST`).
    pub fn set(&mut self, name: &str, value: &str) {
        match self
            .defs
            .iter_mut()
            .find(|d| d.name == name && !d.multiline)
        {
            Some(def) => def.value = Value::Text(value.to_owned()),
            None => self.defs.push(Definition {
                name: name.to_owned(),
                value: Value::Text(value.to_owned()),
                multiline: false,
                max_params: 0,
            }),
        }
    }

    /// Handles a `$NAME=VALUE` line. Returns the index of the definition if the line is one,
    /// and whether it continues on the next lines.
    pub fn define(&mut self, line: &str) -> Option<(usize, bool)> {
        let rest = line.strip_prefix('$')?;
        let bytes = rest.as_bytes();
        let first = *bytes.first()?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        let name_len = bytes
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .unwrap_or(bytes.len());
        let after_name = &rest[name_len..];
        if !after_name.starts_with('=') {
            // keepalived stops its name scan at the first non-name character; only `=` may follow.
            return None;
        }
        let name = &rest[..name_len];
        let mut value = after_name[1..].trim_start_matches([' ', '\t']).to_owned();
        let multiline = value.ends_with('\\');
        if multiline {
            value.pop();
            let trimmed = value.trim_end_matches([' ', '\t']).len();
            value.truncate(trimmed);
            if !value.is_empty() {
                value.push('\n');
            }
        }
        let index = match self.defs.iter().position(|d| d.name == name) {
            Some(i) => i,
            None => {
                self.defs.push(Definition {
                    name: name.to_owned(),
                    value: Value::Text(String::new()),
                    multiline: false,
                    max_params: 0,
                });
                self.defs.len() - 1
            }
        };
        let def = &mut self.defs[index];
        def.value = Value::Text(value);
        def.multiline = multiline;
        def.max_params = 0;
        Some((index, multiline))
    }

    /// Adds a line to the multi-line definition `index`. `last` is true when the line does not
    /// end with `\`.
    pub fn extend_multiline(&mut self, index: usize, line: &str, last: bool) {
        let Some(def) = self.defs.get_mut(index) else {
            return;
        };
        let Value::Text(value) = &mut def.value else {
            return;
        };
        let mut text = line.to_owned();
        if !last {
            text.pop();
            let trimmed = text.trim_end_matches([' ', '\t']).len();
            text.truncate(trimmed);
            if !text.is_empty() {
                text.push('\n');
            }
        }
        value.push_str(&text);
    }

    /// Ends a multi-line definition; an empty one becomes an ordinary empty parameter.
    pub fn finish_multiline(&mut self, index: usize) {
        let empty = |def: &&mut Definition| matches!(&def.value, Value::Text(v) if v.is_empty());
        if let Some(def) = self.defs.get_mut(index).filter(empty) {
            def.multiline = false;
        }
    }

    /// Looks for a parameter use at the start of `text` (just after a `$`).
    fn find_use(&self, text: &str) -> Option<Use> {
        let bytes = text.as_bytes();
        let braces = bytes.first() == Some(&b'{');
        let name_start = usize::from(braces);
        let first = *bytes.get(name_start)?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        let mut p = name_start + 1;
        while p < bytes.len() && (bytes[p].is_ascii_alphanumeric() || bytes[p] == b'_') {
            p += 1;
        }
        let name = &text[name_start..p];
        let mut params = None;
        let len;
        if braces {
            let params_start = p;
            while p < bytes.len() && (bytes[p] == b' ' || bytes[p].is_ascii_digit()) {
                p += 1;
            }
            let params_text = &text[params_start..p];
            if !params_text.trim().is_empty() {
                if params_text.ends_with(' ') {
                    return None;
                }
                let mut numbers = params_text
                    .split_whitespace()
                    .map(|n| n.parse::<u64>().unwrap_or(0));
                let min = numbers.next().unwrap_or(0);
                params = Some((min, numbers.next()));
            }
            if bytes.get(p) != Some(&b'}') {
                return None;
            }
            len = p + 1;
        } else {
            if !matches!(bytes.get(p), None | Some(b' ' | b'\t' | b',' | b')')) {
                return None;
            }
            len = p;
        }
        let at_end = len == text.len();
        self.defs
            .iter()
            .position(|d| d.name == name && (at_end || !d.multiline))
            .filter(|&i| params.is_none() || self.defs[i].max_params > 0)
            .map(|def| Use { def, len, params })
    }

    fn value_of(&mut self, u: &Use) -> String {
        match &self.defs[u.def].value {
            Value::Text(t) => t.clone(),
            Value::CurrentDirectory => self.current_directory.clone(),
            Value::Instance => self.config_id.clone(),
            Value::Random => {
                let (min, max) = match u.params {
                    Some((min, Some(max))) => (min, max),
                    Some((min, None)) => (min, 32767),
                    None => (0, 32767),
                };
                let span = max.saturating_sub(min).saturating_add(1);
                min + self.next_random() % span.max(1)
            }
            .to_string(),
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64: any pseudo-random sequence will do, keepalived uses random(3).
        let mut x = self.random_state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random_state = x;
        x
    }

    /// Replaces the parameters used in `line`.
    pub fn substitute(&mut self, line: &mut MappedText) -> Substitution {
        let mut result = Substitution::default();
        let mut pos = 0;
        let mut substitutions = 0;
        while let Some(found) = line.as_str()[pos..].find('$') {
            let dollar = pos + found;
            if dollar + 1 >= line.len() {
                break;
            }
            let Some(u) = self.find_use(&line.as_str()[dollar + 1..]) else {
                pos = dollar + 1;
                continue;
            };
            substitutions += 1;
            if substitutions > MAX_SUBSTITUTIONS {
                break;
            }
            let value = self.value_of(&u);
            let replacement = if self.defs[u.def].multiline {
                let mut lines = value.split('\n').map(str::to_owned);
                let first = lines.next().unwrap_or_default();
                let rest: Vec<String> = lines.collect();
                // A later multi-line use on the same line supersedes the continuation, as in
                // keepalived, which keeps a single pointer per line.
                result.continuation = Some(rest);
                first
            } else {
                value.clone()
            };
            if line.len() + replacement.len() - (u.len + 1) >= MAX_LINE {
                // keepalived gives up on the line ("Parameter substitution on line ... would
                // exceed maximum line length") and keeps what it had.
                result.changed = false;
                return result;
            }
            line.replace_range(dollar..dollar + 1 + u.len, &replacement);
            result.changed = true;
            if value.trim_start_matches([' ', '\t']).starts_with('~') {
                break;
            }
            pos = dollar;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, LinePosition};

    fn text(s: &str) -> MappedText {
        MappedText::from_line(
            s,
            LinePosition {
                file: FileId(0),
                line: 1,
            },
        )
    }

    #[test]
    fn plain_and_braced_uses_are_replaced() {
        let mut d = Definitions::new("vm");
        assert!(d.define("$IF=eth0").is_some());
        let mut t = text("interface $IF");
        assert!(d.substitute(&mut t).changed);
        assert_eq!(t.as_str(), "interface eth0");
        let mut t = text("x${IF}y $IFX ${_INSTANCE}");
        d.substitute(&mut t);
        assert_eq!(t.as_str(), "xeth0y $IFX vm");
    }

    #[test]
    fn undefined_parameters_stay_verbatim() {
        let mut d = Definitions::new("vm");
        let mut t = text("state $P0");
        assert!(!d.substitute(&mut t).changed);
        assert_eq!(t.as_str(), "state $P0");
    }

    #[test]
    fn substituted_text_is_scanned_again() {
        let mut d = Definitions::new("vm");
        d.define("$A=1");
        d.define("$B=$A$A");
        let mut t = text("v ${B}");
        d.substitute(&mut t);
        assert_eq!(t.as_str(), "v $A1");
    }

    #[test]
    fn self_reference_terminates() {
        let mut d = Definitions::new("vm");
        d.define("$A=$A");
        let mut t = text("x $A");
        d.substitute(&mut t);
        assert_eq!(t.as_str(), "x $A");
    }

    #[test]
    fn multiline_definitions_expand_into_lines() {
        let mut d = Definitions::new("vm");
        let (index, multi) = d.define("$BLOCK=a \\").unwrap_or((0, false));
        assert!(multi);
        d.extend_multiline(index, "b\\", false);
        d.extend_multiline(index, "c", true);
        let mut t = text("$BLOCK");
        let s = d.substitute(&mut t);
        assert_eq!(t.as_str(), "a");
        assert_eq!(s.continuation, Some(vec!["b".to_owned(), "c".to_owned()]));
        // Not at the end of a line: a multi-line parameter is not used.
        let mut t = text("$BLOCK x");
        assert!(!d.substitute(&mut t).changed);
    }

    #[test]
    fn random_respects_its_bounds() {
        let mut d = Definitions::new("vm");
        for _ in 0..50 {
            let mut t = text("${_RANDOM 5 7}");
            d.substitute(&mut t);
            let v: u64 = t.as_str().parse().unwrap_or(0);
            assert!((5..=7).contains(&v), "{v}");
        }
    }
}
