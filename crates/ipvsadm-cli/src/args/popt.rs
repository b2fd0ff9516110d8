//! An option scanner that behaves like libpopt 1.19 as ipvsadm uses it (context flags 0, no aliases).
//!
//! ipvsadm's observable behaviour depends on popt's quirks, so they are reproduced here:
//! - options and plain arguments may be interleaved; plain arguments ("leftovers") are kept in
//!   order, and `--` turns everything after it into leftovers; a lone `-` is a leftover too;
//! - long options need two dashes and the whole name (no abbreviations); `--name=value` works;
//! - short options bundle (`-Ln`), and a short option's argument may follow it in the same word
//!   (`-p600`, `-t=1.2.3.4:80`) or be the next word;
//! - a required argument takes the next word even when it starts with `-`; an optional one does
//!   not (`-p -5` leaves `-5` to be read as options);
//! - an option without argument given one (`--numeric=1`, `-n=1`) is an error;
//! - the word an error is reported against is the last word consumed (`poptBadOption`).

/// Whether an option takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A flag.
    None,
    /// Always takes an argument.
    Required,
    /// Takes an argument when one is attached or the next word does not start with `-`.
    Optional,
}

/// One entry of an option table.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec<T> {
    /// The long name, used as `--long`.
    pub long: &'static str,
    /// The short letter, if any.
    pub short: Option<u8>,
    /// Whether it takes an argument.
    pub arg: ArgKind,
    /// What the caller gets back when the option is found.
    pub tag: T,
}

/// An option table with its short letters indexed: a rule file has several short options on
/// each of its lines, and each was found by walking the table.
pub struct OptionTable<T: 'static> {
    specs: &'static [OptionSpec<T>],
    /// For each ASCII letter, 1 + the index of the first entry with that short letter, or 0.
    by_letter: [u8; 128],
}

impl<T> OptionTable<T> {
    /// Indexes `specs` (at most 255 entries; the first entry with a letter wins, as in popt).
    pub const fn new(specs: &'static [OptionSpec<T>]) -> Self {
        assert!(specs.len() < 256, "an option table has at most 255 entries");
        let mut by_letter = [0; 128];
        let mut index = 0;
        while index < specs.len() {
            if let Some(letter) = specs[index].short {
                if letter < 128 && by_letter[letter as usize] == 0 {
                    by_letter[letter as usize] = index as u8 + 1;
                }
            }
            index += 1;
        }
        OptionTable { specs, by_letter }
    }

    /// The entries, in order.
    pub fn specs(&self) -> &'static [OptionSpec<T>] {
        self.specs
    }

    /// The first entry with short letter `letter`.
    fn short(&self, letter: u8) -> Option<&'static OptionSpec<T>> {
        let index = usize::from(*self.by_letter.get(usize::from(letter))?);
        self.specs.get(index.checked_sub(1)?)
    }
}

/// popt's errors, with popt's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoptError {
    /// `POPT_ERROR_NOARG`.
    MissingArgument,
    /// `POPT_ERROR_BADOPT`.
    UnknownOption,
    /// `POPT_ERROR_UNWANTEDARG`.
    UnwantedArgument,
}

impl PoptError {
    /// The text of `poptStrerror()`.
    pub fn message(self) -> &'static str {
        match self {
            PoptError::MissingArgument => "missing argument",
            PoptError::UnknownOption => "unknown option",
            PoptError::UnwantedArgument => "option does not take an argument",
        }
    }
}

/// An option found on the command line, with its argument (borrowed from the words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'a, T> {
    /// The option's tag.
    pub tag: T,
    /// Its argument, for options that take one (absent for an optional argument not given).
    pub arg: Option<&'a str>,
}

/// Walks the words of a command line (without the program name) the way `poptGetNextOpt` does.
pub struct Scanner<'a, T: 'static, S> {
    table: &'a OptionTable<T>,
    words: &'a [S],
    /// Index of the next word to read.
    next: usize,
    /// The rest of a bundle of short options: (word index, byte offset).
    pending_short: Option<(usize, usize)>,
    /// After `--`, every word is a leftover.
    rest_leftover: bool,
    leftovers: Vec<&'a str>,
}

impl<'a, T: Copy, S: AsRef<str>> Scanner<'a, T, S> {
    /// A scanner over `words` (the arguments after the program name).
    pub fn new(table: &'a OptionTable<T>, words: &'a [S]) -> Self {
        Scanner {
            table,
            words,
            next: 0,
            pending_short: None,
            rest_leftover: false,
            leftovers: Vec::new(),
        }
    }

    /// The next option, `None` at the end, or popt's error.
    pub fn next_option(&mut self) -> Option<Result<Found<'a, T>, PoptError>> {
        loop {
            if let Some((word, offset)) = self.pending_short.take() {
                return Some(self.short_option(word, offset));
            }
            let word_index = self.next;
            let word = self.words.get(word_index)?.as_ref();
            self.next += 1;

            if self.rest_leftover || !word.starts_with('-') || word == "-" {
                self.leftovers.push(word);
                continue;
            }
            if word == "--" {
                self.rest_leftover = true;
                continue;
            }
            if let Some(long) = word.strip_prefix("--") {
                return Some(self.long_option(long));
            }
            // A single dash: popt tries long options marked "one dash" first; ipvsadm has none.
            return Some(self.short_option(word_index, 1));
        }
    }

    fn long_option(&mut self, text: &'a str) -> Result<Found<'a, T>, PoptError> {
        let (name, attached) = match text.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (text, None),
        };
        let spec = self
            .table
            .specs()
            .iter()
            .find(|spec| spec.long == name)
            .ok_or(PoptError::UnknownOption)?;
        match spec.arg {
            ArgKind::None if attached.is_some() => Err(PoptError::UnwantedArgument),
            ArgKind::None => Ok(Found {
                tag: spec.tag,
                arg: None,
            }),
            _ => match attached {
                Some(value) => Ok(Found {
                    tag: spec.tag,
                    arg: Some(value),
                }),
                None => self.argument_from_next_word(spec),
            },
        }
    }

    fn short_option(
        &mut self,
        word_index: usize,
        offset: usize,
    ) -> Result<Found<'a, T>, PoptError> {
        let text: &'a str = self.words[word_index].as_ref();
        let word = text.as_bytes();
        let letter = word[offset];
        let spec = self.table.short(letter).ok_or(PoptError::UnknownOption)?;
        let rest = &word[offset + 1..];
        match spec.arg {
            ArgKind::None => {
                if rest.first() == Some(&b'=') {
                    return Err(PoptError::UnwantedArgument);
                }
                if !rest.is_empty() {
                    self.pending_short = Some((word_index, offset + 1));
                }
                Ok(Found {
                    tag: spec.tag,
                    arg: None,
                })
            }
            _ if !rest.is_empty() => {
                // The letter is ASCII, so the rest of the word starts on a character.
                let rest = &text[offset + 1..];
                Ok(Found {
                    tag: spec.tag,
                    arg: Some(rest.strip_prefix('=').unwrap_or(rest)),
                })
            }
            _ => self.argument_from_next_word(spec),
        }
    }

    fn argument_from_next_word(&mut self, spec: &OptionSpec<T>) -> Result<Found<'a, T>, PoptError> {
        match self.words.get(self.next).map(AsRef::as_ref) {
            None if spec.arg == ArgKind::Optional => Ok(Found {
                tag: spec.tag,
                arg: None,
            }),
            None => Err(PoptError::MissingArgument),
            Some(word) if spec.arg == ArgKind::Optional && word.starts_with('-') => Ok(Found {
                tag: spec.tag,
                arg: None,
            }),
            Some(word) => {
                self.next += 1;
                Ok(Found {
                    tag: spec.tag,
                    arg: Some(word),
                })
            }
        }
    }

    /// The word popt blames for the last option or error (`poptBadOption`): the last word read.
    pub fn last_word(&self) -> &'a str {
        match self
            .next
            .checked_sub(1)
            .and_then(|index| self.words.get(index))
        {
            Some(word) => word.as_ref(),
            None => "",
        }
    }

    /// Takes the next plain argument (`poptGetArg`); call after the options are read.
    pub fn take_leftover(&mut self) -> Option<&'a str> {
        if self.leftovers.is_empty() {
            None
        } else {
            Some(self.leftovers.remove(0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Tag {
        List,
        Numeric,
        Tcp,
        Persistent,
    }

    static TABLE: OptionTable<Tag> = OptionTable::new(&[
        OptionSpec {
            long: "list",
            short: Some(b'L'),
            arg: ArgKind::None,
            tag: Tag::List,
        },
        OptionSpec {
            long: "numeric",
            short: Some(b'n'),
            arg: ArgKind::None,
            tag: Tag::Numeric,
        },
        OptionSpec {
            long: "tcp-service",
            short: Some(b't'),
            arg: ArgKind::Required,
            tag: Tag::Tcp,
        },
        OptionSpec {
            long: "persistent",
            short: Some(b'p'),
            arg: ArgKind::Optional,
            tag: Tag::Persistent,
        },
    ]);

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    type Scanned = Result<(Tag, Option<String>), PoptError>;

    fn scan(line: &str) -> (Vec<Scanned>, Vec<String>) {
        let words = words(line);
        let mut scanner = Scanner::new(&TABLE, &words);
        let mut found = Vec::new();
        while let Some(item) = scanner.next_option() {
            let stop = item.is_err();
            found.push(item.map(|found| (found.tag, found.arg.map(str::to_owned))));
            if stop {
                break;
            }
        }
        let mut leftovers = Vec::new();
        while let Some(word) = scanner.take_leftover() {
            leftovers.push(word.to_owned());
        }
        (found, leftovers)
    }

    fn ok(tag: Tag, arg: Option<&str>) -> Scanned {
        Ok((tag, arg.map(str::to_owned)))
    }

    #[test]
    fn bundled_short_options() {
        assert_eq!(
            scan("-Ln").0,
            vec![ok(Tag::List, None), ok(Tag::Numeric, None)]
        );
    }

    #[test]
    fn bundled_option_takes_the_next_word() {
        assert_eq!(
            scan("-Lt 1.2.3.4:80").0,
            vec![ok(Tag::List, None), ok(Tag::Tcp, Some("1.2.3.4:80"))]
        );
    }

    #[test]
    fn attached_arguments() {
        assert_eq!(
            scan("-t1.2.3.4 -t=5.6.7.8 --tcp-service=x").0,
            vec![
                ok(Tag::Tcp, Some("1.2.3.4")),
                ok(Tag::Tcp, Some("5.6.7.8")),
                ok(Tag::Tcp, Some("x"))
            ]
        );
    }

    #[test]
    fn required_argument_takes_a_dash_word() {
        assert_eq!(scan("-t -n").0, vec![ok(Tag::Tcp, Some("-n"))]);
    }

    #[test]
    fn optional_argument_skips_a_dash_word() {
        assert_eq!(
            scan("-p -n").0,
            vec![ok(Tag::Persistent, None), ok(Tag::Numeric, None)]
        );
        assert_eq!(scan("-p 600").0, vec![ok(Tag::Persistent, Some("600"))]);
        assert_eq!(scan("-p600").0, vec![ok(Tag::Persistent, Some("600"))]);
        assert_eq!(scan("-p").0, vec![ok(Tag::Persistent, None)]);
    }

    #[test]
    fn missing_argument() {
        assert_eq!(
            scan("-L -t").0.last(),
            Some(&Err(PoptError::MissingArgument))
        );
    }

    #[test]
    fn no_abbreviations_and_unknown_letters() {
        assert_eq!(scan("--lis").0, vec![Err(PoptError::UnknownOption)]);
        assert_eq!(
            scan("-Lq").0,
            vec![ok(Tag::List, None), Err(PoptError::UnknownOption)]
        );
    }

    #[test]
    fn unwanted_arguments() {
        assert_eq!(
            scan("--numeric=1").0,
            vec![Err(PoptError::UnwantedArgument)]
        );
        assert_eq!(scan("-n=1").0, vec![Err(PoptError::UnwantedArgument)]);
    }

    #[test]
    fn leftovers_keep_their_order() {
        let (found, leftovers) = scan("a -L b -- -n c - d");
        assert_eq!(found, vec![ok(Tag::List, None)]);
        assert_eq!(leftovers, words("a b -n c - d"));
    }

    #[test]
    fn blamed_word_is_the_last_word_read() {
        let words = words("-L -Lq");
        let mut scanner = Scanner::new(&TABLE, &words);
        assert!(scanner.next_option().is_some_and(|r| r.is_ok()));
        assert!(scanner.next_option().is_some_and(|r| r.is_ok()));
        assert_eq!(scanner.next_option(), Some(Err(PoptError::UnknownOption)));
        assert_eq!(scanner.last_word(), "-Lq");
    }

    #[test]
    fn a_letter_finds_the_first_entry_that_has_it() {
        static DOUBLED: OptionTable<Tag> = OptionTable::new(&[
            OptionSpec {
                long: "numeric",
                short: Some(b'n'),
                arg: ArgKind::None,
                tag: Tag::Numeric,
            },
            OptionSpec {
                long: "list",
                short: Some(b'n'),
                arg: ArgKind::None,
                tag: Tag::List,
            },
            OptionSpec {
                long: "persistent",
                short: None,
                arg: ArgKind::Optional,
                tag: Tag::Persistent,
            },
        ]);
        for table in [&TABLE, &DOUBLED] {
            for letter in 0..=u8::MAX {
                let walked = table.specs().iter().find(|spec| spec.short == Some(letter));
                assert_eq!(
                    table.short(letter).map(|spec| spec.tag),
                    walked.map(|spec| spec.tag),
                    "{letter}"
                );
            }
        }
    }
}
