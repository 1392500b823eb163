//! A long text read a part at a time. A JSON array of events or a file of
//! Windows events as XML can be gigabytes long; read whole, it took as much
//! memory. Read in parts of [`PART`] bytes (and up to the next mark that
//! can end one), each part's events are handed on and matched, then the
//! part is dropped: memory stays that of a part whatever the file's size.
//! A reader of parts says where its part's last whole event ended; what
//! follows is read again with the next part, so that the events, their
//! numbers and every diagnostic are those of the text read whole.

use crate::diag::Diagnostics;
use crate::text::{Encoding, Invalid};
use std::io::{BufRead, Read};
use std::sync::Arc;

/// The bytes a part holds at least.
pub(super) const PART: usize = 8 << 20;

/// How long the parts of a text are: at least `part` bytes each, and what
/// is held at once (a part and what the one before left to read again) at
/// most `most` bytes, as a text read whole from a stream is: an event that
/// never ends (a gzip bomb of one line) would otherwise take all memory.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sizes {
    pub(super) part: usize,
    pub(super) most: usize,
}

impl Sizes {
    pub(super) const DEFAULT: Sizes = Sizes {
        part: PART,
        most: super::MAX_WHOLE as usize,
    };

    /// Parts of `part` bytes, held without a bound (for tests and fuzzing).
    pub(super) fn of(part: usize) -> Sizes {
        Sizes {
            part,
            most: usize::MAX,
        }
    }
}

/// How reading a text began: its events were read a part at a time, or it
/// is to be read whole from these first bytes on.
pub(super) enum Begun {
    Read(super::FileRead),
    Whole(Vec<u8>),
}

/// Where a part of a longer text starts: the lines before it, the bytes
/// and characters of its first line before it, and whether those are
/// blanks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Base {
    pub(super) line: usize,
    pub(super) col: usize,
    col_chars: usize,
    pub(super) blank: bool,
}

impl Default for Base {
    fn default() -> Base {
        Base {
            line: 0,
            col: 0,
            col_chars: 0,
            blank: true,
        }
    }
}

impl Base {
    /// The base of what follows `gone`, read from this base.
    pub(super) fn after(self, gone: &str) -> Base {
        let blank = |t: &str| t.bytes().all(|b| matches!(b, b' ' | b'\t'));
        match memchr::memrchr(b'\n', gone.as_bytes()) {
            Some(p) => Base {
                line: self.line + memchr::memchr_iter(b'\n', gone.as_bytes()).count(),
                col: gone.len() - p - 1,
                col_chars: gone[p + 1..].chars().count(),
                blank: blank(&gone[p + 1..]),
            },
            None => Base {
                line: self.line,
                col: self.col + gone.len(),
                col_chars: self.col_chars + gone.chars().count(),
                blank: self.blank && blank(gone),
            },
        }
    }

    /// A line and column in characters counted in the part, counted in
    /// the whole text.
    pub(super) fn place_chars(self, (line, col): (usize, usize)) -> (usize, usize) {
        match line {
            1 => (self.line + 1, self.col_chars + col),
            _ => (self.line + line, col),
        }
    }
}

/// The text of the parts not read yet, and where it stands in the file.
pub(super) struct Parts<'a> {
    pub(super) file: &'a Arc<str>,
    pub(super) diags: &'a Diagnostics,
    pub(super) text: String,
    pub(super) base: Base,
    /// The bytes of the file added so far.
    offset: usize,
    encoding: Encoding,
    /// The byte-order mark's length, left out of the text.
    mark: usize,
    /// Whether an invalid sequence was said (the first is, as in a text
    /// read whole).
    told: bool,
}

impl<'a> Parts<'a> {
    /// The parts of a text in `encoding` (its byte-order mark `mark`
    /// bytes long).
    pub(super) fn new(
        file: &'a Arc<str>,
        diags: &'a Diagnostics,
        (encoding, mark): (Encoding, usize),
    ) -> Parts<'a> {
        Parts {
            file,
            diags,
            text: String::new(),
            base: Base::default(),
            offset: 0,
            encoding,
            mark,
            told: false,
        }
    }

    /// Add the next bytes of the file (the last, `last`), decoded as the
    /// whole text is ([`crate::text::decode`]).
    pub(super) fn add(&mut self, raw: &[u8], last: bool) {
        let skip = if self.offset == 0 { self.mark } else { 0 };
        let body = &raw[skip.min(raw.len())..];
        let start = self.offset + skip;
        self.offset += raw.len();
        let Some(unit) = self.encoding.unit() else {
            match std::str::from_utf8(body) {
                Ok(t) => self.text.push_str(t),
                Err(e) => {
                    self.tell(Invalid::Utf8(start + e.valid_up_to()));
                    self.text.push_str(&String::from_utf8_lossy(body));
                }
            }
            return;
        };
        if let Some(at) = crate::text::push_utf16(body, unit, start, &mut self.text) {
            self.tell(Invalid::Utf16(at));
        }
        // Said once, with the bytes that end the text.
        if last && !raw.is_empty() && (self.offset - self.mark) % 2 == 1 {
            tell_invalid(Invalid::HalfChar, self.file, self.diags);
        }
    }

    /// Says the first invalid sequence.
    fn tell(&mut self, invalid: Invalid) {
        if !std::mem::replace(&mut self.told, true) {
            tell_invalid(invalid, self.file, self.diags);
        }
    }

    /// Drop the text read, up to `at`.
    pub(super) fn drop_to(&mut self, at: usize) {
        self.base = self.base.after(&self.text[..at]);
        self.text.drain(..at);
    }

    /// Keep what follows `at` of a text read (taken out of these parts),
    /// to be read again with the next part.
    pub(super) fn keep_from(&mut self, read: &str, at: usize) {
        self.base = self.base.after(&read[..at]);
        self.text = read[at..].to_string();
    }
}

/// The first part of a text: at least `want` bytes and what follows up to
/// and with the next `stop` (an ASCII character: a part never ends inside
/// one), the text's encoding told from them, and whether the input ends
/// there; at an error (said), what was read and the end.
pub(super) fn first_part(
    input: &mut impl BufRead,
    sizes: Sizes,
    stop: u8,
    cannot: &dyn Fn(std::io::Error),
) -> (Vec<u8>, (Encoding, usize), bool) {
    // Enough to tell a text's encoding, as it is told read whole.
    let want = sizes.part.max(4).min(sizes.most);
    let mut raw = Vec::with_capacity(want.min(PART) + 1024);
    let read = input.by_ref().take(want as u64).read_to_end(&mut raw);
    let encoding = Encoding::of(&raw);
    let end = read.and_then(|_| finish_part(input, &mut raw, want, stop, encoding.0, sizes.most));
    // A first part that fills the bound is read as a part (or whole, by
    // the caller, within its own bound).
    let end = end.map(|end| end.unwrap_or(false));
    (raw, encoding, end.unwrap_or_else(|e| report(cannot, e)))
}

/// The next part of a text in `encoding` (see [`first_part`]), of at least
/// `want` bytes, with `held` bytes held already.
pub(super) fn next_part(
    input: &mut impl BufRead,
    (want, held, most): (usize, usize, usize),
    stop: u8,
    encoding: Encoding,
    cannot: &dyn Fn(std::io::Error),
) -> (Vec<u8>, bool) {
    let room = most.saturating_sub(held);
    let want = want.min(room);
    // Sized at once: grown by doubling, it would take twice the part.
    let mut raw = Vec::with_capacity(want.min(PART) + 1024);
    let read = input.by_ref().take(want as u64).read_to_end(&mut raw);
    let end = read.and_then(|_| finish_part(input, &mut raw, want, stop, encoding, room));
    let end = end.and_then(|end| end.ok_or_else(|| too_much(most)));
    (raw, end.unwrap_or_else(|e| report(cannot, e)))
}

/// What follows in `input`, with `held` bytes held already, to `most` in
/// all (past them, said and not read).
pub(super) fn rest(
    input: &mut impl BufRead,
    (held, most): (usize, usize),
    cannot: &dyn Fn(std::io::Error),
) -> Vec<u8> {
    let room = most.saturating_sub(held);
    let mut rest = Vec::new();
    let read = input.by_ref().take(room as u64).read_to_end(&mut rest);
    let more = read.and_then(|_| input.fill_buf().map(|b| !b.is_empty()));
    match more {
        Ok(false) => {}
        Ok(true) => cannot(too_much(most)),
        Err(e) => cannot(e),
    }
    rest
}

/// Why a part past `most` bytes held is not read.
fn too_much(most: usize) -> std::io::Error {
    std::io::Error::other(format!(
        "more than {} MiB of one JSON or XML text to hold at once (an event that long, or \
         that much text between two events or after them): the rest is not read",
        most >> 20
    ))
}

/// Says a read error; the input ends there.
fn report(cannot: &dyn Fn(std::io::Error), e: std::io::Error) -> bool {
    cannot(e);
    true
}

/// Reads on to the end of the character `stop` in `encoding` when the
/// `want` bytes read end elsewhere, to `room` bytes in all; whether the
/// input ends there (`None`: not known, `room` bytes read).
fn finish_part(
    input: &mut impl BufRead,
    raw: &mut Vec<u8>,
    want: usize,
    stop: u8,
    encoding: Encoding,
    room: usize,
) -> std::io::Result<Option<bool>> {
    debug_assert!(stop.is_ascii());
    let (unit, last): (&[u8], u8) = match encoding {
        Encoding::Utf8 => (&[stop], stop),
        Encoding::Utf16Le => (&[stop, 0], 0),
        Encoding::Utf16Be => (&[0, stop], stop),
    };
    // A UTF-16 unit starts at an even offset (a byte-order mark is two).
    let ends = |raw: &[u8]| raw.ends_with(unit) && (unit.len() == 1 || raw.len().is_multiple_of(2));
    if raw.len() == want {
        while !ends(raw) {
            let left = room.saturating_sub(raw.len());
            if left == 0 && !input.fill_buf()?.is_empty() {
                return Ok(None);
            }
            if input.by_ref().take(left as u64).read_until(last, raw)? == 0 {
                break;
            }
        }
    }
    input.fill_buf().map(|b| Some(b.is_empty()))
}

/// Says what was invalid in a text's encoding.
pub(super) fn tell_invalid(invalid: Invalid, file: &str, diags: &Diagnostics) {
    let what = match invalid {
        Invalid::HalfChar => format!("{invalid}; ignored"),
        _ => format!("{invalid} replaced with U+FFFD"),
    };
    let d = crate::diag::Diagnostic::warning("events", what);
    diags.push(d.in_file(file));
}

/// What says that a file cannot be read further: what was read before
/// the error is read, as a cut file is.
pub(super) fn cannot_read<'a>(
    file: &'a str,
    diags: &'a Diagnostics,
) -> impl Fn(std::io::Error) + 'a {
    move |e| {
        let d = crate::diag::Diagnostic::error("events", format!("cannot read: {e}"));
        diags.push(d.in_file(file));
    }
}

/// How long the next part is after one that ended at `at`: twice as long
/// when no event ended in it, so that a long event is not read again and
/// again.
pub(super) fn next_want(at: usize, want: usize, part: usize) -> usize {
    match at {
        0 => want.saturating_mul(2),
        _ => part,
    }
}

/// A text as UTF-8 and in each UTF-16 a file may hold: with a byte-order
/// mark (little- and big-endian), without (little-endian), and cut inside
/// its last unit.
#[cfg(test)]
pub(super) fn encoded(text: &str) -> Vec<Vec<u8>> {
    let units = |be: bool| -> Vec<u8> {
        let each = text.encode_utf16();
        match be {
            true => each.flat_map(u16::to_be_bytes).collect(),
            false => each.flat_map(u16::to_le_bytes).collect(),
        }
    };
    let (le, be) = (units(false), units(true));
    let half = [&[0xFF, 0xFE][..], &le, &[0x41]].concat();
    vec![
        text.as_bytes().to_vec(),
        [&[0xFF, 0xFE][..], &le].concat(),
        [&[0xFE, 0xFF][..], &be].concat(),
        le,
        half,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_counts_lines_bytes_and_characters_before_a_part() {
        let b = Base::default().after("ab\ncd");
        assert_eq!((b.line, b.col, b.col_chars, b.blank), (1, 2, 2, false));
        let b = b.after("é\n  ");
        assert_eq!((b.line, b.col, b.col_chars, b.blank), (2, 2, 2, true));
        let b = b.after(" é");
        assert_eq!((b.line, b.col, b.col_chars, b.blank), (2, 5, 4, false));
        assert_eq!(b.place_chars((1, 3)), (3, 7));
        assert_eq!(b.place_chars((2, 3)), (4, 3));
    }
}
