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
//!
//! The draft is lent to the reading, not copied: it comes back when the drafts are completed.
//! What completing it made is remembered too, when that said nothing and looked at nothing but
//! the draft (a group's service looks at the group), and a block taken again is completed by
//! a copy of it. A block whose `virtual_server` line made no virtual server could have read its
//! lines into the draft before it (the handlers work on the last draft): that draft is
//! completed as it is and forgotten.

use std::mem::Discriminant;
use std::sync::Arc;

use std::collections::hash_map::Entry;
use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHasher};

use super::state::VirtualServerDraft;
use super::walker::DefaultUser;
use crate::check;
use crate::check::lvs::Pending;
use crate::diagnostics::Reporter;
use crate::env::Environment;
use crate::lexer::reread::EarlierFiles;
use crate::model::GlobalDefs;
use crate::model::lvs::{CheckerKind, ServiceAddress, VirtualServer, VirtualServerGroup};
use crate::source::LinePosition;

/// The `virtual_server` blocks of the last readings, by their text's hash (worked out once per
/// block: the maps pass blocks between them without reading their texts again).
#[derive(Debug, Default)]
pub struct ReadMemo {
    /// What the blocks were read with.
    context: Option<(GlobalDefs, Discriminant<DefaultUser>)>,
    /// The blocks of the reading before the one under way (boxed: the maps stay small, and
    /// a block passes from one to the other by its pointer). Of two texts of the same hash,
    /// one is remembered.
    previous: FxHashMap<u64, Box<Remembered>>,
    /// The blocks of the reading under way, once their drafts are completed.
    current: FxHashMap<u64, Box<Remembered>>,
    /// The blocks of the reading under way whose drafts are in its state, in their order
    /// there: they join `current` when the drafts are completed.
    in_flight: Vec<InFlight>,
    /// How many blocks the last reading took from the memo.
    reused: usize,
    /// The files of the last reading, for the parent's pass to read again only what changed.
    files: EarlierFiles,
}

#[derive(Debug)]
struct Remembered {
    /// The block's text.
    text: String,
    /// What reading the block made (`None` while lent to the reading under way).
    draft: Option<Box<VirtualServerDraft>>,
    /// Where the block's first line was.
    start: LinePosition,
    /// What completing the draft made, when that said nothing and looked at nothing but the
    /// draft (a group's service looks at the group); its positions are at `start` too. Shared
    /// with the configurations that hold it, so a block taken again costs no copy.
    completed: Option<Arc<VirtualServer>>,
}

/// A block of the reading under way, and the place of its draft in the reading's state.
#[derive(Debug)]
struct InFlight {
    index: usize,
    hash: u64,
    remembered: Box<Remembered>,
}

impl ReadMemo {
    /// How many blocks the last reading took from the memo instead of reading them.
    pub fn reused(&self) -> usize {
        self.reused
    }

    /// How many lines of the files the last reading took over from the one before, as they
    /// were, instead of looking at them again ([`EarlierFiles`]).
    pub fn lines_taken_over(&self) -> usize {
        self.files.lines_taken_over()
    }

    /// The files of the last reading, to read again (they are forgotten here).
    pub(crate) fn take_files(&mut self) -> EarlierFiles {
        std::mem::take(&mut self.files)
    }

    /// Keeps the files of this reading for the next.
    pub(crate) fn keep_files(&mut self, files: EarlierFiles) {
        self.files = files;
    }

    /// A reading begins with these global definitions: blocks read with others are forgotten.
    pub(crate) fn begin(&mut self, globals: &GlobalDefs, default_user: &DefaultUser) {
        let context = (globals.clone(), std::mem::discriminant(default_user));
        if self.context.as_ref() != Some(&context) {
            self.current.clear();
        }
        self.context = Some(context);
        self.previous = std::mem::take(&mut self.current);
        self.in_flight.clear();
        // Most blocks come back: room for them all, without growing the map as they come.
        self.current.reserve(self.previous.len());
        self.in_flight.reserve(self.previous.len());
        self.reused = 0;
    }

    /// The reading has ended: blocks it did not meet are forgotten.
    pub(crate) fn end(&mut self) {
        self.previous.clear();
    }

    /// The draft of a block of this text read before, its positions moved to a block starting
    /// at `start`, lent to the reading's state at `index` until [`ReadMemo::complete`]. The
    /// same block twice in one reading is read the second time.
    pub(crate) fn take(
        &mut self,
        text: &str,
        start: LinePosition,
        index: usize,
    ) -> Option<Box<VirtualServerDraft>> {
        let hash = hash_of(text);
        let Entry::Occupied(found) = self.previous.entry(hash) else {
            return None;
        };
        if found.get().text != text {
            return None;
        }
        let mut remembered = found.remove();
        let mut draft = remembered.draft.take()?;
        if remembered.start != start {
            move_draft_positions(&mut draft, remembered.start, start);
            if let Some(completed) = remembered.completed.as_mut() {
                // A copy, when a configuration still holds it where it was.
                move_model_positions(Arc::make_mut(completed), remembered.start, start);
            }
        }
        remembered.start = start;
        self.in_flight.push(InFlight {
            index,
            hash,
            remembered,
        });
        self.reused += 1;
        Some(draft)
    }

    /// Remembers what reading the block of `text` starting at `start` made, the draft at
    /// `index` in the reading's state.
    pub(crate) fn keep(
        &mut self,
        text: &str,
        start: LinePosition,
        draft: &VirtualServerDraft,
        index: usize,
    ) {
        self.in_flight.push(InFlight {
            index,
            hash: hash_of(text),
            remembered: Box::new(Remembered {
                text: text.to_owned(),
                draft: Some(Box::new(draft.clone())),
                start,
                completed: None,
            }),
        });
    }

    /// The draft at `index` was changed by a later block (a `virtual_server` line that made
    /// no virtual server, whose block then went on with the one before): it is not its block's
    /// reading any more, and is forgotten.
    pub(crate) fn changed_after_reading(&mut self, index: usize) {
        if self.in_flight.last().is_some_and(|f| f.index == index) {
            self.in_flight.pop();
        }
    }

    /// [`check::lvs::complete`] for the drafts of the reading: those of blocks taken whole are
    /// completed as before, and the drafts and what completing them made are remembered.
    #[allow(clippy::vec_box)] // the reading's drafts, as the reading keeps them
    pub(crate) fn complete(
        &mut self,
        drafts: Vec<Box<VirtualServerDraft>>,
        groups: &[VirtualServerGroup],
        globals: &GlobalDefs,
        env: &dyn Environment,
        out: &mut Reporter,
    ) -> Vec<Arc<VirtualServer>> {
        let mut in_flight = std::mem::take(&mut self.in_flight);
        let indexes: Vec<usize> = in_flight.iter().map(|f| f.index).collect();
        let mut next = in_flight.iter_mut().peekable();
        let pending = drafts.into_iter().enumerate().map(|(index, draft)| {
            let Some(block) = next.next_if(|f| f.index == index) else {
                return Pending::Draft(draft);
            };
            let remembered = &mut block.remembered;
            match (&remembered.completed, &remembered.draft) {
                (Some(completed), _) => {
                    let completed = completed.clone();
                    remembered.draft = Some(draft);
                    Pending::Completed(completed)
                }
                // Lent, and completed anew: it is remembered as it was lent.
                (None, None) => {
                    remembered.draft = Some(draft.clone());
                    Pending::Draft(draft)
                }
                (None, Some(_)) => Pending::Draft(draft),
            }
        });
        let mut quietly = Vec::new();
        let done = check::lvs::complete_with(pending, groups, globals, env, out, |index, vs| {
            let remembered = indexes.binary_search(&index).is_ok();
            if remembered && !matches!(vs.service, ServiceAddress::Group(_)) {
                quietly.push((index, Arc::clone(vs)));
            }
        });
        for (index, vs) in quietly {
            if let Ok(at) = in_flight.binary_search_by_key(&index, |f| f.index) {
                in_flight[at].remembered.completed = Some(vs);
            }
        }
        for block in in_flight {
            if block.remembered.draft.is_some() {
                self.current.insert(block.hash, block.remembered);
            }
        }
        done
    }
}

/// The key of a block's text in the memo's maps.
fn hash_of(text: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(text.as_bytes());
    hasher.finish()
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

/// Moves a position of a block read at `from` to the same line of a block at `to`.
fn moved(position: &mut Option<LinePosition>, from: LinePosition, to: LinePosition) {
    if let Some(p) = position {
        *p = LinePosition {
            file: to.file,
            line: p.line.saturating_sub(from.line).saturating_add(to.line),
        };
    }
}

/// Moves the positions of a draft read at `from` to the same lines of a block at `to`.
fn move_draft_positions(draft: &mut VirtualServerDraft, from: LinePosition, to: LinePosition) {
    moved(&mut draft.server.position, from, to);
    for rs in &mut draft.real_servers {
        moved(&mut rs.server.position, from, to);
        for checker in &mut rs.checkers {
            moved(&mut checker.checker.position, from, to);
        }
    }
}

/// The same for a completed virtual server.
fn move_model_positions(vs: &mut VirtualServer, from: LinePosition, to: LinePosition) {
    moved(&mut vs.position, from, to);
    for rs in &mut vs.real_servers {
        moved(&mut rs.position, from, to);
        for checker in &mut rs.checkers {
            moved(&mut checker.position, from, to);
        }
    }
}
