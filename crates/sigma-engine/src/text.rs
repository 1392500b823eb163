//! Text files as UTF-8: UTF-8 with or without a byte-order mark, or UTF-16
//! with one or, for JSON, without (what Windows PowerShell writes by
//! default). One decoder for every input the tool reads as text: rules,
//! atomics, JSON events.

use std::borrow::Cow;
use std::path::Path;

/// The UTF-8 byte-order mark some editors (Notepad, Windows PowerShell 5)
/// write first.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How a text is encoded, told from its first bytes: by a byte-order mark,
/// or without one by the zero bytes that ASCII characters have in UTF-16
/// (a JSON text starts with one: RFC 4627, section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    /// The encoding, and the length of its byte-order mark (0 without).
    pub(crate) fn of(bytes: &[u8]) -> (Encoding, usize) {
        match bytes {
            [0xEF, 0xBB, 0xBF, ..] => (Encoding::Utf8, 3),
            [0xFF, 0xFE, ..] => (Encoding::Utf16Le, 2),
            [0xFE, 0xFF, ..] => (Encoding::Utf16Be, 2),
            [a, 0, b, 0, ..] if *a != 0 && *b != 0 => (Encoding::Utf16Le, 0),
            [0, a, 0, b, ..] if *a != 0 && *b != 0 => (Encoding::Utf16Be, 0),
            _ => (Encoding::Utf8, 0),
        }
    }

    /// How two bytes make a UTF-16 unit; `None` for UTF-8.
    pub(crate) fn unit(self) -> Option<fn([u8; 2]) -> u16> {
        match self {
            Encoding::Utf8 => None,
            Encoding::Utf16Le => Some(u16::from_le_bytes),
            Encoding::Utf16Be => Some(u16::from_be_bytes),
        }
    }
}

/// Where a text stopped being valid in its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// An invalid UTF-8 sequence at this byte offset of the file.
    Utf8(usize),
    /// An invalid UTF-16 unit (a lone surrogate) at this byte offset.
    Utf16(usize),
    /// UTF-16 text with an odd number of bytes.
    HalfChar,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Utf8(at) => write!(f, "invalid UTF-8 from byte offset {at}"),
            Invalid::Utf16(at) => write!(f, "invalid UTF-16 from byte offset {at}"),
            Invalid::HalfChar => write!(f, "UTF-16 text ends with half a character"),
        }
    }
}

/// A text decoded to UTF-8 (invalid sequences replaced with U+FFFD), and
/// what was invalid in it.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub invalid: Vec<Invalid>,
}

/// Zero-width and bidirectional formatting characters: invisible marks that
/// change how a text looks, not what it says (a right-to-left override
/// shows `exe.txt` for `txt.exe`).
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{061C}'
            | '\u{FEFF}'
    )
}

/// A text read from input made safe to show on a terminal: control
/// characters (ESC, BEL, CR, LF, ...), Unicode's line and paragraph
/// separators and the invisible marks of [`is_invisible_format`] are shown
/// escaped (`\u{1b}`), so that a rule, an event or a file name cannot
/// redraw the screen, forge a line or hide what it says.
pub fn printable(s: &str) -> Cow<'_, str> {
    let hidden =
        |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_invisible_format(c);
    if !s.chars().any(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A text as quoted in a message: whole when at most `max` characters,
/// else its start and `…`, so that a hostile input's megabyte of brackets
/// does not flood the terminal.
pub fn excerpt(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((i, _)) => Cow::Owned(format!("{}…", &text[..i])),
        None => Cow::Borrowed(text),
    }
}

/// The characters of UTF-16 bytes, each with whether it was valid.
pub(crate) fn utf16(
    bytes: &[u8],
    unit: fn([u8; 2]) -> u16,
) -> impl Iterator<Item = (char, bool)> + '_ {
    let units = bytes.chunks_exact(2).map(move |p| unit([p[0], p[1]]));
    char::decode_utf16(units).map(|r| r.map_or((char::REPLACEMENT_CHARACTER, false), |c| (c, true)))
}

/// Decode the UTF-16 units of `bytes`, which start at byte `at` of their
/// file, onto `out`: the offset of the first invalid unit, if one is.
pub(crate) fn push_utf16(
    bytes: &[u8],
    unit: fn([u8; 2]) -> u16,
    mut at: usize,
    out: &mut String,
) -> Option<usize> {
    let mut bad = None;
    for (c, ok) in utf16(bytes, unit) {
        if !ok {
            bad.get_or_insert(at);
        }
        // Two bytes per UTF-16 unit; a bad unit is one unit.
        at += 2 * if ok { c.len_utf16() } else { 1 };
        out.push(c);
    }
    bad
}

/// A text as UTF-8, without its byte-order mark.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    let (encoding, mark) = Encoding::of(bytes);
    let body = &bytes[mark..];
    let Some(unit) = encoding.unit() else {
        return match std::str::from_utf8(body) {
            Ok(t) => Decoded {
                text: Cow::Borrowed(t),
                invalid: Vec::new(),
            },
            Err(e) => Decoded {
                text: String::from_utf8_lossy(body).into_owned().into(),
                invalid: vec![Invalid::Utf8(mark + e.valid_up_to())],
            },
        };
    };
    let mut invalid = Vec::new();
    if body.len() % 2 == 1 {
        invalid.push(Invalid::HalfChar);
    }
    let mut text = String::with_capacity(body.len());
    let bad = push_utf16(body, unit, mark, &mut text);
    invalid.extend(bad.map(Invalid::Utf16));
    Decoded {
        text: Cow::Owned(text),
        invalid,
    }
}

/// [`decode`] of bytes no longer needed: a text in UTF-8 keeps their
/// buffer (checked once, not copied).
pub fn decode_owned(mut bytes: Vec<u8>) -> (String, Vec<Invalid>) {
    let (encoding, mark) = Encoding::of(&bytes);
    if encoding.unit().is_some() {
        let d = decode(&bytes);
        return (d.text.into_owned(), d.invalid);
    }
    bytes.drain(..mark);
    match String::from_utf8(bytes) {
        Ok(text) => (text, Vec::new()),
        Err(e) => {
            let at = mark + e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            (text, vec![Invalid::Utf8(at)])
        }
    }
}

/// A UTF-16 text read as UTF-8 a block at a time, decoded as [`decode`]
/// decodes it whole: a long one (a CSV export) is never held whole.
pub(crate) struct Utf16Reader<R> {
    input: R,
    unit: fn([u8; 2]) -> u16,
    /// Bytes read and not decoded yet: an odd byte, a high surrogate that
    /// waits for its low one, the byte-order mark before the first block.
    pending: Vec<u8>,
    out: Vec<u8>,
    at: usize,
    /// The file offset of `pending`'s first byte.
    offset: usize,
    mark: usize,
    bad: Option<usize>,
    half: bool,
    done: bool,
}

impl<R: std::io::Read> Utf16Reader<R> {
    /// A reader of `input`, a text in `encoding` (UTF-16) whose byte-order
    /// mark is `mark` bytes long.
    pub(crate) fn new(input: R, (encoding, mark): (Encoding, usize)) -> Self {
        Utf16Reader {
            input,
            unit: encoding.unit().unwrap_or(u16::from_le_bytes),
            pending: Vec::new(),
            out: Vec::new(),
            at: 0,
            offset: 0,
            mark,
            bad: None,
            half: false,
            done: false,
        }
    }

    /// What was invalid, as [`decode`] says it, once the text is read.
    pub(crate) fn invalid(&self) -> Vec<Invalid> {
        let half = self.half.then_some(Invalid::HalfChar);
        half.into_iter()
            .chain(self.bad.map(Invalid::Utf16))
            .collect()
    }

    /// Decode the next block of the input.
    fn fill(&mut self) -> std::io::Result<()> {
        let mut block = [0u8; 1 << 16];
        let n = loop {
            match self.input.read(&mut block) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                read => break read?,
            }
        };
        self.pending.extend_from_slice(&block[..n]);
        self.done = n == 0;
        let skip = match self.offset {
            0 => self.mark.min(self.pending.len()),
            _ => 0,
        };
        if self.offset == 0 && self.pending.len() < self.mark && !self.done {
            return Ok(());
        }
        let units = &self.pending[skip..];
        let mut take = units.len() & !1;
        // A high surrogate's low one may be in the next block.
        let last = take
            .checked_sub(2)
            .map(|i| (self.unit)([units[i], units[i + 1]]));
        if !self.done && last.is_some_and(|u| (0xD800..0xDC00).contains(&u)) {
            take -= 2;
        }
        self.half |= self.done && units.len() % 2 == 1;
        let mut text = String::with_capacity(take);
        let bad = push_utf16(&units[..take], self.unit, self.offset + skip, &mut text);
        self.bad = self.bad.or(bad);
        self.out = text.into_bytes();
        self.at = 0;
        let used = skip + take;
        self.pending.drain(..used);
        self.offset += used;
        Ok(())
    }
}

impl<R: std::io::Read> std::io::Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.out.len() && !self.done {
            self.fill()?;
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// What an archive or a compressed file is, by its first bytes (a tar
/// archive says so at offset 257), so that a person who gave one where a
/// text or an event file was wanted is told to unpack it.
pub fn packed(head: &[u8]) -> Option<&'static str> {
    const PACKED: [(&[u8], &str); 7] = [
        (b"PK\x03\x04", "a zip archive"),
        (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
        (b"\xFD7zXZ\x00", "xz-compressed"),
        (b"BZh", "bzip2-compressed"),
        (b"\x28\xB5\x2F\xFD", "zstd-compressed"),
        (b"Rar!\x1A\x07", "a RAR archive"),
        (b"\x1F\x8B", "gzip-compressed"),
    ];
    let packed = PACKED.iter().find(|(magic, _)| head.starts_with(magic));
    let tar = head.get(257..262) == Some(b"ustar");
    packed
        .map(|(_, kind)| *kind)
        .or(tar.then_some("a tar archive"))
}

/// Why a text file could not be read as text.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// An archive or a compressed file ([`packed`]) where a text was wanted.
    #[error("{0}, not a text: extract or decompress it first")]
    Packed(&'static str),
    /// Line and column (1-based, the column in bytes) of the first invalid
    /// byte.
    #[error("not a text in UTF-8 or UTF-16: {invalid}")]
    Encoding {
        invalid: Invalid,
        line: usize,
        column: usize,
    },
    /// Larger than a file of its kind ([`read_file_at_most`]).
    #[error("larger than {} MiB, more than a file of its kind holds: not read", most >> 20)]
    TooLarge { most: u64 },
}

/// The most bytes of a YAML file read whole where folders are walked for
/// them (rules, atomic tests): a hundred times SigmaHQ's largest rule file,
/// while a data dump named `.yml` in the folder would take many times its
/// size in memory once parsed.
pub const MOST_YAML: u64 = 64 << 20;

/// A whole file that must be valid text (a rule, an atomic test): its
/// encoding told by its byte-order mark, any invalid byte an error, since a
/// value silently replaced would never match what its author wrote.
pub fn read_file(path: &Path) -> Result<String, ReadError> {
    text_of(std::fs::read(path)?)
}

/// [`read_file`], refusing a file of more than `most` bytes without reading
/// more of it (its size as read, too: a file under `/proc` says it has 0).
pub fn read_file_at_most(path: &Path, most: u64) -> Result<String, ReadError> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    if file.metadata().is_ok_and(|m| m.len() > most) {
        return Err(ReadError::TooLarge { most });
    }
    let mut bytes = Vec::new();
    file.take(most.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > most {
        return Err(ReadError::TooLarge { most });
    }
    text_of(bytes)
}

/// A file's bytes as text, or why they are none.
fn text_of(bytes: Vec<u8>) -> Result<String, ReadError> {
    let decoded = decode(&bytes);
    if let (Some(_), Some(kind)) = (decoded.invalid.first(), packed(&bytes)) {
        return Err(ReadError::Packed(kind));
    }
    match decoded.invalid.first() {
        None => Ok(decoded.text.into_owned()),
        Some(&invalid) => {
            let at = match invalid {
                Invalid::Utf8(at) | Invalid::Utf16(at) => at,
                Invalid::HalfChar => bytes.len() - 1,
            };
            let (line, column) = byte_line_col(&bytes, at);
            Err(ReadError::Encoding {
                invalid,
                line,
                column,
            })
        }
    }
}

/// 1-based line and byte column of a byte offset (lines end at `\n`, in
/// UTF-16 too, where the newline's zero byte sits beside it).
fn byte_line_col(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at.min(bytes.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, at - start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_owned_bytes_gives_what_decoding_them_gives() {
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("é\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        for bytes in [
            &b"plain"[..],
            b"\xEF\xBB\xBFwith a mark",
            b"\xEF\xBB\xBFbad \xFF here",
            b"bad \xC3",
            b"",
            &utf16,
            &utf16[..utf16.len() - 1],
        ] {
            let d = decode(bytes);
            let want = (d.text.into_owned(), d.invalid);
            assert_eq!(decode_owned(bytes.to_vec()), want, "{bytes:?}");
        }
    }

    /// A reader that gives at most `n` bytes at a time.
    struct Trickle<'a>(&'a [u8], usize);

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn utf16_read_a_block_at_a_time_is_decoded_as_whole() {
        let le = |units: &[u16]| {
            units
                .iter()
                .flat_map(|u| u.to_le_bytes())
                .collect::<Vec<u8>>()
        };
        let be = |units: &[u16]| {
            units
                .iter()
                .flat_map(|u| u.to_be_bytes())
                .collect::<Vec<u8>>()
        };
        let text: Vec<u16> = "a,b\n\u{1F600}x\u{10FFFF}\n\u{e9},z\n"
            .encode_utf16()
            .collect();
        let lone: Vec<u16> = [&text[..4], &[0xD800, 0x41, 0xDC00], &text[4..]].concat();
        let mut inputs = Vec::new();
        for units in [&text, &lone, &Vec::new()] {
            inputs.push([&[0xFF, 0xFE][..], &le(units)].concat());
            inputs.push([&[0xFE, 0xFF][..], &be(units)].concat());
            inputs.push([&[0xFF, 0xFE][..], &le(units), &[0x41]].concat());
            inputs.push(le(units));
        }
        inputs.push(vec![0xFF, 0xFE, 0x41]);
        for bytes in &inputs {
            let whole = decode(bytes);
            let encoding = match Encoding::of(bytes) {
                (Encoding::Utf8, _) => (Encoding::Utf16Le, 0),
                e => e,
            };
            for n in 1..=bytes.len().max(1) {
                let mut r = Utf16Reader::new(Trickle(bytes, n), encoding);
                let mut got = String::new();
                std::io::Read::read_to_string(&mut r, &mut got).unwrap();
                assert_eq!(got, whole.text, "{bytes:?} {n} at a time");
                assert_eq!(r.invalid(), whole.invalid, "{bytes:?} {n} at a time");
            }
        }
    }

    fn utf16le(s: &str) -> Vec<u8> {
        let mut v = vec![0xFF, 0xFE];
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    #[test]
    fn printable_escapes_what_would_act_on_a_terminal_and_nothing_else() {
        assert!(matches!(printable("C:\\x é 日本"), Cow::Borrowed(_)));
        let shown = printable("a\u{1b}[2J\u{7}\r\n\u{85}\u{2028}\u{2029}\u{202e}\u{200b}\tb");
        assert_eq!(
            shown,
            r"a\u{1b}[2J\u{7}\r\n\u{85}\u{2028}\u{2029}\u{202e}\u{200b}\tb"
        );
    }

    #[test]
    fn utf8_with_or_without_a_mark_and_utf16_with_one_are_read() {
        for bytes in [
            b"title: x\n".to_vec(),
            [UTF8_BOM, b"title: x\n"].concat(),
            utf16le("title: x\n"),
        ] {
            let d = decode(&bytes);
            assert_eq!((&*d.text, d.invalid.as_slice()), ("title: x\n", &[][..]));
        }
    }

    #[test]
    fn a_file_larger_than_its_kind_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.yml");
        std::fs::write(&p, "title: ten\n").unwrap();
        assert_eq!(read_file_at_most(&p, 11).unwrap(), "title: ten\n");
        let e = read_file_at_most(&p, 10).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { most: 10 }), "{e:?}");
        // A folder of rules holding a data dump: the rules around it load.
        let rules = dir.path().join("rules");
        std::fs::create_dir(&rules).unwrap();
        std::fs::File::create(rules.join("dump.yml"))
            .unwrap()
            .set_len(MOST_YAML + 1)
            .unwrap();
        let rule =
            "title: t\nlogsource: {product: windows}\ndetection:\n  s: {A: b}\n  condition: s\n";
        std::fs::write(rules.join("rule.yml"), rule).unwrap();
        let ds = crate::diag::Diagnostics::new();
        let set = crate::sigma::load(std::slice::from_ref(&rules), &ds);
        assert_eq!(set.rules.len(), 1);
        let shown: Vec<String> = ds.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            shown,
            [format!(
                "error[sigma]: {}: larger than 64 MiB, more than a file of its kind holds: not read",
                rules.join("dump.yml").display()
            )]
        );
    }

    #[test]
    fn an_archive_given_for_a_text_is_named_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("sigma_all_rules.zip");
        std::fs::write(&zip, b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe").unwrap();
        let e = read_file(&zip)
            .unwrap_err()
            .diagnostic("sigma", Path::new("r.zip"));
        assert_eq!(
            e.to_string(),
            "error[sigma]: r.zip: a zip archive, not a text: extract or decompress it first"
        );
        let mut tar = vec![b'r'; 300];
        tar[257..262].copy_from_slice(b"ustar");
        tar[10] = 0xff;
        let tarred = dir.path().join("rules.tar");
        std::fs::write(&tarred, tar).unwrap();
        assert!(matches!(
            read_file(&tarred),
            Err(ReadError::Packed("a tar archive"))
        ));
        // A text that merely starts like one is read as the text it is.
        let text = dir.path().join("bzh.yml");
        std::fs::write(&text, b"BZh title: x\n").unwrap();
        assert_eq!(read_file(&text).unwrap(), "BZh title: x\n");
    }

    #[test]
    fn a_file_with_an_invalid_byte_names_its_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.yml");
        std::fs::write(&p, b"title: x\nauthor: caf\xe9\n").unwrap();
        let e = read_file(&p)
            .unwrap_err()
            .diagnostic("sigma", Path::new("r.yml"));
        assert_eq!(
            e.to_string(),
            "error[sigma]: r.yml:2:12: not a text in UTF-8 or UTF-16: invalid UTF-8 from byte offset 20"
        );
    }
}
