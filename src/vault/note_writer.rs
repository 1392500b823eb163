//! The state of one note while its texts are converted: the shared index,
//! and the footnotes its ATT&CK texts cite.

use super::index::Index;
use super::text::{Footnotes, convert};
use crate::attack::stix::ExternalReference;
use crate::model::kb::Kb;

/// Per-note state while its texts are converted: the shared index and the
/// footnotes collected so far.
pub struct NoteWriter<'i, 'a> {
    pub ix: &'i Index<'a>,
    pub notes: Footnotes,
}

impl<'i, 'a> NoteWriter<'i, 'a> {
    pub fn new(ix: &'i Index<'a>) -> Self {
        Self {
            ix,
            notes: Footnotes::new(),
        }
    }
    /// Convert ATT&CK text to Obsidian Markdown.
    pub fn md(&mut self, s: &str, refs: &[ExternalReference]) -> String {
        convert(s.trim(), refs, self.ix, &mut self.notes)
            .trim()
            .to_string()
    }
    pub fn kb(&self) -> &'a Kb {
        self.ix.kb
    }
}
