//! Events as CSV: a header row naming the columns, then one event per row,
//! each cell the field its column names (an empty cell an empty text, as
//! CSV cannot tell it from none). What EvtxECmd writes by default
//! (`EvtxECmd_Output.csv` in KAPE collections) is read as its EVTX events,
//! as its JSON is: its `Payload` column holds the event data. Other
//! exports (a SIEM's search results) are read by their column names.
//!
//! A CSV file is known by its name (`.csv`, `.csv.gz`), not by its content:
//! a text with commas in it is no proof of one. Quoted cells may hold
//! commas, quotes and line breaks; an event's position is the line its row
//! starts on.

use super::FileRead;
use super::event::{Event, EventMeta};
use super::json::{Wanted, event_from_texts};
use crate::diag::{Diagnostic, Diagnostics};
use std::borrow::Cow;
use std::io::Read;
use std::sync::Arc;

/// Whether a file's name says CSV (`.csv`, `.csv.gz`, in any case).
pub(super) fn is_csv_name(path: &std::path::Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".csv") || name.ends_with(".csv.gz")
}

/// A row read, made an event where it is matched ([`Row::into_event`]):
/// cutting a text into rows follows its quotes from the start, one thread's
/// work, while reading a row's cells (an EvtxECmd payload's JSON) is most of
/// the work and can be shared.
pub struct Row {
    cells: csv::ByteRecord,
    columns: Arc<[String]>,
    meta: EventMeta,
}

impl Row {
    /// The row's event, keeping the fields `wanted`.
    pub(super) fn into_event(self, wanted: Option<&Wanted>, diags: &Diagnostics) -> Option<Event> {
        let line = self.meta.record as usize;
        let file = self.meta.file.clone();
        let say = |d: Diagnostic| diags.push(d.in_file(&*file).at(Some(line), None));
        let texts: Vec<Cow<str>> = cells(&self.cells)
            .take(self.columns.len())
            .map(lossy)
            .collect();
        let named = self.columns.iter().zip(&texts);
        let pairs = named.map(|(n, t)| (n.as_str(), t.as_ref()));
        let Some(e) = event_from_texts(pairs, self.meta, wanted) else {
            say(Diagnostic::error(
                "events",
                "a row that cannot be read as an event, 1 record lost",
            ));
            return None;
        };
        super::json::partly_read(&e).for_each(|msg| say(Diagnostic::warning("events", msg)));
        Some(e)
    }
}

/// Read the rows of a CSV text; `None` (reported) when it has no header.
pub(super) fn read(
    input: impl Read,
    file: &Arc<str>,
    report: &dyn Fn(Diagnostic),
    sink: &mut dyn FnMut(Row),
) -> Option<FileRead> {
    let max_row = super::MAX_EVENT as u64;
    let mut input = std::io::BufReader::new(input);
    let head = std::io::BufRead::fill_buf(&mut input).unwrap_or_default();
    if crate::text::Encoding::of(head).0 == crate::text::Encoding::Utf8 {
        let delimiter = delimiter_of(head);
        return read_bounded(input, delimiter, max_row, file, report, sink);
    }
    // UTF-16 (Windows PowerShell's `Export-Csv -Encoding Unicode`): decoded
    // a block at a time, as it is read.
    let encoding = crate::text::Encoding::of(head);
    let mut text = std::io::BufReader::new(crate::text::Utf16Reader::new(input, encoding));
    let delimiter = delimiter_of(std::io::BufRead::fill_buf(&mut text).unwrap_or_default());
    let read = read_bounded(&mut text, delimiter, max_row, file, report, sink);
    for invalid in text.get_ref().invalid() {
        report(Diagnostic::warning(
            "events",
            format!("{invalid} replaced with U+FFFD"),
        ));
    }
    read
}

/// [`read`], cells cut at `delimiter`, a row longer than `max_row` bytes
/// ending the file with an error (a quote left open would otherwise take
/// the rest of the input, of a stream without end too, into one cell).
fn read_bounded(
    input: impl Read,
    delimiter: u8,
    max_row: u64,
    file: &Arc<str>,
    report: &dyn Fn(Diagnostic),
    sink: &mut dyn FnMut(Row),
) -> Option<FileRead> {
    let row_start = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut rows = reader(input, delimiter, max_row, row_start.clone());
    let mut record = csv::ByteRecord::new();
    let mut problems = RowProblems::default();
    let columns = header(&mut rows, &mut record, &mut problems, report)?;
    let mut read = FileRead::default();
    let mut last_line = 1;
    // Whether the text was read to its end (not cut by an error).
    let mut whole = false;
    loop {
        let here = rows.position().clone();
        row_start.set(here.byte());
        match rows.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => {
                whole = true;
                break;
            }
            Err(e) => {
                // What comes after an unreadable input is not read.
                let at = e.position().unwrap_or(&here).line() as usize;
                report(Diagnostic::error("events", format!("cannot read: {e}")).at(Some(at), None));
                break;
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        last_line = line;
        if record.len() == 1 && cells(&record).all(<[u8]>::is_empty) {
            continue; // A blank line ending in CR LF.
        }
        problems.check(&record, columns.len(), line);
        let meta = EventMeta {
            file: file.clone(),
            record: line,
            ..Default::default()
        };
        let cells = std::mem::replace(&mut record, csv::ByteRecord::with_capacity(256, 16));
        let columns = columns.clone();
        sink(Row {
            cells,
            columns,
            meta,
        });
        read.events += 1;
    }
    let end = rows.position().line();
    if let Some(d) = rows
        .get_ref()
        .quotes
        .unclosed(end, last_line)
        .filter(|_| whole)
    {
        report(d);
    }
    problems.tell(columns.len(), report);
    Some(read)
}

/// The cell separator of a CSV text, from its start (`head`, which holds
/// the header row or its beginning): of `,`, `;` (what spreadsheets write
/// where the comma is the decimal mark), tab and `|`, the one the header
/// row holds most often outside quotes; a comma when it holds none.
fn delimiter_of(head: &[u8]) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let mut counts = [0usize; CANDIDATES.len()];
    let mut quoted = false;
    let head = match is_type_line(head) {
        true => head.splitn(2, |&b| b == b'\n').nth(1).unwrap_or_default(),
        false => head,
    };
    for &b in head.iter().take_while(|&&b| b != b'\n') {
        if b == b'"' {
            quoted = !quoted;
        } else if let Some(i) = CANDIDATES.iter().position(|&c| c == b && !quoted) {
            counts[i] += 1;
        }
    }
    // The first of the most frequent: a comma on a tie.
    let best =
        (0..CANDIDATES.len()).fold(0, |best, i| if counts[i] > counts[best] { i } else { best });
    CANDIDATES[best]
}

/// The CSV reader of `input`, cells cut at `delimiter`, a row longer than
/// `max_row` bytes past `row_start` an error.
fn reader<R: Read>(
    input: R,
    delimiter: u8,
    max_row: u64,
    row_start: std::rc::Rc<std::cell::Cell<u64>>,
) -> csv::Reader<Bounded<R>> {
    let input = Bounded {
        input,
        read: 0,
        row_start,
        max_row,
        quotes: Quotes::default(),
    };
    // Rows end at LF, a CR before it cut from the last cell: the reader's
    // own CR LF ending places each row on the line before it.
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(input)
}

/// The column names of the first row; `None` (reported) without one.
fn header<R: Read>(
    rows: &mut csv::Reader<R>,
    record: &mut csv::ByteRecord,
    problems: &mut RowProblems,
    report: &dyn Fn(Diagnostic),
) -> Option<Arc<[String]>> {
    let mut read = rows.read_byte_record(record);
    if matches!(read, Ok(true)) && record.get(0).is_some_and(is_type_line) {
        read = rows.read_byte_record(record);
    }
    match read {
        Ok(true) => Some(columns(record, problems, report).into()),
        Ok(false) => {
            report(Diagnostic::warning("events", "empty CSV file; skipped"));
            None
        }
        Err(e) => {
            report(Diagnostic::error("events", format!("cannot read: {e}")));
            None
        }
    }
}

/// The input, refused past `max_row` bytes beyond where the row being read
/// starts.
struct Bounded<R> {
    input: R,
    read: u64,
    row_start: std::rc::Rc<std::cell::Cell<u64>>,
    max_row: u64,
    quotes: Quotes,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read.saturating_sub(self.row_start.get()) > self.max_row {
            let mib = self.max_row >> 20;
            let msg = format!(
                "a row is longer than {mib} MiB, which no event is: the rest of the file is not read"
            );
            return Err(std::io::Error::other(msg));
        }
        let n = self.input.read(buf)?;
        self.read += n as u64;
        self.quotes.feed(&buf[..n]);
        Ok(n)
    }
}

/// Whether the text read so far ends inside a quoted cell, followed as the
/// CSV reader reads quotes: a quote opens a cell only at its start, `""`
/// inside one is a quote, and any other quote is a letter. Only quote bytes
/// are visited, so following a text costs a fraction of reading it.
#[derive(Debug, Clone, Copy)]
struct Quotes {
    state: QuoteState,
    /// The last byte of the text before this chunk.
    before: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    Outside,
    Inside,
    /// Inside, a quote just read: it closes the cell unless a quote follows.
    QuoteInside,
}

impl Default for Quotes {
    fn default() -> Quotes {
        Quotes {
            state: QuoteState::Outside,
            before: b'\n',
        }
    }
}

impl Quotes {
    fn feed(&mut self, chunk: &[u8]) {
        let mut at = 0;
        if self.state == QuoteState::QuoteInside && !chunk.is_empty() {
            self.state = match chunk[0] {
                b'"' => QuoteState::Inside,
                _ => QuoteState::Outside,
            };
            at = usize::from(self.state == QuoteState::Inside);
        }
        while let Some(i) = memchr::memchr(b'"', &chunk[at..]).map(|i| at + i) {
            at = i + 1;
            if self.state == QuoteState::Outside {
                let prev = if i == 0 { self.before } else { chunk[i - 1] };
                if matches!(prev, b',' | b'\n') {
                    self.state = QuoteState::Inside;
                }
                continue;
            }
            match chunk.get(i + 1) {
                Some(b'"') => at = i + 2,
                Some(_) => self.state = QuoteState::Outside,
                None => self.state = QuoteState::QuoteInside,
            }
        }
        if let Some(&last) = chunk.last() {
            self.before = last;
        }
    }

    /// Whether the text ends inside a quoted cell.
    fn open(&self) -> bool {
        self.state == QuoteState::Inside
    }

    /// What is said of a text read whole, `end_line` its last line, when
    /// it ends inside a quoted cell of the row on `row_line`.
    fn unclosed(&self, end_line: u64, row_line: u64) -> Option<Diagnostic> {
        if !self.open() {
            return None;
        }
        // A text ending in a line break ends on the line before.
        let more = (end_line - u64::from(self.before == b'\n')).saturating_sub(row_line);
        let msg = match more {
            0 => "a quote opened in the row on this line is never closed".to_string(),
            _ => format!(
                "a quote opened in the row on this line is never closed: the {more} line(s) after it were read as one cell of that row"
            ),
        };
        Some(Diagnostic::error("events", msg).at(Some(row_line as usize), None))
    }
}

/// A cell's text, with replacement characters where it is not UTF-8.
fn lossy(cell: &[u8]) -> Cow<'_, str> {
    // Checked first, as most cells are UTF-8: the check is several times
    // faster than the lossy conversion's.
    std::str::from_utf8(cell).map_or_else(|_| String::from_utf8_lossy(cell), Cow::from)
}

/// A row's cells, the CR of a CR LF ending cut from the last.
fn cells(record: &csv::ByteRecord) -> impl Iterator<Item = &[u8]> {
    let last = record.len().saturating_sub(1);
    record
        .iter()
        .enumerate()
        .map(move |(i, cell)| match i == last {
            true => cell.strip_suffix(b"\r").unwrap_or(cell),
            false => cell,
        })
}

/// Whether a line is the `#TYPE System.Management.Automation.PSCustomObject`
/// line Windows PowerShell's `Export-Csv` writes above the header unless
/// told `-NoTypeInformation` (its `Import-Csv` passes over it too).
fn is_type_line(line: &[u8]) -> bool {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    line.starts_with(b"#TYPE ")
}

/// The column names: the header's cells, a UTF-8 byte order mark aside
/// (EvtxECmd writes one); a name used again is numbered (`Name_2`), with a
/// warning, so that no column hides another. Linear in the header: a
/// hostile one may repeat a name a million times.
fn columns(
    header: &csv::ByteRecord,
    problems: &mut RowProblems,
    report: &dyn Fn(Diagnostic),
) -> Vec<String> {
    /// Repeated names said one by one; the rest are counted.
    const SAID: usize = 8;
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    let mut taken: std::collections::HashSet<String> = Default::default();
    // Per repeated name, the number its next repetition tries first.
    let mut next: std::collections::HashMap<String, usize> = Default::default();
    let mut repeats = 0;
    let line = header.position().map_or(1, csv::Position::line);
    let say =
        |msg: String| report(Diagnostic::warning("events", msg).at(Some(line as usize), None));
    for (i, cell) in cells(header).enumerate() {
        let cell = if i == 0 {
            cell.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(cell)
        } else {
            cell
        };
        let base = problems.text(cell, line).trim().to_string();
        let mut name = base.clone();
        if taken.contains(&name) {
            let n = next.entry(base.clone()).or_insert(2);
            while taken.contains(&format!("{base}_{n}")) {
                *n += 1;
            }
            name = format!("{base}_{n}");
            *n += 1;
            repeats += 1;
            if repeats <= SAID {
                say(format!(
                    "column `{base}` appears more than once: column {} is read as `{name}`",
                    i + 1
                ));
            }
        }
        taken.insert(name.clone());
        names.push(name);
    }
    if repeats > SAID {
        say(format!(
            "{} more columns repeat a name before them, each read numbered the same way",
            repeats - SAID
        ));
    }
    names
}

/// What rows held that the reader says once, at the end: rows that were
/// not UTF-8, rows with more cells than the header names.
#[derive(Default)]
struct RowProblems {
    not_utf8: Tally,
    longer: Tally,
}

/// Rows with one problem: how many, and the line of the first.
#[derive(Default)]
struct Tally {
    rows: u64,
    first: u64,
    last: u64,
}

impl Tally {
    /// The row on `line` has the problem (counted once however often).
    fn add(&mut self, line: u64) {
        if self.rows == 0 {
            self.first = line;
        } else if self.last == line {
            return;
        }
        self.rows += 1;
        self.last = line;
    }

    /// The problem said, if a row had it.
    fn tell(&self, what: &str, report: &dyn Fn(Diagnostic)) {
        if self.rows > 0 {
            let msg = format!("{} row(s) {what}", self.rows);
            let at = Some(self.first as usize);
            report(Diagnostic::warning("events", msg).at(at, None));
        }
    }
}

impl RowProblems {
    /// A header cell's text (see [`lossy`]).
    fn text<'c>(&mut self, cell: &'c [u8], line: u64) -> Cow<'c, str> {
        if std::str::from_utf8(cell).is_err() {
            self.not_utf8.add(line);
        }
        lossy(cell)
    }

    /// Tallies what a row holds that cannot be read as it is.
    fn check(&mut self, record: &csv::ByteRecord, columns: usize, line: u64) {
        if record.len() > columns {
            self.longer.add(line);
        }
        if cells(record)
            .take(columns)
            .any(|c| std::str::from_utf8(c).is_err())
        {
            self.not_utf8.add(line);
        }
    }

    fn tell(&self, columns: usize, report: &dyn Fn(Diagnostic)) {
        let utf8 = "not valid UTF-8, the first on this line: read with replacement characters";
        self.not_utf8.tell(utf8, report);
        let longer = format!(
            "with more cells than the header's {columns} columns, the first on this line: the cells beyond them have no name and are not read"
        );
        self.longer.tell(&longer, report);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &[u8]) -> (Vec<Event>, Vec<String>) {
        let got = std::cell::RefCell::new(Vec::new());
        let report = |d: Diagnostic| got.borrow_mut().push(d.in_file("t.csv").to_string());
        let mut rows = Vec::new();
        read(text, &Arc::from("t.csv"), &report, &mut |r| rows.push(r));
        let diags = Diagnostics::new();
        let out = rows
            .into_iter()
            .filter_map(|r| r.into_event(None, &diags))
            .collect();
        let mut said = got.into_inner();
        said.extend(diags.sorted().into_iter().map(|d| d.to_string()));
        (out, said)
    }

    #[test]
    fn each_row_is_an_event_of_its_cells() {
        let text =
            b"\xEF\xBB\xBFImage,CommandLine,Empty\r\nC:\\a.exe,\"a, \"\"b\"\"\nc\",\nC:\\b.exe,x\n";
        let (got, diags) = events(text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].text("Image"),
            Some("C:\\a.exe"),
            "the byte order mark is no name"
        );
        assert_eq!(got[0].text("CommandLine"), Some("a, \"b\"\nc"));
        assert_eq!(got[0].text("Empty"), Some(""));
        assert_eq!((got[0].meta.record, got[1].meta.record), (2, 4));
        assert!(got[1].get("Empty").is_none(), "a short row lacks the rest");
    }

    #[test]
    fn cells_are_cut_where_the_header_says() {
        for text in [
            "Image;CommandLine\nC:\\a.exe;\"x; y, z\"\n",
            "Image\tCommandLine\nC:\\a.exe\t\"x; y, z\"\n",
            "Image|CommandLine\nC:\\a.exe|\"x; y, z\"\n",
            "Image,CommandLine\nC:\\a.exe,\"x; y, z\"\n",
        ] {
            let (got, diags) = events(text.as_bytes());
            assert!(diags.is_empty(), "{text:?}: {diags:?}");
            assert_eq!(got[0].text("Image"), Some("C:\\a.exe"), "{text:?}");
            assert_eq!(got[0].text("CommandLine"), Some("x; y, z"), "{text:?}");
        }
        // Separators quoted in a column's name are part of it.
        assert_eq!(delimiter_of(b"\"a;b;c\",d\n1;2;3,4"), b',');
        assert_eq!(delimiter_of(b"one column\n"), b',');
        assert_eq!(delimiter_of(b""), b',');
    }

    #[test]
    fn windows_powershells_type_line_is_no_header() {
        for bom in ["", "\u{feff}"] {
            let text = format!(
                "{bom}#TYPE System.Management.Automation.PSCustomObject\r\n\
                 \"Image\";\"CommandLine\";\"Image\"\r\n\"C:\\a.exe\";\"a; b\";\"x\"\r\n"
            );
            let (got, diags) = events(text.as_bytes());
            assert_eq!(got.len(), 1, "{text:?}");
            assert_eq!(got[0].text("Image"), Some("C:\\a.exe"));
            assert_eq!(got[0].text("CommandLine"), Some("a; b"));
            assert_eq!(got[0].meta.record, 3);
            assert_eq!(
                diags,
                [
                    "warning[events]: t.csv:2: column `Image` appears more than once: column 3 is read as `Image_2`"
                ]
            );
        }
    }

    #[test]
    fn an_evtxecmd_row_reads_as_its_evtx_event() {
        let payload =
            r##"{""EventData"":{""Data"":[{""@Name"":""Image"",""#text"":""C:\\w.exe""}]}}"##;
        let text = format!(
            "RecordNumber,EventRecordId,TimeCreated,EventId,Level,Provider,Channel,ProcessId,ThreadId,Computer,Payload\n\
             7,7,2024-05-01 10:00:00.0000000,1,Info,Microsoft-Windows-Sysmon,Microsoft-Windows-Sysmon/Operational,3000,4000,ws1,\"{payload}\"\n"
        );
        let (got, diags) = events(text.as_bytes());
        assert!(diags.is_empty(), "{diags:?}");
        let e = &got[0];
        assert_eq!(e.text("Image"), Some("C:\\w.exe"));
        assert_eq!(e.text("EventID"), Some("1"));
        assert_eq!(e.text("Provider_Name"), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(e.text("Execution_ProcessID"), Some("3000"));
        assert!(
            e.get("ProcessId").is_none(),
            "the writer's process is no event field"
        );
        assert_eq!(
            e.meta.channel.as_deref(),
            Some("Microsoft-Windows-Sysmon/Operational")
        );
    }

    #[test]
    fn a_header_repeating_a_name_many_times_is_read_in_linear_time() {
        let n = 20_000;
        let mut text = vec!["A".to_string(); n];
        text[1] = "A_3".into();
        let text = format!("{}\n{}\n", text.join(","), vec!["v"; n].join(","));
        let (got, diags) = events(text.as_bytes());
        let e = &got[0];
        assert_eq!(e.text("A_3"), Some("v"));
        assert_eq!(e.text("A_2"), Some("v"));
        assert_eq!(e.text("A_4"), Some("v"));
        assert_eq!(e.text(&format!("A_{n}")), Some("v"));
        assert!(e.get(&format!("A_{}", n + 1)).is_none());
        assert_eq!(diags.len(), 9, "{diags:?}");
        assert!(diags[0].ends_with("column `A` appears more than once: column 3 is read as `A_2`"));
        assert!(diags[1].ends_with("column 4 is read as `A_4`"), "{diags:?}");
        let rest = n - 2 - 8;
        assert!(diags[8].ends_with(&format!("t.csv:1: {rest} more columns repeat a name before them, each read numbered the same way")), "{diags:?}");
    }

    #[test]
    fn what_cannot_be_read_as_it_is_is_said() {
        let (got, diags) = events(b"A,A,B\n1,2,3,4\n\xff,\xfe,y\n");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].text("A_2"), Some("2"));
        assert_eq!(got[1].text("A"), Some("\u{fffd}"));
        assert_eq!(diags.len(), 3, "{diags:?}");
        assert!(diags[0].contains("column `A` appears more than once: column 2 is read as `A_2`"));
        assert!(
            diags[1].contains(":3:") && diags[1].contains("1 row(s) not valid UTF-8"),
            "{diags:?}"
        );
        assert!(
            diags[2].contains(":2:") && diags[2].contains("more cells than the header's 3"),
            "{diags:?}"
        );
        let (none, diags) = events(b"");
        assert!(none.is_empty() && diags[0].contains("empty CSV file"));
    }

    #[test]
    fn a_quote_never_closed_is_said_with_its_row() {
        let (got, diags) = events(b"A,B\n1,2\n\"open,3\n4,5\n6,7\n");
        assert_eq!(got.len(), 2, "the rows after it are one cell");
        assert_eq!(got[1].text("A"), Some("open,3\n4,5\n6,7\n"));
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0].starts_with("error[events]: t.csv:3:")
                && diags[0].contains("never closed: the 2 line(s) after it were read as one cell"),
            "{diags:?}"
        );
        for closed in [
            &b"A,B\n\"a \"\"q\"\" b\",\"\"\n"[..],
            b"A,B\nx\"y,\"\"\"\"\"\"\n",
            b"A,B\n\"a\"b\"c,d\n",
            b"A\n\"x\"",
        ] {
            let (got, diags) = events(closed);
            assert_eq!((got.len(), diags), (1, Vec::<String>::new()));
        }
    }

    #[test]
    fn quotes_are_followed_across_chunks() {
        let text = b"A,B\n\"a\"\"\",\"x\"\"\"\"\"\n1,\"";
        for cut in 0..text.len() {
            for second in cut..text.len() {
                let mut q = Quotes::default();
                q.feed(&text[..cut]);
                q.feed(&text[cut..second]);
                q.feed(&text[second..]);
                assert!(q.open(), "cut at {cut} and {second}");
                let mut q = Quotes::default();
                q.feed(&text[..cut]);
                q.feed(&text[cut..text.len() - 1]);
                assert!(!q.open(), "closed, cut at {cut}");
            }
        }
    }

    #[test]
    fn utf16_is_decoded() {
        let text = "\u{feff}Image,User\r\nC:\\é.exe,bob\r\n";
        for bytes in [
            text.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>(),
            text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        ] {
            let (got, diags) = events(&bytes);
            assert!(diags.is_empty(), "{diags:?}");
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].text("Image"), Some("C:\\é.exe"));
            assert_eq!((got[0].text("User"), got[0].meta.record), (Some("bob"), 2));
        }
    }

    #[test]
    fn utf16_is_read_a_block_at_a_time() {
        // 200,000 rows (8 MB in UTF-16), a lone surrogate in the last: the
        // first row is handed on long before the input is read, and the
        // surrogate is said with its offset.
        let mut text: Vec<u16> = "\u{feff}Image,User\r\n".encode_utf16().collect();
        for i in 0..200_000 {
            text.extend(format!("C:\\{i}.exe,bob\r\n").encode_utf16());
        }
        let bad = 2 * text.len();
        text.extend([0xD800, 0x41, 0x2C, 0x42, 0x0D, 0x0A]);
        let bytes: Vec<u8> = text.iter().flat_map(|u| u.to_le_bytes()).collect();
        let fed = std::cell::Cell::new(0);
        struct Counted<'a>(&'a [u8], &'a std::cell::Cell<usize>);
        impl Read for Counted<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.read(buf)?;
                self.1.set(self.1.get() + n);
                Ok(n)
            }
        }
        let said = std::cell::RefCell::new(Vec::new());
        let report = |d: Diagnostic| said.borrow_mut().push(d.to_string());
        let (mut rows, mut fed_at_first) = (0, None);
        let read = read(
            Counted(&bytes, &fed),
            &Arc::from("t.csv"),
            &report,
            &mut |_| {
                rows += 1;
                fed_at_first.get_or_insert(fed.get());
            },
        );
        assert_eq!((read.map(|r| r.events), rows), (Some(200_001), 200_001));
        assert!(
            fed_at_first < Some(1 << 20),
            "{fed_at_first:?} of {}",
            bytes.len()
        );
        let lone =
            format!("warning[events]: invalid UTF-16 from byte offset {bad} replaced with U+FFFD");
        assert_eq!(said.into_inner(), [lone]);
    }

    #[test]
    fn a_row_too_long_for_an_event_ends_the_file() {
        let mut text = b"A,B\n1,2\n3,\"open quote".to_vec();
        text.resize(text.len() + (3 << 20), b'x');
        text.extend_from_slice(b"\"\n5,6\n");
        let got = std::cell::RefCell::new(Vec::new());
        let report = |d: Diagnostic| got.borrow_mut().push(d.in_file("t.csv").to_string());
        let mut rows = Vec::new();
        let read = read_bounded(
            &text[..],
            b',',
            1 << 20,
            &Arc::from("t.csv"),
            &report,
            &mut |r| {
                let e = r.into_event(None, &Diagnostics::new());
                rows.push(e.and_then(|e| e.text("A").map(str::to_string)))
            },
        );
        assert_eq!(rows, [Some("1".to_string())]);
        assert_eq!(read.map(|r| r.events), Some(1));
        let got = got.into_inner();
        assert!(
            got[0].contains("a row is longer than 1 MiB, which no event is"),
            "{got:?}"
        );
        assert_eq!(got.len(), 1, "said once: {got:?}");
    }
}
