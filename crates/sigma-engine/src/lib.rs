//! A Sigma rule engine: it reads Sigma rules with every position kept, compiles
//! them once, and runs them over Windows EVTX files, Windows events as XML,
//! JSON or JSONL events (CloudTrail's and journald's among them), CSV
//! exports, and W3C web server, Apache and nginx access, Zeek, Linux audit
//! and syslog logs (Cisco's and FortiGate's lines among them).
//!
//! # How it is built
//!
//! Rules and events take one road, each stage in its own module:
//!
//! 1. [`yaml`] parses YAML into a tree that keeps each node's line and column
//!    and each scalar's spelling (`00000429` stays a string), so that every
//!    later problem can name `file:line:col`.
//! 2. [`sigma`] turns the tree into the rule model ([`sigma::SigmaRule`]):
//!    detections, the condition language (parsed without recursion deeper
//!    than [`sigma::condition::MAX_DEPTH`]), modifiers, correlations and
//!    filters. Problems become [`diag::Diagnostic`]s; a bad rule never stops
//!    the others.
//! 3. [`matcher::mapping`] maps a rule's logsource (`product: windows`,
//!    `category: process_creation`) to the event-log channels and event IDs
//!    it reads, as pySigma's Windows pipelines do.
//! 4. [`matcher::compile`] prepares every value once: lower-cased needles,
//!    wildcard fast paths, regexes, CIDR networks, base64 forms. Matching an
//!    event then does no parsing.
//! 5. [`matcher::Engine`] indexes the compiled rules in buckets by channel
//!    and event ID, so an event meets only the rules its logsource admits
//!    (a Sysmon process creation meets a few hundred of the thousands of
//!    Windows rules, not all of them); an event whose log says what it is
//!    (an access log's request, an audit record) meets only the rules that
//!    read that kind. Inside a bucket a prefilter, per field an Aho-Corasick
//!    automaton over the literals each rule requires (one of each selection
//!    it ands; a keyword's, in the event's whole text), discards most rules
//!    before any condition is evaluated: most events fire nothing, and
//!    proving that cheaply is where the time goes.
//! 6. [`events`] reads EVTX (streamed chunk by chunk, losses counted and
//!    reported), Windows events as XML (turned into the shape EVTX records
//!    take), JSON and JSONL, CSV, W3C web server, access, Zeek, audit and syslog logs
//!    (which say what their events are, and so which rules read them: a
//!    Cisco or FortiGate device's line is read by that product's rules; a
//!    Sysmon for Linux event in a syslog line or a journald record is read
//!    as its XML), any
//!    of them gzip-compressed, from files or
//!    streams with bounded memory (one pass, keeping only the fields the
//!    loaded rules read, see [`events::Wanted`]; a JSON text value by value
//!    and array item by item, so that a syntax error costs one record) into
//!    flat [`events::Event`]s, Windows events named as in EVTX whether they
//!    come as EVTX renders them, as Velociraptor's rows, as Winlogbeat's
//!    documents or as their XML converted to JSON. [`matcher::scan`] runs files in parallel and
//!    the events of one file in batches, parsed where they are matched (a
//!    large file whose reader parses as it reads is read on a thread of
//!    its own, ahead of the matching); [`matcher::scan_fired`] hands on
//!    only the events that fired, the others freed where they were
//!    matched, until its caller wants no more.
//! 7. [`matcher::correlation`] folds detections into Sigma correlations
//!    (counts, temporal order, sums) over windows that look back one
//!    timespan from each detection, counting as pySigma's SQLite backend
//!    does (an event once, group-by values case-insensitively).
//!
//! [`text`] decodes every text the crate reads (rules, JSON events): UTF-8
//! with or without a byte-order mark, or UTF-16, one decoder for all.
//!
//! Filters are applied as the reference implementation applies them: a
//! filter rewrites each rule it names (whose logsource lies within its own)
//! to `(rule condition) and (filter condition)`.
//!
//! # Example
//!
//! ```
//! use sigma_engine::diag::Diagnostics;
//! use sigma_engine::matcher::{mapping::Mapping, Engine, EngineOptions};
//!
//! let rule = r#"
//! title: Python inline command
//! logsource: {product: windows, category: process_creation}
//! detection:
//!   selection:
//!     Image|endswith: '\python.exe'
//!     CommandLine|contains: ' -c '
//!   condition: selection
//! "#;
//! let diags = Diagnostics::default();
//! let (rules, _) = sigma_engine::sigma::parse_rules("rule.yml".as_ref(), rule, &diags);
//! let engine = Engine::new(rules, &Mapping::builtin(), &EngineOptions::default());
//!
//! let event = r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1,
//!   "Image": "C:\\Python\\python.exe", "CommandLine": "python.exe -c print(1)"}"#;
//! let mut hits = 0;
//! sigma_engine::events::read_text("event.json", event, &diags, &mut |e| {
//!     hits += engine.match_event(&e).len();
//! });
//! assert_eq!(hits, 1);
//! ```

pub mod diag;
pub mod events;
pub mod matcher;
pub mod sigma;
pub mod text;
pub mod walk;
pub mod yaml;
