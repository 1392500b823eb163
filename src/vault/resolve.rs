//! How a wikilink target names a note, as Obsidian resolves it: by its path
//! (`Folder/Note`), by its name (`Note`: the shortest path wins), or by the
//! end of its path (`Sub/Note`); case-insensitive, `.md` optional. `check`
//! and the site both resolve through this, so they never disagree about a
//! link.

use rustc_hash::FxHashMap as HashMap;

/// The notes of a vault, by path and by name.
#[derive(Debug, Default)]
pub struct NoteNames {
    /// Vault-relative paths without `.md`, `/`-separated, lower case.
    paths: Vec<String>,
    by_path: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

impl NoteNames {
    /// Index notes given by their vault-relative paths (`.md` optional);
    /// [`Self::find`] answers with positions in this order.
    pub fn new<S: AsRef<str>>(paths: impl IntoIterator<Item = S>) -> NoteNames {
        let mut n = NoteNames::default();
        for (i, p) in paths.into_iter().enumerate() {
            let p = p.as_ref().trim_end_matches(".md").to_lowercase();
            let name = p.rsplit('/').next().unwrap_or(&p).to_string();
            n.by_name.entry(name).or_default().push(i);
            n.by_path.insert(p.clone(), i);
            n.paths.push(p);
        }
        n
    }

    /// The note a link target (without `#heading` or `|alias`) names.
    pub fn find(&self, target: &str) -> Option<usize> {
        let t = target.trim().trim_end_matches(".md").to_lowercase();
        if let Some(&i) = self.by_path.get(&t) {
            return Some(i);
        }
        let Some((_, name)) = t.rsplit_once('/') else {
            // A bare name: the shortest path wins (the first for a tie).
            return self
                .by_name
                .get(&t)?
                .iter()
                .copied()
                .min_by_key(|&i| (self.paths[i].len(), &self.paths[i]));
        };
        let suffix = format!("/{t}");
        self.by_name
            .get(name)?
            .iter()
            .copied()
            .filter(|&i| self.paths[i].ends_with(&suffix))
            .min_by_key(|&i| (self.paths[i].len(), &self.paths[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_names_and_partial_paths() {
        let n = NoteNames::new([
            "Techniques/T1059 Command.md",
            "Home.md",
            "Deep/Techniques/T1059 Command.md",
            "Other/Home",
        ]);
        assert_eq!(n.find("t1059 command"), Some(0), "the shortest path wins");
        assert_eq!(n.find("Deep/Techniques/T1059 Command"), Some(2));
        assert_eq!(n.find("Deep/Techniques/T1059 Command.md"), Some(2));
        assert_eq!(n.find("Techniques/T1059 Command"), Some(0));
        assert_eq!(n.find("Other/Home"), Some(3));
        assert_eq!(n.find("home"), Some(1));
        assert_eq!(
            n.find("niques/T1059 Command"),
            None,
            "whole folder names only"
        );
        assert_eq!(n.find("Missing"), None);
    }
}
