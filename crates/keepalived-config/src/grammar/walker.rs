//! The block walker: reads logical lines and dispatches them to keyword handlers, exactly as
//! keepalived 2.2.7's `process_stream` does — including its error recovery.
//!
//! Keywords are looked up (case-sensitively) in the table of the current block. A keyword with
//! a block of its own descends into it; `}` goes back up. A keyword of a block the current
//! process does not own is skipped by counting braces. An unknown keyword is reported and its
//! line dropped — but a `{` after it is then "unexpected", the lines of its block are read at
//! the current level, and its `}` closes the *enclosing* block: 2.2.7's most surprising quirk,
//! kept because it decides what a configuration means.

use super::keywords::{Keyword, Keywords, Owner, ROOT};
use super::memo::{self, ReadMemo};
use super::state::State;
use crate::diagnostics::suggest;
use crate::diagnostics::{ErrorClass, Reporter};
use crate::env::Environment;
use crate::lexer::reader::PlainBlock;
use crate::lexer::tokens::split_words_into;
use crate::lexer::{LineReader, MappedText, Token};
use crate::model::GlobalDefs;
use crate::process::Process;

/// keepalived stopped reading: a keyword missing a required argument ends the program with
/// exit status 2. The message has already been reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abort;

/// The result of a handler.
pub type HandlerResult = Result<(), Abort>;

/// The default script user, as far as it is known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DefaultUser {
    /// Not looked up yet.
    #[default]
    Unresolved,
    /// Scripts without a user run as this one.
    Resolved(crate::model::ScriptUser),
    /// `script_user` or `keepalived_script` could not be resolved: scripts without a user are
    /// dropped.
    Failed,
}

/// What a parser leaves behind.
pub struct Parts<'a> {
    /// The line reader (with the parent's consolidated copy).
    pub reader: LineReader<'a>,
    /// The messages.
    pub out: Reporter,
    /// What was read.
    pub state: State,
    /// The global definitions.
    pub globals: GlobalDefs,
    /// The default script user.
    pub default_user: DefaultUser,
    /// The owners of the top-level keywords met.
    pub owners_met: OwnersMet,
}

/// Which owners' top-level keywords a reading met.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OwnersMet(u8);

impl OwnersMet {
    fn insert(&mut self, owner: Owner) {
        self.0 |= 1 << owner as u8;
    }

    /// Whether a top-level keyword of `owner` was met.
    pub fn contains(self, owner: Owner) -> bool {
        self.0 & (1 << owner as u8) != 0
    }
}

/// A logical line and its words.
#[derive(Clone, Debug)]
pub struct Line {
    /// The text (after substitutions, without comments), for keywords that re-split it.
    pub text: MappedText,
    /// The words; a block keyword's trailing `{` has been removed.
    pub words: Vec<Token>,
}

impl Line {
    /// The word at `index`.
    pub fn word(&self, index: usize) -> Option<&Token> {
        self.words.get(index)
    }

    /// The text of the word at `index`.
    pub fn text_of(&self, index: usize) -> Option<&str> {
        self.words.get(index).map(Token::as_str)
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether the line has no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The keyword (first word).
    pub fn keyword(&self) -> &str {
        self.text_of(0).unwrap_or("")
    }
}

/// How many lines' word lists are kept for reuse: enough for the nesting of keepalived's blocks.
const SPARE_WORD_LISTS: usize = 8;

/// Reads one process's view of the configuration.
pub struct Parser<'a> {
    reader: LineReader<'a>,
    /// Where messages go.
    pub out: Reporter,
    /// Facts about the machine.
    pub env: &'a dyn Environment,
    /// What has been read so far.
    pub state: State,
    /// The global definitions read by the parent process (the parent fills its own).
    pub globals: GlobalDefs,
    /// The default script user, resolved on first use and kept across processes (under `-t`
    /// keepalived parses for all processes in one, so this is resolved once).
    pub default_user: DefaultUser,
    skip_sublevel: i32,
    level: usize,
    /// The memory of lines' words, kept for the next lines: one allocation less per line. A
    /// block keyword's line keeps its words while its block is read, so there is one per level.
    spare_words: Vec<Vec<Token>>,
    /// The `virtual_server` blocks of the last reading, taken again where unchanged.
    memo: Option<ReadMemo>,
    /// The owners of the top-level keywords met, read or skipped.
    owners_met: OwnersMet,
}

/// What becomes of a `virtual_server` block with a memo.
enum Memo<'a> {
    /// Its draft was taken from the memo; it is not read.
    Taken,
    /// It is read, then remembered if its reading depended on its text alone.
    ReadAndKeep(BeforeBlock<'a>),
    /// It is read (no memo, or a block that cannot be remembered).
    Read,
}

/// What stood before a block was read, to tell whether its reading depended on its text alone.
struct BeforeBlock<'a> {
    block: PlainBlock<'a>,
    said: usize,
    asked: u64,
    virtual_servers: usize,
    default_user: std::mem::Discriminant<DefaultUser>,
}

impl<'a> Parser<'a> {
    /// A parser for `process` over `reader`.
    pub fn new(
        reader: LineReader<'a>,
        process: Process,
        env: &'a dyn Environment,
        globals: GlobalDefs,
        default_user: DefaultUser,
    ) -> Self {
        Parser {
            reader,
            out: Reporter::new(process),
            env,
            state: State::default(),
            globals,
            default_user,
            skip_sublevel: 0,
            level: 0,
            spare_words: Vec::new(),
            memo: None,
            owners_met: OwnersMet::default(),
        }
    }

    /// Takes the `virtual_server` blocks of `memo` where their text is unchanged instead of
    /// reading them, and remembers those of this reading there ([`ReadMemo`]).
    pub fn with_memo(mut self, mut memo: ReadMemo) -> Self {
        memo.begin(&self.globals, &self.default_user);
        self.memo = Some(memo);
        self
    }

    /// The memo given by [`Parser::with_memo`], with the blocks of this reading.
    pub fn take_memo(&mut self) -> Option<ReadMemo> {
        let mut memo = self.memo.take()?;
        memo.end();
        Some(memo)
    }

    /// The process this parser reads for.
    pub fn process(&self) -> Process {
        self.out.process
    }

    /// Reads the whole configuration.
    pub fn run(&mut self) -> HandlerResult {
        self.process_block(ROOT, false)?;
        self.out.position = None;
        if self.reader.open_blocks() > 0 {
            let n = self.reader.open_blocks();
            self.out.report(
                ErrorClass::MissingBlockEnd,
                format!("There are {n} missing '}}'s or extra '{{'s"),
            );
        }
        Ok(())
    }

    /// Takes the parser apart once reading is done.
    pub fn into_parts(self) -> Parts<'a> {
        Parts {
            reader: self.reader,
            out: self.out,
            state: self.state,
            globals: self.globals,
            default_user: self.default_user,
            owners_met: self.owners_met,
        }
    }

    /// The next logical line and its words, or `None` at the end.
    pub fn next_line(&mut self) -> Option<Line> {
        loop {
            let text = self.reader.next_line(&mut self.out)?;
            if let Some(line) = self.split(text) {
                return Some(line);
            }
        }
    }

    /// The words of a logical line; `None` if it has none.
    fn split(&mut self, text: MappedText) -> Option<Line> {
        let words = split_words_into(&text, self.spare_words.pop().unwrap_or_default());
        if words.unmatched_quote {
            self.out.report_at(
                ErrorClass::UnmatchedQuote,
                format!("Unmatched quote: '{}'", text.as_str()),
                text.full_span(),
            );
        }
        if words.tokens.is_empty() {
            self.spare_words.push(words.tokens);
            return None;
        }
        Some(Line {
            text,
            words: words.tokens,
        })
    }

    /// Keeps the memory of a line's words for the next line.
    fn recycle(&mut self, mut words: Vec<Token>) {
        words.clear();
        // A line of many words keeps its memory no longer than itself.
        if words.capacity() <= 16 && self.spare_words.len() < SPARE_WORD_LISTS {
            self.spare_words.push(words);
        }
    }

    /// Skips the rest of the current block (keepalived's `skip_block`). `need_start` when the
    /// block's `{` has not been read yet.
    pub fn skip_block(&mut self, need_start: bool) {
        self.skip_sublevel = if need_start { -1 } else { 1 };
    }

    /// The word at `index`, or keepalived's "missing a parameter" message and [`Abort`].
    pub fn required<'l>(&mut self, line: &'l Line, index: usize) -> Result<&'l Token, Abort> {
        if let Some(token) = line.word(index) {
            return Ok(token);
        }
        let first = line.keyword().to_owned();
        let message = match index.checked_sub(1).and_then(|i| line.text_of(i)) {
            Some(previous) => format!(
                "*** Configuration line starting `{first}` is missing a parameter after keyword `{previous}` at word position {}",
                index + 1
            ),
            None => format!(
                "*** Configuration line starting `{first}` is missing a parameter at word position {}",
                index + 1
            ),
        };
        let span = line.words.last().map(|t| t.span);
        match span {
            Some(span) => self
                .out
                .report_at(ErrorClass::MissingParameter, message, span),
            None => self.out.report(ErrorClass::MissingParameter, message),
        }
        Err(Abort)
    }

    /// Reads the lines of a block of keywords (keepalived's `process_stream`). Returns whether
    /// the block was skipped, in which case its close handler must not run.
    fn process_block(
        &mut self,
        table: &'static [Keyword],
        mut need_start: bool,
    ) -> Result<bool, Abort> {
        let keywords = Keywords::of(table);
        loop {
            if self.level == 0 && self.skip_sublevel == 0 && self.pass_skipped_block(keywords) {
                continue;
            }
            if self.skip_sublevel > 0 {
                self.reader
                    .skip_in_skipped_block(&mut self.out, &mut self.skip_sublevel);
            }
            let Some(text) = self.reader.next_line(&mut self.out) else {
                break;
            };
            // Inside a skipped block only the words `{` and `}` count, and a line without braces
            // and quotes has neither: most of a configuration is skipped by three of the four
            // processes, so this is worth not splitting.
            if self.skip_sublevel > 0
                && !text
                    .as_str()
                    .bytes()
                    .any(|b| matches!(b, b'{' | b'}' | b'"'))
            {
                continue;
            }
            // A block's braces are lines of their own, a third of the lines of a configuration
            // of nested blocks: the usual ones, which open the block or close it, need no words.
            if self.skip_sublevel == 0 && self.level > 0 {
                match text.as_str() {
                    "{" if need_start => {
                        need_start = false;
                        continue;
                    }
                    "}" if !need_start => break,
                    _ => {}
                }
            }
            let Some(mut line) = self.split(text) else {
                continue;
            };

            if self.skip_sublevel == -1 {
                if line.keyword() == "{" {
                    self.skip_sublevel = 1;
                    need_start = false;
                    self.recycle(line.words);
                    continue;
                }
                self.skip_sublevel = 0;
            }
            if self.skip_sublevel != 0 {
                let mut last = line.keyword();
                for word in &line.words {
                    last = word.as_str();
                    match last {
                        "{" => self.skip_sublevel += 1,
                        "}" => {
                            self.skip_sublevel -= 1;
                            if self.skip_sublevel == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let closes = last == "}";
                self.recycle(line.words);
                if closes && self.skip_sublevel == 0 && self.level > 0 {
                    return Ok(true);
                }
                continue;
            }

            let first = line.keyword();
            if need_start {
                need_start = false;
                if first == "{" && self.level > 0 {
                    self.recycle(line.words);
                    continue;
                }
                self.out.report_at(
                    ErrorClass::MissingBlockStart,
                    "Missing '{' at beginning of configuration block",
                    line.words[0].span,
                );
            } else if first == "{" {
                // Inside a block, the `}` matching this `{` will close the enclosing block.
                let hint = (self.level > 0).then(|| {
                    "keepalived does not skip this block: its lines are read as part of the \
                     enclosing block, and its `}` ends the enclosing block"
                        .to_owned()
                });
                match hint {
                    Some(hint) => self.out.report_with_hint(
                        ErrorClass::UnexpectedBlockStart,
                        "Unexpected '{' - ignoring",
                        Some(line.words[0].span),
                        hint,
                    ),
                    None => self.out.report_at(
                        ErrorClass::UnexpectedBlockStart,
                        "Unexpected '{' - ignoring",
                        line.words[0].span,
                    ),
                }
                self.recycle(line.words);
                continue;
            }

            let first = line.keyword();
            if first == "}" && self.level > 0 {
                self.recycle(line.words);
                break;
            }

            let Some(keyword) = keywords.find(first) else {
                self.report_unknown(table, &line);
                self.recycle(line.words);
                continue;
            };
            if self.level == 0 {
                self.owners_met.insert(keyword.owner);
            }

            let active = self.level > 0 || keyword.owner.is_active_in(self.process());
            if !active {
                self.skip_sublevel = if line.words.last().is_some_and(|w| w.as_str() == "{") {
                    1
                } else {
                    -1
                };
            }
            // keepalived does not install the sub-keywords of blocks a process skips: the
            // block is skipped by counting braces at this level.
            let block = if active { keyword.block } else { None };
            let mut start_needed = false;
            if block.is_some() {
                if line.words.last().is_some_and(|w| w.as_str() == "{") {
                    line.words.pop();
                } else {
                    start_needed = true;
                }
            }
            let mut before = None;
            let mut virtual_servers_before = None;
            if self.level == 0 && active && line.keyword() == "virtual_server" {
                virtual_servers_before = Some(self.state.virtual_servers.len());
                match self.remembered_virtual_server() {
                    Memo::Taken => {
                        self.recycle(line.words);
                        continue;
                    }
                    Memo::ReadAndKeep(watch) => before = Some(watch),
                    Memo::Read => {}
                }
            }
            if let (true, Some(handler)) = (active, keyword.handler) {
                handler(self, &line)?;
                self.lint_statements_on_one_line(keywords, &line);
            }
            if let Some(block) = block {
                self.level += 1;
                let skipped = self.process_block(block, start_needed);
                self.level -= 1;
                if let (false, true, Some(close)) = (skipped?, active, keyword.close) {
                    close(self)?;
                }
            }
            if let Some(before) = before {
                self.remember_virtual_server(before);
            }
            // A `virtual_server` line that made no virtual server: had its block been read, it
            // would have gone into the draft before (the handlers work on the last draft), which
            // is then not what its own block made.
            let count = self.state.virtual_servers.len();
            if let (Some(memo), Some(before)) = (self.memo.as_mut(), virtual_servers_before) {
                if count == before && count > 0 {
                    memo.changed_after_reading(count - 1);
                }
            }
            self.recycle(line.words);
        }
        Ok(false)
    }

    /// At the top level of the files: a block of a keyword this process skips, whose lines all
    /// read plainly, is copied for the other processes at once, without its lines being read
    /// one by one only to count its braces. The parent skips every block but its global ones,
    /// a configuration's thousands of `virtual_server` blocks among them.
    fn pass_skipped_block(&mut self, keywords: Keywords) -> bool {
        let Some((words, lines)) = self.reader.plain_block_ahead() else {
            return false;
        };
        // The line's first word, as the line would be split: the block's keyword.
        let first = words.split([' ', '\t']).next().unwrap_or_default();
        let Some(keyword) = keywords.find(first) else {
            return false;
        };
        if keyword.owner.is_active_in(self.process()) {
            return false;
        }
        self.owners_met.insert(keyword.owner);
        self.reader.pass_plain_block(lines, &mut self.out);
        true
    }

    /// At a `virtual_server` line: takes the block's draft from the memo, or says what stands
    /// before it is read when it may be remembered.
    fn remembered_virtual_server(&mut self) -> Memo<'a> {
        let (Some(memo), Some(block)) = (self.memo.as_mut(), self.reader.plain_block()) else {
            return Memo::Read;
        };
        let index = self.state.virtual_servers.len();
        if let Some(draft) = memo.take(block.text, block.start, index) {
            self.state.virtual_servers.push(draft);
            self.reader.skip_plain_block(&block, &mut self.out);
            return Memo::Taken;
        }
        let Some(asked) = self.env.questions_asked() else {
            return Memo::Read;
        };
        Memo::ReadAndKeep(BeforeBlock {
            block,
            said: self.out.count(),
            asked,
            virtual_servers: self.state.virtual_servers.len(),
            default_user: std::mem::discriminant(&self.default_user),
        })
    }

    /// After a `virtual_server` block: remembers its draft if its reading depended on its text
    /// alone and ended where its braces do.
    fn remember_virtual_server(&mut self, before: BeforeBlock<'a>) {
        let read_alone = self.out.count() == before.said
            && self.env.questions_asked() == Some(before.asked)
            && std::mem::discriminant(&self.default_user) == before.default_user
            && self.state.virtual_servers.len() == before.virtual_servers + 1
            && self.reader.copy_index() == Some(before.block.last + 1)
            && self.reader.nothing_pending();
        let (true, Some(memo), Some(draft)) = (
            read_alone,
            self.memo.as_mut(),
            self.state.virtual_servers.last(),
        ) else {
            return;
        };
        if memo::may_keep(draft) {
            memo.keep(
                before.block.text,
                before.block.start,
                draft,
                before.virtual_servers,
            );
        }
    }

    /// keepalived reads one statement per line and ignores extra words, so `state BACKUP
    /// interface eth0` sets only the state. Says so when an ignored word is a keyword of the
    /// same block.
    fn lint_statements_on_one_line(&mut self, keywords: Keywords, line: &Line) {
        let Some(ignored) = line.words.iter().skip(2).find(|w| {
            let word = w.as_str();
            keywords.find(word).is_some_and(|k| k.block.is_none())
        }) else {
            return;
        };
        let keyword = line.keyword();
        let (message, hint) = if ignored.as_str() == "auth_pass" {
            (
                format!(
                    "`auth_pass` on the same line as `{keyword}` is ignored: the instance runs without authentication"
                ),
                "write each statement of the authentication block on its own line",
            )
        } else {
            (
                format!(
                    "`{}` on the same line as `{keyword}` is ignored: keepalived reads one statement per line",
                    ignored.as_str()
                ),
                "put each statement on its own line",
            )
        };
        self.out
            .lint(message, Some(ignored.span), Some(hint.to_owned()));
    }

    fn report_unknown(&mut self, table: &'static [Keyword], line: &Line) {
        let word = line.keyword();
        let message = format!("Unknown keyword '{word}'");
        let hint = suggest::for_unknown_keyword(word, table);
        let span = line.words[0].span;
        match hint {
            Some(hint) => {
                self.out
                    .report_with_hint(ErrorClass::UnknownKeyword, message, Some(span), hint)
            }
            None => self
                .out
                .report_at(ErrorClass::UnknownKeyword, message, span),
        }
    }

    /// Reads a block of items, one per line, until its `}` (keepalived's `alloc_value_block`).
    /// `line` is the line of the block keyword; `item` is called with the words of each item.
    pub fn value_block(
        &mut self,
        line: &Line,
        mut item: impl FnMut(&mut Self, &[Token]) -> HandlerResult,
    ) -> HandlerResult {
        let mut need_start = true;
        let mut first_items: Option<Vec<Token>> = None;
        let mut had_end = false;
        if line.len() > 1 {
            if line.text_of(1) == Some("{") {
                need_start = false;
                if line.len() > 2 {
                    let mut items = line.words[2..].to_vec();
                    if items.last().is_some_and(|t| t.as_str() == "}") {
                        items.pop();
                        had_end = true;
                    }
                    first_items = Some(items);
                }
            } else {
                self.out.report_at(
                    ErrorClass::GeneralError,
                    format!(
                        "Block {} has extra parameters {} ...",
                        line.keyword(),
                        line.text_of(1).unwrap_or("")
                    ),
                    line.words[1].span,
                );
            }
        }

        loop {
            let mut words = match first_items.take() {
                Some(items) => items,
                None => {
                    let Some(next) = self.next_line() else { break };
                    let mut words = next.words;
                    if need_start {
                        need_start = false;
                        if words[0].as_str() == "{" {
                            if words.len() == 1 {
                                continue;
                            }
                            words.remove(0);
                        } else {
                            self.log(format!(
                                "'{{' missing from beginning of block {}",
                                line.keyword()
                            ));
                        }
                    }
                    if words.last().is_some_and(|t| t.as_str() == "}") {
                        if words.len() == 1 {
                            break;
                        }
                        had_end = true;
                        words.pop();
                    }
                    words
                }
            };
            if !words.is_empty() {
                item(self, &words)?;
                words.clear();
            }
            if had_end {
                break;
            }
        }
        Ok(())
    }

    /// Reads a block of words (keepalived's `read_value_block`): all words of all its lines.
    pub fn value_block_words(&mut self, line: &Line) -> Result<Vec<Token>, Abort> {
        let mut all = Vec::new();
        self.value_block(line, |_, words| {
            all.extend_from_slice(words);
            Ok(())
        })?;
        Ok(all)
    }

    /// Records a message keepalived only logs (it does not appear in `-t` output).
    pub fn log(&mut self, message: impl Into<String>) {
        self.out.log(message);
    }
}
