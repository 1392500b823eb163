//! String patterns of Sigma values: `*` and `?` wildcards with `\` escapes,
//! case-insensitive by default, with a "dash" class for `windash`, compiled
//! once into the cheapest form (equality, prefix, suffix, substring or glob).

/// The characters `windash` treats as interchangeable.
pub const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// One token of a wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Lit(char),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters.
    Any,
    /// A `windash` position: any of [`DASHES`].
    Dash,
}

/// Tokenise a Sigma string value: `\*`, `\?` and `\\` are escapes; a lone `\`
/// before anything else is a literal backslash.
pub fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some('*') | Some('?') | Some('\\') => {
                    let n = chars.next().unwrap_or('\\');
                    out.push(Tok::Lit(n));
                }
                _ => out.push(Tok::Lit('\\')),
            },
            '*' => out.push(Tok::Any),
            '?' => out.push(Tok::One),
            c => out.push(Tok::Lit(c)),
        }
    }
    out
}

/// Turn dashes at the start of a word (a command-line switch such as ` -enc`
/// or ` /enc`, also when written with an en or em dash) into [`Tok::Dash`].
pub fn windash(toks: &mut [Tok]) {
    let word = |t: Option<&Tok>| matches!(t, Some(Tok::Lit(c)) if c.is_alphanumeric() || *c == '_');
    for i in 0..toks.len() {
        if let Tok::Lit(c) = toks[i]
            && DASHES.contains(&c)
        {
            let before = if i == 0 { None } else { toks.get(i - 1) };
            let after = toks.get(i + 1);
            if !word(before) && word(after) {
                toks[i] = Tok::Dash;
            }
        }
    }
}

/// A substring needle. No searcher is kept per needle: the prefilter leaves
/// few comparisons to make, and a prebuilt finder costs hundreds of bytes for
/// each of the tens of thousands of needles.
#[derive(Debug, Clone)]
pub struct Needle {
    pub text: String,
}

impl Needle {
    pub fn new(text: String) -> Needle {
        Needle { text }
    }
    pub fn is_in(&self, hay: &str) -> bool {
        let (hay, needle) = (hay.as_bytes(), self.text.as_bytes());
        // Setting up a searcher costs more than a plain scan of a short value.
        if hay.len() < 256 {
            return match needle.split_first() {
                None => true,
                Some((first, rest)) => {
                    memchr::memchr_iter(*first, hay).any(|i| hay[i + 1..].starts_with(rest))
                }
            };
        }
        memchr::memmem::find(hay, needle).is_some()
    }
}

impl PartialEq for Needle {
    fn eq(&self, o: &Needle) -> bool {
        self.text == o.text
    }
}
impl Eq for Needle {}

/// Substrings of which a value must contain one, found in one automaton
/// scan of the value rather than one search per needle: rules list dozens
/// of keywords or command-line fragments. The automaton is built when the
/// set is first used: most rules never meet an event of their kind.
#[derive(Debug, Clone)]
pub struct NeedleSet {
    pub needles: Vec<Needle>,
    /// The shortest needle's length: a shorter value (an ID, a flag, a
    /// number) holds none, and is not scanned.
    shortest: usize,
    automaton: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>>,
}

impl NeedleSet {
    pub fn new(needles: Vec<Needle>) -> NeedleSet {
        NeedleSet {
            shortest: needles.iter().map(|n| n.text.len()).min().unwrap_or(0),
            needles,
            automaton: std::sync::OnceLock::new(),
        }
    }

    pub fn is_in(&self, hay: &str) -> bool {
        if hay.len() < self.shortest {
            return false;
        }
        let automaton = self.automaton.get_or_init(|| {
            // A DFA for a short list (a keyword list searched in every
            // value of every record), else a contiguous NFA, built in a
            // fraction of a DFA's time and memory. Leftmost-first, as only
            // whether a needle occurs matters: that match kind lets the
            // automaton skip ahead with a vectorised search for the
            // needles' first bytes (Teddy), four times faster over event
            // text than a byte-by-byte walk (measured).
            let small = self.needles.iter().map(|n| n.text.len()).sum::<usize>() <= 1024;
            aho_corasick::AhoCorasick::builder()
                .kind(Some(if small {
                    aho_corasick::AhoCorasickKind::DFA
                } else {
                    aho_corasick::AhoCorasickKind::ContiguousNFA
                }))
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .build(self.needles.iter().map(|n| &n.text))
                .ok()
        });
        match automaton {
            Some(a) => a.is_match(hay),
            None => self.needles.iter().any(|n| n.is_in(hay)),
        }
    }
}

/// Many prefixes and suffixes of one list (lower-cased), grouped by length:
/// a value's prefix (suffix) of each length the list holds is one hash
/// lookup, not a comparison per listed value (a list of 400 DLL names).
#[derive(Debug, Clone, Default)]
pub struct AffixSet {
    /// (length, texts of that length), by increasing length.
    prefixes: Vec<(usize, rustc_hash::FxHashSet<Box<[u8]>>)>,
    suffixes: Vec<(usize, rustc_hash::FxHashSet<Box<[u8]>>)>,
}

impl AffixSet {
    pub fn new(prefixes: Vec<String>, suffixes: Vec<String>) -> AffixSet {
        AffixSet {
            prefixes: by_length(prefixes),
            suffixes: by_length(suffixes),
        }
    }

    pub fn matches(&self, v: &str) -> bool {
        let b = v.as_bytes();
        let fits = |(n, _): &&(usize, _)| *n <= b.len();
        self.prefixes
            .iter()
            .take_while(fits)
            .any(|(n, set)| set.contains(&b[..*n]))
            || self
                .suffixes
                .iter()
                .take_while(fits)
                .any(|(n, set)| set.contains(&b[b.len() - n..]))
    }

    /// Every listed text.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.prefixes
            .iter()
            .chain(&self.suffixes)
            .flat_map(|(_, set)| set.iter())
            .filter_map(|t| std::str::from_utf8(t).ok())
    }
}

fn by_length(texts: Vec<String>) -> Vec<(usize, rustc_hash::FxHashSet<Box<[u8]>>)> {
    let mut out: std::collections::BTreeMap<usize, rustc_hash::FxHashSet<Box<[u8]>>> =
        Default::default();
    for t in texts {
        out.entry(t.len())
            .or_default()
            .insert(t.into_bytes().into_boxed_slice());
    }
    out.into_iter().collect()
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(Needle),
    /// Anything (a lone `*`).
    Anything,
    /// Any other form, with its longest run of literal characters, which a
    /// matching value contains: most values are turned away by one search
    /// for it, not by walking the pattern with backtracking.
    Glob(Vec<Tok>, Option<Needle>),
}

impl Pattern {
    /// Compile tokens; when `lower`, literals are lower-cased (the value is
    /// then compared in lower case too).
    pub fn compile(toks: &[Tok], lower: bool) -> Pattern {
        let toks: Vec<Tok> = if lower {
            toks.iter()
                .map(|t| match t {
                    Tok::Lit(c) => {
                        let mut l = c.to_lowercase();
                        match (l.next(), l.next()) {
                            (Some(x), None) => Tok::Lit(x),
                            _ => Tok::Lit(*c),
                        }
                    }
                    other => other.clone(),
                })
                .collect()
        } else {
            toks.to_vec()
        };
        // Sized up front: collecting through `Option` grows the string
        // character by character (thousands of rules, tens of thousands of
        // values at load).
        let lit = |ts: &[Tok]| -> Option<String> {
            let mut s = String::with_capacity(ts.len());
            for t in ts {
                match t {
                    Tok::Lit(c) => s.push(*c),
                    _ => return None,
                }
            }
            Some(s)
        };
        let n = toks.len();
        if n > 0 && toks.iter().all(|t| *t == Tok::Any) {
            return Pattern::Anything;
        }
        if let Some(s) = lit(&toks) {
            return Pattern::Exact(s);
        }
        let starts = toks.first() == Some(&Tok::Any);
        let ends = n > 1 && toks.last() == Some(&Tok::Any);
        match (starts, ends) {
            (true, true) => {
                if let Some(s) = lit(&toks[1..n - 1]) {
                    return Pattern::Contains(Needle::new(s));
                }
            }
            (false, true) => {
                if let Some(s) = lit(&toks[..n - 1]) {
                    return Pattern::Prefix(s);
                }
            }
            (true, false) => {
                if let Some(s) = lit(&toks[1..]) {
                    return Pattern::Suffix(s);
                }
            }
            _ => {}
        }
        // The first of the longest (in bytes).
        let run = toks
            .split(|t| !matches!(t, Tok::Lit(_)))
            .filter_map(lit)
            .rev()
            .max_by_key(String::len)
            .filter(|r| !r.is_empty())
            .map(Needle::new);
        Pattern::Glob(toks, run)
    }

    /// Match a whole value.
    pub fn matches(&self, v: &str) -> bool {
        match self {
            Pattern::Exact(s) => v == s,
            Pattern::Prefix(s) => v.starts_with(s.as_str()),
            Pattern::Suffix(s) => v.ends_with(s.as_str()),
            Pattern::Contains(s) => s.is_in(v),
            Pattern::Anything => true,
            Pattern::Glob(t, run) => run.as_ref().is_none_or(|r| r.is_in(v)) && glob(t, v),
        }
    }
}

fn tok_matches(t: &Tok, c: char) -> bool {
    match t {
        Tok::Lit(x) => *x == c,
        Tok::One => true,
        Tok::Dash => DASHES.contains(&c),
        Tok::Any => true,
    }
}

/// Iterative wildcard match with backtracking to the last `*` (linear in
/// practice, never exponential). Walks the text by byte offsets: collecting
/// its characters first cost an allocation per value tested.
fn glob(p: &[Tok], v: &str) -> bool {
    let next = |i: usize| v[i..].chars().next().map(|c| (c, i + c.len_utf8()));
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some((c, after)) = next(ti) {
        if pi < p.len() && p[pi] != Tok::Any && tok_matches(&p[pi], c) {
            pi += 1;
            ti = after;
        } else if pi < p.len() && p[pi] == Tok::Any {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            let st = next(st).map_or(v.len(), |(_, a)| a);
            pi = sp + 1;
            ti = st;
            star = Some((sp, st));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == Tok::Any {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(s: &str) -> Pattern {
        Pattern::compile(&tokenize(s), true)
    }

    #[test]
    fn glob_backtracks_over_multibyte_text() {
        let g = |p: &str, v: &str| glob(&tokenize(p), v);
        assert!(g("a*é?c", "aéxéyc"));
        assert!(g("*ж*ж", "жaжbж"));
        assert!(!g("a*é?c", "aéc"));
        assert!(g("?", "ж"));
        assert!(!g("??", "ж"));
        assert!(g("*", ""));
    }

    #[test]
    fn a_glob_looks_for_its_longest_literal_run_first() {
        let p = pat("* -e* JAB*");
        let Pattern::Glob(_, Some(run)) = &p else {
            panic!("{p:?}")
        };
        assert_eq!(run.text, " jab");
        assert!(p.matches("powershell -enc jabc"));
        assert!(p.matches("x -e jab"));
        assert!(!p.matches("powershell -enc jxb"));
        // The run, but not the whole pattern.
        assert!(!p.matches("a jab -e"));
        assert!(pat("?*").matches("x") && !pat("?*").matches(""));
    }

    #[test]
    fn fast_paths() {
        assert_eq!(pat("abc"), Pattern::Exact("abc".into()));
        assert_eq!(pat("ABC*"), Pattern::Prefix("abc".into()));
        assert_eq!(pat("*\\cmd.exe"), Pattern::Suffix("\\cmd.exe".into()));
        assert_eq!(pat("*x*"), Pattern::Contains(Needle::new("x".into())));
        assert_eq!(pat("*"), Pattern::Anything);
        assert!(matches!(pat("a*b?c"), Pattern::Glob(..)));
    }

    #[test]
    fn escapes() {
        assert_eq!(pat("a\\*b"), Pattern::Exact("a*b".into()));
        assert_eq!(pat("a\\?b"), Pattern::Exact("a?b".into()));
        assert_eq!(pat("c:\\windows\\"), Pattern::Exact("c:\\windows\\".into()));
        assert_eq!(
            pat("a\\\\*"),
            Pattern::Prefix("a\\".into()),
            "\\\\* is a backslash then a wildcard"
        );
        assert_eq!(
            pat("a\\\\\\*"),
            Pattern::Exact("a\\*".into()),
            "three backslashes: backslash and plain star"
        );
        assert_eq!(
            pat("\\\\\\\\"),
            Pattern::Exact("\\\\".into()),
            "four backslashes are two"
        );
    }

    #[test]
    fn glob_matching() {
        let p = pat("c:\\users\\\\*\\appdata\\\\*.exe");
        assert!(p.matches("c:\\users\\bob\\appdata\\x.exe"));
        assert!(!p.matches("c:\\users\\bob\\x.exe"));
        let q = pat("te?t*");
        assert!(q.matches("test"));
        assert!(q.matches("text123"));
        assert!(!q.matches("tet"));
        assert!(pat("*a*b*c*").matches("xxaxxbxxcxx"));
    }

    #[test]
    fn windash_positions() {
        let mut t = tokenize("* -enc *");
        windash(&mut t);
        let p = Pattern::compile(&t, true);
        for v in [
            "x -enc y",
            "x /enc y",
            "x \u{2013}enc y",
            "x \u{2014}enc y",
            "x \u{2015}enc y",
        ] {
            assert!(p.matches(v), "{v}");
        }
        assert!(!p.matches("x +enc y"));
        let mut t = tokenize("get-process");
        windash(&mut t);
        assert_eq!(
            Pattern::compile(&t, true),
            Pattern::Exact("get-process".into()),
            "mid-word dashes stay"
        );
        let mut t = tokenize("* \u{2013}enc");
        windash(&mut t);
        assert!(
            Pattern::compile(&t, true).matches("a -enc"),
            "a rule written with an en dash"
        );
    }

    #[test]
    fn case_sensitive_compilation() {
        let p = Pattern::compile(&tokenize("ABC"), false);
        assert!(p.matches("ABC") && !p.matches("abc"));
    }
}
