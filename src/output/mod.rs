//! Writing a folder the tool owns (the vault, the site) so that it is never
//! half-written, never touched by two runs at once, and never reached beyond.
//!
//! A run stages every changed file under `.attack-vault/staging/`
//! ([`VaultWriter`]). To commit, it records the whole change (files to move
//! in, files to delete, the next manifest) in a journal, made durable before
//! the first rename, then applies it and clears it. Any later run, before it
//! does anything else, completes a journal it finds (roll forward) or, when
//! there is none, throws away staged files (roll back), so a run killed at any
//! moment leaves the folder as the previous run left it or as this one would.
//! An advisory lock on `.attack-vault/lock` makes writers take turns.
//!
//! The manifest lists what the tool generated; only those files are ever
//! replaced or deleted. It is read as untrusted data: every path in it, and
//! every path written, must be relative, stay inside the folder and pass
//! through no symbolic link.
//!
//! A command's report written to a file (`-o`) is a [`ReportFile`]: whole
//! or not at all, and never over a file it was not told to replace.

mod base;
mod journal;
mod lock;
pub mod merge;
mod report_file;
mod safe;
mod seen;
mod writer;

pub use journal::write_durably;
pub use lock::{Access, WriterLock};
pub use report_file::ReportFile;
pub use safe::is_inside;
pub use writer::{
    Conflict, Folder, MANIFEST, OnDisk, STATE_DIR, VaultWriter, WriteOptions, WriteReport,
    read_manifest,
};
