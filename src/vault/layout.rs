//! Where the vault keeps things: the folders of its generated notes, the
//! names of its own notes, and the class its wide notes carry. One place,
//! so that the writers, the starter settings, the Bases views and the site
//! agree.

/// Folder of rule notes (the seed's Dataview source).
pub const RULES_FOLDER: &str = "Detection Rules";

/// Folder of atomic test notes (the seed's Dataview source).
pub const TESTS_FOLDER: &str = "atomics";

/// The tag every rule note carries: live queries select rules by it, not
/// by their folder, so that they follow the notes where the analyst moves
/// them.
pub const RULE_TAG: &str = "detection_rule";

/// The tag every atomic test note carries, as [`RULE_TAG`].
pub const TEST_TAG: &str = "atomic_test";

/// The tag every sample event file note carries, as [`RULE_TAG`].
pub const SAMPLES_TAG: &str = "sample_events";

/// The link report note.
pub const LINK_REPORT_STEM: &str = "Link report";

/// Folder of the sample event file notes.
pub const SAMPLES_FOLDER: &str = "Sample Events";

/// Folder of the Navigator layers.
pub const LAYERS_FOLDER: &str = "Navigator";

/// Folder of the `.base` files.
pub const BASES_FOLDER: &str = "Bases";

/// The `cssclasses` value of notes with wide tables.
pub const WIDE_CLASS: &str = "av-wide";
