//! Virtual servers read before, taken again while their text stays the same.
//!
//! A reload of a configuration of thousands of `virtual_server` blocks where one changed would
//! read them all again. A block is remembered with what reading it made (its draft) when its
//! reading could not depend on anything but its text: every line of it is a line no lexical rule
//! changes (no parameter, condition, sequence, comment, quote or include, so it reads the same
//! wherever it stands), reading it said nothing, asked nothing of the machine (users, programs,
//! interfaces) and looked at nothing read before it (`BFD_CHECK` names a `bfd_instance`). The
//! next reading takes the draft of a block whose text is the same, line for line, instead of
//! reading it, when the global definitions it was read with are the same too. What the checks
//! then say about it is said again, from the draft, as for a block read anew.

use std::mem::Discriminant;

use rustc_hash::FxHashMap;

use super::state::VirtualServerDraft;
use super::walker::DefaultUser;
use crate::model::GlobalDefs;
use crate::model::lvs::CheckerKind;
use crate::source::LinePosition;

/// The `virtual_server` blocks of the last readings, by their text.
#[derive(Debug, Default)]
pub struct ReadMemo {
    /// What the blocks were read with.
    context: Option<(GlobalDefs, Discriminant<DefaultUser>)>,
    /// The blocks of the reading before the one under way (boxed: the maps stay small, and
    /// a block passes from one to the other by its pointer).
    previous: FxHashMap<String, Box<Remembered>>,
    /// The blocks of the reading under way.
    current: FxHashMap<String, Box<Remembered>>,
    /// How many blocks the last reading took from the memo.
    reused: usize,
}

#[derive(Debug)]
struct Remembered {
    draft: VirtualServerDraft,
    /// Where the block's first line was.
    start: LinePosition,
}

impl ReadMemo {
    /// How many blocks the last reading took from the memo instead of reading them.
    pub fn reused(&self) -> usize {
        self.reused
    }

    /// A reading begins with these global definitions: blocks read with others are forgotten.
    pub(crate) fn begin(&mut self, globals: &GlobalDefs, default_user: &DefaultUser) {
        let context = (globals.clone(), std::mem::discriminant(default_user));
        if self.context.as_ref() != Some(&context) {
            self.current.clear();
        }
        self.context = Some(context);
        self.previous = std::mem::take(&mut self.current);
        // Most blocks come back: room for them all, without growing the map as they come.
        self.current.reserve(self.previous.len());
        self.reused = 0;
    }

    /// The reading has ended: blocks it did not meet are forgotten.
    pub(crate) fn end(&mut self) {
        self.previous.clear();
    }

    /// The draft of a block of this text read before, its positions moved to a block starting
    /// at `start`.
    pub(crate) fn take(&mut self, text: &str, start: LinePosition) -> Option<VirtualServerDraft> {
        let reused = &mut self.reused;
        let remembered = match self.previous.remove_entry(text) {
            Some((text, remembered)) => self.current.entry(text).or_insert(remembered),
            // The same block twice in one configuration.
            None => self.current.get(text)?,
        };
        *reused += 1;
        let mut draft = remembered.draft.clone();
        move_positions(&mut draft, remembered.start, start);
        Some(draft)
    }

    /// Remembers what reading the block of `text` starting at `start` made.
    pub(crate) fn keep(&mut self, text: &str, start: LinePosition, draft: &VirtualServerDraft) {
        self.current.insert(
            text.to_owned(),
            Box::new(Remembered {
                draft: draft.clone(),
                start,
            }),
        );
    }
}

/// Whether what reading a block made depends on nothing but its text: `BFD_CHECK` is read
/// against the `bfd_instance`s read before it.
pub(crate) fn may_keep(draft: &VirtualServerDraft) -> bool {
    !draft
        .real_servers
        .iter()
        .flat_map(|rs| &rs.checkers)
        .any(|c| matches!(c.checker.kind, CheckerKind::Bfd(_)))
}

/// Moves the positions of a block read at `from` to the same lines of a block at `to`.
fn move_positions(draft: &mut VirtualServerDraft, from: LinePosition, to: LinePosition) {
    let moved = |position: &mut Option<LinePosition>| {
        if let Some(p) = position {
            *p = LinePosition {
                file: to.file,
                line: p.line.saturating_sub(from.line).saturating_add(to.line),
            };
        }
    };
    moved(&mut draft.server.position);
    for rs in &mut draft.real_servers {
        moved(&mut rs.server.position);
        for checker in &mut rs.checkers {
            moved(&mut checker.checker.position);
        }
    }
}
