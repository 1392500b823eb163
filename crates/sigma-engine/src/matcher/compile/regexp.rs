//! A rule's regular expression, read as the backends Sigma converts to read
//! it (Python's `re`, PCRE in UTF mode, Lucene): over characters, so that
//! `.` is one character and `(?i)é` meets `É`. Unicode tables cost
//! megabytes per rule, and nearly every value is ASCII, where a byte regex
//! without them reads the same; so that one serves ASCII values, and the
//! Unicode one is built at the first value that is not ASCII.

use std::sync::OnceLock;

/// The flags of `re|i`, `re|m`, `re|s`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    pub case_insensitive: bool,
    pub multi_line: bool,
    pub dot_all: bool,
}

#[derive(Debug, Clone)]
pub struct Regex {
    ascii: regex::bytes::Regex,
    flags: Flags,
    /// Built once needed; `None` when over the size limit in Unicode mode
    /// (the ASCII one then serves all values).
    unicode: OnceLock<Option<regex::bytes::Regex>>,
}

const SIZE_LIMIT: usize = 1 << 24;

fn build(pattern: &str, flags: Flags, unicode: bool) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(unicode)
        .case_insensitive(flags.case_insensitive)
        .multi_line(flags.multi_line)
        .dot_matches_new_line(flags.dot_all)
        .size_limit(SIZE_LIMIT)
        .build()
}

impl Regex {
    /// Compiles `pattern`; the error is the last line of the regex crate's.
    pub fn new(pattern: &str, flags: Flags) -> Result<Regex, String> {
        // A pattern the byte mode refuses (a non-ASCII class) is built in
        // Unicode mode for every value.
        let (ascii, unicode) = match build(pattern, flags, false) {
            Ok(re) => (re, OnceLock::new()),
            Err(_) => {
                let re = build(pattern, flags, true)
                    .map_err(|e| e.to_string().lines().last().unwrap_or("").to_string())?;
                (re.clone(), OnceLock::from(Some(re)))
            }
        };
        Ok(Regex {
            ascii,
            flags,
            unicode,
        })
    }

    pub fn as_str(&self) -> &str {
        self.ascii.as_str()
    }

    pub fn is_match(&self, text: &str) -> bool {
        if text.is_ascii() {
            return self.ascii.is_match(text.as_bytes());
        }
        let unicode = self
            .unicode
            .get_or_init(|| build(self.ascii.as_str(), self.flags, true).ok());
        unicode
            .as_ref()
            .unwrap_or(&self.ascii)
            .is_match(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str, case_insensitive: bool) -> Regex {
        let flags = Flags {
            case_insensitive,
            ..Flags::default()
        };
        Regex::new(p, flags).unwrap()
    }

    #[test]
    fn characters_not_bytes() {
        assert!(re("^a.b$", false).is_match("aéb"));
        assert!(re("^.{3}$", false).is_match("été"));
        assert!(re("é", true).is_match("CAFÉ"));
        assert!(re("[à-ü]", false).is_match("ç"));
        assert!(!re("é", false).is_match("É"));
        assert!(re("^a.b$", false).is_match("axb"));
        assert!(!re("^a.b$", false).is_match("a\u{1F600}\u{1F600}b"));
    }
}
