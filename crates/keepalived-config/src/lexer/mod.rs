//! The preprocessing lexer: from configuration files to logical lines of words.
//!
//! keepalived has no separate lexer; its line reader does comment removal, includes, `@id`
//! conditions, `$NAME` parameters, `~SEQ`/`~LST` repetition and brace splitting in one pass.
//! The same steps are kept here, one module each, and faithful to 2.2.7's order and quirks.
//! Every word keeps its file, line and column ([`crate::source::Span`]).

pub mod decomment;
pub mod files;
pub mod glob;
pub mod params;
pub mod reader;
pub mod reread;
pub mod sequence;
pub mod text;
pub mod tokens;

pub use files::{ConsolidatedCopy, FileReader, IncludeChecks};
pub use reader::{LineReader, Physical};
pub use text::MappedText;
pub use tokens::{Token, Word, split_command, split_words};
