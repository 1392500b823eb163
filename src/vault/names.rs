//! Note file names: safe on Windows, macOS and Linux, carrying the ATT&CK ID,
//! and unique across the whole vault without regard to case, so that a
//! basename wikilink always resolves to exactly one note.

use std::collections::{HashMap, HashSet};

/// Longest file stem we write, in bytes (before `.md`). Keeps full paths well
/// under Windows' classic 260-character limit.
pub const MAX_STEM_BYTES: usize = 100;

const WINDOWS_RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Turn arbitrary text into a safe file stem: no path separators, no characters
/// that Windows forbids or that break Obsidian links (`# | ^ : [ ] %`), no
/// control characters, no invisible format characters (a right-to-left
/// override would show `exe.txt` for `txt.exe`), no leading/trailing dots or
/// spaces, bounded length, never a reserved device name.
pub fn sanitize_stem(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len());
    for c in raw.chars() {
        let mapped = match c {
            '/' | '\\' | '|' => Some('-'),
            ':' => Some(' '),
            '<' | '>' | '"' | '*' | '?' | '#' | '^' | '[' | ']' | '%' | '{' | '}' | '`' => None,
            c if c.is_control() => Some(' '),
            c if sigma_engine::text::is_invisible_format(c) => None,
            c => Some(c),
        };
        if let Some(m) = mapped {
            if m == ' ' && (s.is_empty() || s.ends_with(' ')) {
                continue;
            }
            s.push(m);
        }
    }
    let mut s = s.trim_matches(|c: char| c == ' ' || c == '.').to_string();
    if s.len() > MAX_STEM_BYTES {
        let mut cut = MAX_STEM_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        // At a word's end where one is near: a cut word reads as a typo.
        let mid_word = !s[cut..].starts_with(' ');
        if let Some(space) = s[..cut]
            .rfind(' ')
            .filter(|&i| mid_word && i >= MAX_STEM_BYTES * 2 / 3)
        {
            cut = space;
        }
        s.truncate(cut);
        s = s.trim_end_matches([' ', '.', '-']).to_string();
    }
    // `Report.md` would be written `Report.md.md`, and a link to it read as
    // a link to `Report`.
    if s.len() > 3
        && s.get(s.len() - 3..)
            .is_some_and(|e| e.eq_ignore_ascii_case(".md"))
    {
        s.replace_range(s.len() - 3..s.len() - 2, " ");
    }
    if s.is_empty() {
        s.push_str("untitled");
    }
    if is_reserved_on_windows(&s) {
        s.insert(0, '_');
    }
    s
}

/// Whether Windows reserves a file name for a device (`CON`, `aux.html`:
/// whatever follows the first dot), in any case.
pub fn is_reserved_on_windows(name: &str) -> bool {
    let base = name.split('.').next().unwrap_or("");
    WINDOWS_RESERVED
        .iter()
        .any(|r| r.eq_ignore_ascii_case(base))
}

/// Hands out file stems, guaranteeing that no two are equal ignoring case.
#[derive(Debug, Default)]
pub struct NameRegistry {
    taken: HashSet<String>,
    /// Per stem wanted again: the counter to try next. Every counter below
    /// it was taken, and names are never given back, so a thousand rules of
    /// one title cost a thousand tries, not half a million.
    next: HashMap<String, u64>,
}

impl NameRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reserve a stem for `wanted`, adding ` (2)`, ` (3)`... on a clash.
    pub fn claim(&mut self, wanted: &str) -> String {
        let base = sanitize_stem(wanted);
        if self.taken.insert(base.to_lowercase()) {
            return base;
        }
        let next = self.next.entry(base.clone()).or_insert(2);
        for n in *next.. {
            let suffix = format!(" ({n})");
            let mut b = base.clone();
            while b.len() + suffix.len() > MAX_STEM_BYTES {
                b.pop();
            }
            let cand = format!("{}{suffix}", b.trim_end());
            if self.taken.insert(cand.to_lowercase()) {
                *next = n + 1;
                return cand;
            }
        }
        unreachable!("an unbounded counter always finds a free name")
    }

    /// Mark a stem as used without claiming a derived one (for fixed notes).
    pub fn reserve(&mut self, stem: &str) -> bool {
        self.taken.insert(stem.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_link_breaking_and_reserved_characters() {
        assert_eq!(
            sanitize_stem("T1053 Scheduled Task/Job"),
            "T1053 Scheduled Task-Job"
        );
        assert_eq!(
            sanitize_stem("DET0001 Detection Strategy for Proxy Execution: Regsvr32"),
            "DET0001 Detection Strategy for Proxy Execution Regsvr32"
        );
        assert_eq!(sanitize_stem("a#b|c^d[e]f%g?h*i\"j<k>l"), "ab-cdefghijkl");
        assert_eq!(sanitize_stem("  ..name.. "), "name");
        assert_eq!(sanitize_stem("con"), "_con");
        assert_eq!(sanitize_stem("NUL.txt"), "_NUL.txt");
        assert_eq!(sanitize_stem(""), "untitled");
        assert_eq!(sanitize_stem("Report.md"), "Report md");
        assert_eq!(sanitize_stem("notes.MD"), "notes MD");
        assert_eq!(sanitize_stem("Invoice\u{202E}fdp.exe"), "Invoicefdp.exe");
        assert_eq!(sanitize_stem("zero\u{200B}width\u{FEFF}"), "zerowidth");
    }

    #[test]
    fn bounds_length_on_char_boundaries() {
        let long = "é".repeat(200);
        let s = sanitize_stem(&long);
        assert!(s.len() <= MAX_STEM_BYTES);
        assert!(s.chars().all(|c| c == 'é'));
    }

    #[test]
    fn long_names_are_cut_between_words() {
        let long = "Suspicious Execution Of Something Rather Long Through An Unusual Parent Process With Arguments Seen".repeat(2);
        let s = sanitize_stem(&long);
        assert!(s.len() <= MAX_STEM_BYTES);
        assert!(
            long.starts_with(&s) && long[s.len()..].starts_with(' '),
            "{s}"
        );
    }

    #[test]
    fn registry_is_case_insensitive() {
        let mut r = NameRegistry::new();
        assert_eq!(r.claim("T1 Python"), "T1 Python");
        assert_eq!(r.claim("t1 python"), "t1 python (2)");
        assert_eq!(r.claim("T1 PYTHON"), "T1 PYTHON (3)");
    }

    #[test]
    fn a_stem_wanted_many_times_takes_the_first_free_counter_each_time() {
        // The first free counter, found by trying each from 2.
        fn naive(taken: &mut HashSet<String>, wanted: &str) -> String {
            let base = sanitize_stem(wanted);
            if taken.insert(base.to_lowercase()) {
                return base;
            }
            (2..)
                .map(|n| format!("{base} ({n})"))
                .find(|c| taken.insert(c.to_lowercase()))
                .unwrap()
        }
        let mut r = NameRegistry::new();
        let mut taken = HashSet::new();
        let wanted = [
            "A", "a (3)", "A", "B", "A", "A (5)", "a", "b", "A", "A (2)", "A",
        ];
        for w in wanted.iter().cycle().take(2000) {
            assert_eq!(r.claim(w), naive(&mut taken, w), "{w}");
        }
        // A fixed note takes the name `A` would have had next.
        let next = naive(&mut taken.clone(), "A");
        assert!(r.reserve(&next) && taken.insert(next.to_lowercase()));
        let after = r.claim("A");
        assert_eq!(after, naive(&mut taken, "A"));
        assert_ne!(after, next);
    }
}
