//! `~SEQ(var, start, step, end)` and `~LST(var, v1, v2, …)`: repeat the rest of a line with a
//! parameter set to each value in turn.

use super::params::Definitions;
use super::text::MappedText;

/// One active repetition.
#[derive(Clone, Debug)]
pub struct Sequence {
    kind: Kind,
    /// The text repeated (the rest of the `~SEQ` line).
    text: MappedText,
}

#[derive(Clone, Debug)]
enum Kind {
    Numbers {
        var: String,
        next: i64,
        last: i64,
        step: i64,
        hex: bool,
    },
    List {
        vars: Vec<String>,
        sets: Vec<Vec<String>>,
        next: usize,
    },
}

/// Why a `~SEQ`/`~LST` line was rejected: the messages keepalived reports, in order.
pub type Rejection = Vec<String>;

impl Sequence {
    /// Produces the next repetition, setting its parameters. Returns the text and whether this
    /// was the last one.
    pub fn next(&mut self, defs: &mut Definitions) -> (MappedText, bool) {
        match &mut self.kind {
            Kind::Numbers {
                var,
                next,
                last,
                step,
                hex,
            } => {
                let value = if *hex {
                    format!("{:x}", *next as u64)
                } else {
                    next.to_string()
                };
                defs.set(var, &value);
                // keepalived's C counter wraps past the largest number and never ends; this one
                // ends there.
                let done = match next.checked_add(*step) {
                    Some(following) => {
                        *next = following;
                        (*step > 0 && *next > *last) || (*step < 0 && *next < *last)
                    }
                    None => true,
                };
                (self.text.clone(), done)
            }
            Kind::List { vars, sets, next } => {
                if let Some(set) = sets.get(*next) {
                    for (var, value) in vars.iter().zip(set) {
                        defs.set(var, value);
                    }
                }
                *next += 1;
                (self.text.clone(), *next >= sets.len())
            }
        }
    }
}

/// C's `strtol(s, &end, 0)`: optional blanks and sign, then decimal, `0x` hex or `0` octal.
/// Returns the value and the number of bytes used (0 if no digits).
fn strtol(s: &str) -> (i64, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut negative = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        negative = b[i] == b'-';
        i += 1;
    }
    let (radix, digits_start) = if b.get(i) == Some(&b'0')
        && matches!(b.get(i + 1), Some(b'x' | b'X'))
        && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        (16, i + 2)
    } else if b.get(i) == Some(&b'0') {
        (8, i)
    } else {
        (10, i)
    };
    let mut j = digits_start;
    let mut value: i64 = 0;
    while j < b.len() {
        let Some(d) = (b[j] as char).to_digit(radix) else {
            break;
        };
        value = value
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
        j += 1;
    }
    if j == digits_start {
        return (0, 0);
    }
    (if negative { -value } else { value }, j)
}

fn skip_blanks(s: &str) -> &str {
    s.trim_start_matches([' ', '\t'])
}

/// Parses a `~SEQ` line. `defs` substitutes parameters used in the numbers.
pub fn parse_seq(line: &MappedText, defs: &mut Definitions) -> Result<Sequence, Rejection> {
    let full = line.as_str();
    let invalid_definition = || {
        vec![
            format!("Invalid ~SEQ definition '{full}'"),
            format!("Invalid ~SEQ specification '{full}'"),
        ]
    };
    let only_specification = || vec![format!("Invalid ~SEQ specification '{full}'")];

    let mut rest = &full[4..];
    let hex = rest.starts_with('x');
    if hex {
        rest = &rest[1..];
    }
    rest = skip_blanks(rest);
    let Some(after_paren) = rest.strip_prefix('(') else {
        return Err(only_specification());
    };
    let rest = skip_blanks(after_paren);
    let var_len = rest.find([' ', '\t', ',', ')']).unwrap_or(rest.len());
    let var = &rest[..var_len];
    let after_var = skip_blanks(&rest[var_len..]);
    if after_var.is_empty() || after_var.starts_with(')') || var.is_empty() {
        return Err(invalid_definition());
    }
    let numbers_start = skip_blanks(&after_var[1..]);
    let Some(close) = numbers_start.find(')') else {
        return Err(invalid_definition());
    };
    let numbers_text = &numbers_start[..=close];
    if numbers_text.len() + 1 > 64 {
        let mut r = vec![format!("~SEQ parameter strings too long '{full}'")];
        r.extend(only_specification());
        return Err(r);
    }
    let mut numbers = MappedText::synthetic(numbers_text, line.position(), 0);
    if defs.substitute(&mut numbers).continuation.is_some() {
        let mut r = vec![format!("~SEQ parameter is multiline definition '{full}'")];
        r.extend(only_specification());
        return Err(r);
    }

    let mut values = Vec::new();
    let mut p = numbers.as_str();
    let (start, step, end) = loop {
        let (value, used) = strtol(p);
        values.push(value);
        p = skip_blanks(&p[used..]);
        if p.starts_with(')') {
            break match values.as_slice() {
                [end] => (
                    if *end < 0 { -1 } else { 1 },
                    if *end < 1 { -1 } else { 1 },
                    *end,
                ),
                [start, end] => (*start, if start <= end { 1 } else { -1 }, *end),
                [start, step, end] => {
                    if *step == 0 || (start < end && *step < 0) || (start > end && *step > 0) {
                        let mut r = vec![format!("Invalid ~SEQ values '{full}'")];
                        r.extend(only_specification());
                        return Err(r);
                    }
                    (*start, *step, *end)
                }
                _ => return Err(invalid_definition()),
            };
        }
        if !p.starts_with(',') || values.len() == 3 {
            return Err(invalid_definition());
        }
        p = &p[1..];
    };
    if hex && (start < 0 || end < 0) {
        let mut r = vec![format!("~SEQx is only valid for positive numbers '{full}'")];
        r.extend(only_specification());
        return Err(r);
    }

    // The repeated text starts after the closing parenthesis and any blanks.
    let close_in_full = full.len() - numbers_start.len() + close;
    let body_start = close_in_full
        + 1
        + (full[close_in_full + 1..].len() - skip_blanks(&full[close_in_full + 1..]).len());
    Ok(Sequence {
        kind: Kind::Numbers {
            var: var.to_owned(),
            next: start,
            last: end,
            step,
            hex,
        },
        text: line.slice(body_start..full.len()),
    })
}

/// Parses a `~LST` line: `~LST(var, v1, v2)` or `~LST({a, b}, {1, 2}, {3, 4})`.
pub fn parse_lst(line: &MappedText) -> Result<Sequence, Rejection> {
    let full = line.as_str();
    let reject = || vec![format!("Invalid ~LST specification '{full}'")];
    let bytes = full.as_bytes();
    let mut p = 4;
    let skip = |mut i: usize| {
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        i
    };
    let word_end = |i: usize, stops: &[u8]| {
        let mut j = i;
        while j < bytes.len() && !stops.contains(&bytes[j]) {
            j += 1;
        }
        j
    };
    p = skip(p);
    if bytes.get(p) != Some(&b'(') {
        return Err(reject());
    }
    p = skip(p + 1);

    // The parameter names.
    let mut vars = Vec::new();
    let grouped = bytes.get(p) == Some(&b'{');
    let end_char = if grouped { b'}' } else { b',' };
    if grouped {
        p = skip(p + 1);
    }
    loop {
        let end = word_end(p, b" \t,}");
        vars.push(full[p..end].to_owned());
        p = skip(end);
        if bytes.get(p) == Some(&end_char) {
            break;
        }
        if bytes.get(p) != Some(&b',') {
            return Err(reject());
        }
        p = skip(p + 1);
    }
    if bytes.get(p) == Some(&b'}') {
        p = skip(p + 1);
    }
    if bytes.get(p) != Some(&b',') {
        return Err(reject());
    }
    p = skip(p + 1);

    // The value sets.
    let mut sets = Vec::new();
    loop {
        let grouped = bytes.get(p) == Some(&b'{');
        let end_char = if grouped { b'}' } else { b',' };
        if grouped {
            p = skip(p + 1);
        }
        let mut set = Vec::new();
        loop {
            let end = word_end(p, b" \t,})");
            set.push(full[p..end].to_owned());
            p = skip(end);
            if bytes.get(p) == Some(&end_char) || (bytes.get(p) == Some(&b')') && end_char == b',')
            {
                break;
            }
            if bytes.get(p) != Some(&b',') {
                return Err(reject());
            }
            p = skip(p + 1);
            if set.len() > vars.len() - 1 {
                return Err(vec![
                    format!("~LST specification has too many values '{full}'"),
                    format!("Invalid ~LST specification '{full}'"),
                ]);
            }
        }
        set.resize(vars.len(), String::new());
        sets.push(set);
        if bytes.get(p) == Some(&b'}') && end_char == b'}' {
            p = skip(p + 1);
        }
        if bytes.get(p) == Some(&b')') {
            break;
        }
        if bytes.get(p) != Some(&b',') {
            return Err(reject());
        }
        p = skip(p + 1);
    }
    if vars.is_empty() || sets.is_empty() {
        return Err(reject());
    }
    let body_start = skip(p + 1).min(full.len());
    Ok(Sequence {
        kind: Kind::List {
            vars,
            sets,
            next: 0,
        },
        text: line.slice(body_start..full.len()),
    })
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

    fn run(mut seq: Sequence, defs: &mut Definitions) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let (mut t, done) = seq.next(defs);
            defs.substitute(&mut t);
            out.push(t.as_str().to_owned());
            if done || out.len() > 100 {
                return out;
            }
        }
    }

    #[test]
    fn seq_counts_with_start_step_and_end() {
        let mut defs = Definitions::new("vm");
        let seq = parse_seq(&text("~SEQ(i, 1, 2, 5) 10.0.0.${i}/24"), &mut defs)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            run(seq, &mut defs),
            vec!["10.0.0.1/24", "10.0.0.3/24", "10.0.0.5/24"]
        );
        let seq = parse_seq(&text("~SEQ(n,3) x$n"), &mut defs).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(run(seq, &mut defs), vec!["x1", "x2", "x3"]);
        let seq =
            parse_seq(&text("~SEQx(n,9,11) ::$n"), &mut defs).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(run(seq, &mut defs), vec!["::9", "::a", "::b"]);
    }

    #[test]
    fn bad_seq_lines_are_reported_like_keepalived() {
        let mut defs = Definitions::new("vm");
        let e = parse_seq(&text("~SEQ(i, 5, 1, 1) x"), &mut defs)
            .err()
            .unwrap_or_default();
        assert_eq!(e[0], "Invalid ~SEQ values '~SEQ(i, 5, 1, 1) x'");
        let e = parse_seq(&text("~SEQ i"), &mut defs)
            .err()
            .unwrap_or_default();
        assert_eq!(e, vec!["Invalid ~SEQ specification '~SEQ i'"]);
    }

    #[test]
    fn lst_sets_several_parameters() {
        let mut defs = Definitions::new("vm");
        let seq =
            parse_lst(&text("~LST({a,b},{1,x},{2,y}) ${a}-$b")).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(run(seq, &mut defs), vec!["1-x", "2-y"]);
        let seq = parse_lst(&text("~LST(v, eth0, eth1) if $v")).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(run(seq, &mut defs), vec!["if eth0", "if eth1"]);
    }
}
