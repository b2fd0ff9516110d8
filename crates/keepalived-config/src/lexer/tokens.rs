//! Splitting a logical line into words.
//!
//! Ordinary keywords see words separated by blanks, where a double-quoted string is one word
//! without its quotes (keepalived's `alloc_strvec`). Script values are split again, shell-like,
//! by [`split_command`] (keepalived's `alloc_strvec_quoted_escaped`).

use std::ops::Range;
use std::rc::Rc;

use super::text::MappedText;
use crate::source::Span;

/// Characters that separate words.
const WHITE_SPACE: &str = " \t\x0c\n\r\x0b";

/// A word of a configuration line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The word, without quotes.
    pub text: Word,
    /// Where it is in the file.
    pub span: Span,
}

/// The text of a word. There is one per word of every line read, and most lines are read
/// verbatim from their file: such a word is a view of the file's text (shared, not copied);
/// only words of edited lines have text of their own.
#[derive(Clone)]
pub struct Word(WordRepr);

#[derive(Clone)]
enum WordRepr {
    /// The bytes `start..end` of a file's text.
    Shared {
        all: Rc<String>,
        start: u32,
        end: u32,
    },
    Owned(Box<str>),
}

impl Word {
    /// A word with the text `s`.
    pub fn new(s: &str) -> Self {
        Word(WordRepr::Owned(s.into()))
    }

    /// The bytes `range` of `all`, which must be on character boundaries: the splitter cuts
    /// at ASCII separators, so this is not checked again for every word (a word cut elsewhere
    /// would read as empty, see [`Word::as_str`]).
    fn shared(all: &Rc<String>, range: Range<usize>) -> Self {
        debug_assert!(
            all.get(range.clone()).is_some(),
            "a word inside a character"
        );
        match (u32::try_from(range.start), u32::try_from(range.end)) {
            (Ok(start), Ok(end)) => Word(WordRepr::Shared {
                all: Rc::clone(all),
                start,
                end,
            }),
            _ => Word::new(all.get(range).unwrap_or_default()),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            WordRepr::Shared { all, start, end } => {
                all.get(*start as usize..*end as usize).unwrap_or_default()
            }
            WordRepr::Owned(s) => s,
        }
    }
}

impl PartialEq for Word {
    fn eq(&self, other: &Word) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Word {}

impl std::ops::Deref for Word {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Word {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Word {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Word {
    fn from(s: &str) -> Self {
        Word::new(s)
    }
}

impl From<Word> for String {
    fn from(w: Word) -> String {
        match w.0 {
            WordRepr::Owned(s) => s.into(),
            WordRepr::Shared { .. } => w.as_str().to_owned(),
        }
    }
}

impl PartialEq<str> for Word {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Word {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Word {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl Token {
    /// The word.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The words of a line, and a quote left open if there was one.
#[derive(Debug)]
pub struct Words {
    /// The words.
    pub tokens: Vec<Token>,
    /// The line had a `"` without its closing partner; keepalived stops splitting there.
    pub unmatched_quote: bool,
}

/// Whether `b` separates words (a match, not a search through [`WHITE_SPACE`]: this runs for
/// every byte of the configuration). All separators are ASCII, so a byte loop splits UTF-8
/// text on character boundaries.
fn is_white_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x0c' | b'\n' | b'\r' | b'\x0b')
}

/// Splits a line into words.
pub fn split_words(line: &MappedText) -> Words {
    // Most lines have a keyword and a value or two.
    split_words_into(line, Vec::with_capacity(4))
}

/// Splits a line into words, appended to `tokens` (an empty vector whose memory is reused).
pub(crate) fn split_words_into(line: &MappedText, mut tokens: Vec<Token>) -> Words {
    let text = line.as_str();
    let bytes = text.as_bytes();
    let shared = line.shared_text();
    let mut i = 0;
    loop {
        while i < bytes.len() && is_white_space(bytes[i]) {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        // A quoted word runs to the next quote; a bare one to a blank or a quote.
        let (start, end) = if bytes[i] == b'"' {
            let Some(close) = text[i + 1..].find('"') else {
                return Words {
                    tokens,
                    unmatched_quote: true,
                };
            };
            i += close + 2;
            (i - close - 1, i - 1)
        } else {
            let start = i;
            while i < bytes.len() && !is_white_space(bytes[i]) && bytes[i] != b'"' {
                i += 1;
            }
            (start, i)
        };
        let span = if end > start {
            line.span(start..end)
        } else {
            line.span(start.saturating_sub(1)..start)
        };
        tokens.push(Token {
            text: match shared {
                Some((all, base)) => Word::shared(all, base + start..base + end),
                None => Word::new(&text[start..end]),
            },
            span,
        });
    }
    Words {
        tokens,
        unmatched_quote: false,
    }
}

/// Why a command line could not be split.
#[derive(Debug, PartialEq, Eq)]
pub enum CommandError {
    /// A quote was not closed: keepalived reports "String '…': missing terminating …".
    MissingQuote(char),
    /// The line ends with a lone backslash.
    MissingEscapeChar,
}

/// Splits a script command line into argv like keepalived: blanks separate words, `"…"` and
/// `'…'` quote, and backslash escapes (`\n`, `\t`, `\xHH`, `\0oo`, `\cX`, …) are decoded.
pub fn split_command(src: &str) -> Result<Vec<String>, CommandError> {
    let chars: Vec<char> = src.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        while i < chars.len() && WHITE_SPACE.contains(chars[i]) {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let mut word = String::new();
        while i < chars.len() {
            let c = chars[i];
            let special = match quote {
                Some('"') => c == '"' || c == '\\',
                Some(_) => c == '\'' || c == '\\',
                None => WHITE_SPACE.contains(c) || c == '\'' || c == '"' || c == '\\',
            };
            if !special {
                word.push(c);
                i += 1;
                continue;
            }
            if c == '\\' {
                i += 1;
                if i >= chars.len() {
                    return Err(CommandError::MissingEscapeChar);
                }
                let (decoded, used) = decode_escape(&chars[i..]);
                word.push(decoded);
                i += used;
                continue;
            }
            if quote.is_some() {
                quote = None;
                i += 1;
                continue;
            }
            if c == '"' || c == '\'' {
                quote = Some(c);
                i += 1;
                continue;
            }
            break;
        }
        if let Some(q) = quote {
            if i >= chars.len() {
                return Err(CommandError::MissingQuote(q));
            }
        }
        words.push(word);
    }
    if let Some(q) = quote {
        return Err(CommandError::MissingQuote(q));
    }
    Ok(words)
}

/// Decodes the escape whose first character (after the backslash) is `s[0]`.
fn decode_escape(s: &[char]) -> (char, usize) {
    let c = s[0];
    if c == 'x' && s.get(1).is_some_and(char::is_ascii_hexdigit) {
        let mut value: u32 = 0;
        let mut used = 1;
        while let Some(d) = s.get(used).and_then(|c| c.to_digit(16)) {
            value = (value << 4 | d) & 0xff;
            used += 1;
        }
        return (char::from(value as u8), used);
    }
    if c == 'c' && s.len() > 1 {
        return (char::from((s[1] as u32 & 0x1f) as u8), 2);
    }
    if ('0'..='7').contains(&c) {
        let mut value = c as u32 - '0' as u32;
        let mut used = 1;
        while used < 3 && s.get(used).is_some_and(|d| ('0'..='7').contains(d)) {
            value = (value << 3) + (s[used] as u32 - '0' as u32);
            used += 1;
        }
        return (char::from((value & 0xff) as u8), used);
    }
    let decoded = match c {
        'a' => '\x07',
        'b' => '\x08',
        'E' => '\x1b',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        other => other,
    };
    (decoded, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, LinePosition};

    fn words(s: &str) -> Vec<String> {
        let t = MappedText::from_line(
            s,
            LinePosition {
                file: FileId(0),
                line: 1,
            },
        );
        split_words(&t)
            .tokens
            .into_iter()
            .map(|t| t.text.into())
            .collect()
    }

    #[test]
    fn quotes_group_words_but_split_from_glued_text() {
        assert_eq!(
            words(r#"notify "/bin/x a b" root"#),
            vec!["notify", "/bin/x a b", "root"]
        );
        assert_eq!(
            words(r#"interface abcd" efg h "mnop"#),
            vec!["interface", "abcd", " efg h ", "mnop"]
        );
        assert_eq!(words("a\tb   c"), vec!["a", "b", "c"]);
        assert_eq!(words(r#"x """#), vec!["x", ""]);
    }

    #[test]
    fn an_unmatched_quote_stops_the_split() {
        let t = MappedText::from_line(
            r#"a b "c d"#,
            LinePosition {
                file: FileId(0),
                line: 1,
            },
        );
        let w = split_words(&t);
        assert!(w.unmatched_quote);
        assert_eq!(w.tokens.len(), 2);
    }

    #[test]
    fn spans_point_at_the_word() {
        let t = MappedText::from_line(
            r#"  key "va lue""#,
            LinePosition {
                file: FileId(0),
                line: 1,
            },
        );
        let w = split_words(&t);
        assert_eq!(w.tokens[1].span.start, 7);
        assert_eq!(w.tokens[1].span.len, 6);
    }

    #[test]
    fn commands_split_like_a_shell() {
        assert_eq!(
            split_command(r#"/bin/x "a b" 'c d' e\ f"#),
            Ok(vec![
                "/bin/x".into(),
                "a b".into(),
                "c d".into(),
                "e f".into()
            ])
        );
        assert_eq!(
            split_command(r"a\tb \x41\101"),
            Ok(vec!["a\tb".into(), "AA".into()])
        );
        assert_eq!(
            split_command(r#"x "open"#),
            Err(CommandError::MissingQuote('"'))
        );
        assert_eq!(split_command(r"x \"), Err(CommandError::MissingEscapeChar));
    }
}
