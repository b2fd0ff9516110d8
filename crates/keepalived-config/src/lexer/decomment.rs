//! Comment removal, as keepalived 2.2.7 does it.
//!
//! `!` and `#` start a comment anywhere outside double quotes. A backslash before `!` or `#`
//! outside quotes is dropped and protects that character — but only this once: keepalived runs
//! the same function again on the text it hands to its child processes, where the now bare
//! `#` does start a comment. A backslash at the very end of the line is kept (it continues a
//! multi-line `$NAME=` definition). Leading and trailing blanks go.

use super::text::MappedText;
use crate::diagnostics::{ErrorClass, Reporter};

/// What [`decomment`] found besides comments.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decommented {
    /// A double quote was left open; holds the line as keepalived prints it in its message.
    pub unterminated_quote: Option<String>,
}

/// Removes comments, comment escapes and surrounding blanks from `line`.
pub fn decomment(line: &mut MappedText) -> Decommented {
    line.trim_start_blanks();
    // Most lines have nothing to remove but blanks.
    if !line
        .as_str()
        .bytes()
        .any(|b| matches!(b, b'"' | b'\\' | b'!' | b'#'))
    {
        line.trim_end_blanks();
        return Decommented::default();
    }

    let mut in_quote = false;
    let mut comment_start: Option<usize> = None;
    let mut continued = false;
    let mut i = 0;
    while i < line.len() {
        let byte = line.as_str().as_bytes()[i];
        match byte {
            b'"' => {
                if comment_start.is_none() {
                    in_quote = !in_quote;
                }
                i += 1;
            }
            b'\\' => {
                let next = line.as_str().as_bytes().get(i + 1).copied();
                match next {
                    None => {
                        line.truncate(i);
                        continued = true;
                        break;
                    }
                    Some(b'#' | b'!') if !in_quote => {
                        line.remove_range(i..i + 1);
                        i += 1;
                    }
                    Some(_) => i += 2,
                }
            }
            b'!' | b'#' => {
                if !in_quote && comment_start.is_none() {
                    comment_start = Some(i);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }

    let result = Decommented {
        unterminated_quote: in_quote.then(|| line.as_str().to_owned()),
    };

    if let Some(start) = comment_start {
        line.truncate(start.min(line.len()));
    }
    line.trim_end_blanks();
    if continued {
        line.push_str("\\");
    }
    result
}

/// Removes comments from `line`, reporting an open quote as keepalived does.
pub fn decomment_reporting(line: &mut MappedText, out: &mut Reporter) {
    if let Some(text) = decomment(line).unterminated_quote {
        out.report(
            ErrorClass::GeneralError,
            format!("Unterminated quote '{text}'"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, LinePosition};

    fn run(s: &str) -> (String, Decommented) {
        let mut t = MappedText::from_line(
            s,
            LinePosition {
                file: FileId(0),
                line: 1,
            },
        );
        let d = decomment(&mut t);
        (t.as_str().to_owned(), d)
    }

    #[test]
    fn comments_start_anywhere_outside_double_quotes() {
        assert_eq!(run("  priority 100 # the priority").0, "priority 100");
        assert_eq!(run("a ! b").0, "a");
        assert_eq!(run(r#"script "echo #1" # x"#).0, r#"script "echo #1""#);
        assert_eq!(run("a 'C#D'").0, "a 'C");
    }

    #[test]
    fn an_escaped_comment_character_survives_once() {
        let (once, _) = run(r"a A\#B");
        assert_eq!(once, "a A#B");
        assert_eq!(run(&once).0, "a A");
    }

    #[test]
    fn a_trailing_backslash_is_kept_after_trimming() {
        assert_eq!(run("$X=a b   \\").0, "$X=a b\\");
        assert_eq!(run("x # comment \\").0, "x\\");
    }

    #[test]
    fn an_open_quote_is_reported() {
        let (text, d) = run(r#"a "b c"#);
        assert_eq!(text, r#"a "b c"#);
        assert_eq!(d.unterminated_quote.as_deref(), Some(r#"a "b c"#));
    }

    #[test]
    fn offsets_survive_decommenting() {
        let mut t = MappedText::from_line(
            "   ab # c",
            LinePosition {
                file: FileId(0),
                line: 1,
            },
        );
        decomment(&mut t);
        assert_eq!(t.span(0..2).start, 3);
    }
}
