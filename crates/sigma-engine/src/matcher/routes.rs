//! Compiling detection rules into variants (one per mapping entry of the
//! rule's logsource) and routing them to the events they select.

use super::compile;
use super::compile::Compiled;
use super::compile::Placeholders;
use super::mapping::{Mapping, SourceEntry};
use crate::events::Source;
use crate::sigma::SigmaRule;
use crate::sigma::rule::LogSource;
use std::collections::HashMap;
use std::sync::Arc;

/// A rule the engine will not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub rule: usize,
    pub reason: compile::Unsupported,
}

/// One way of running a rule: the events it selects and its compiled detection.
#[derive(Debug)]
pub(super) struct Variant {
    pub(super) rule: usize,
    /// The (channel, EventID) pairs it reads; empty channels = no channel
    /// condition (see `reach`).
    pub(super) channels: Vec<String>,
    pub(super) ids: Vec<String>,
    pub(super) reach: Reach,
    /// Extra event conditions from the mapping (besides Channel and EventID).
    pub(super) conditions: Vec<(String, Vec<String>)>,
    pub(super) compiled: Compiled,
    pub(super) necessary: Option<compile::Necessary>,
    /// How many groups of its necessary condition the prefilter must find
    /// (0: evaluated on every event of its buckets).
    pub(super) groups: u8,
}

/// Which events a variant meets, besides the channels and IDs it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// Those of its channels and IDs; every event when it names none.
    Named,
    /// Every Windows event log record, whatever its channel (the mapping's
    /// `Channel: "*"`, for `product: windows` alone).
    AnyChannel,
    /// Events without a channel (a logsource the mapping does not know).
    Unmapped,
}

/// One shared copy of each field name: thousands of tests name the same few
/// hundred fields.
#[derive(Default)]
pub(super) struct Interner(std::sync::Mutex<rustc_hash::FxHashSet<Arc<str>>>);

impl Interner {
    pub(super) fn get(&self, f: &str) -> Arc<str> {
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match set.get(f) {
            Some(a) => a.clone(),
            None => {
                let a: Arc<str> = Arc::from(f);
                set.insert(a.clone());
                a
            }
        }
    }
}

/// What compiling one detection rule needs.
pub(super) struct RuleCompiler<'a> {
    pub(super) det: &'a crate::sigma::rule::Detection,
    pub(super) filters: &'a [&'a crate::sigma::rule::Detection],
    pub(super) names: &'a Interner,
    pub(super) placeholders: &'a Placeholders,
}

impl RuleCompiler<'_> {
    /// Compiles the rule with the mapping entry's field renames, if any.
    pub(super) fn compile(
        &self,
        entry: Option<&SourceEntry>,
    ) -> Result<Compiled, compile::Unsupported> {
        let rename = |f: &str| -> Arc<str> {
            let mapped = entry.and_then(|e| e.fields.iter().find(|(k, _)| k == f));
            let name = mapped.map_or(f, |(_, v)| v.as_str());
            // Events hold a name with spaces also without them (`Threat
            // Name` as `ThreatName`): a rule that writes them meets both.
            if name.contains(' ') {
                return self.names.get(&name.replace(' ', ""));
            }
            self.names.get(name)
        };
        compile::compile(self.det, &rename, self.placeholders, self.filters)
    }

    /// Compiles a rule once per mapping entry of its logsource, or once
    /// without renames for a logsource the mapping does not know. A listed
    /// logsource of a product the mapping does not serve whole (Linux's
    /// Sysmon categories) is compiled for events without a `Channel` too,
    /// as an unlisted one is.
    pub(super) fn build<'m>(&self, r: &SigmaRule, mapping: &'m Mapping) -> RuleBuild<'m> {
        let entries = mapping.entries_for(&r.logsource);
        if entries.is_empty() {
            return self.build_unmapped(r, mapping);
        }
        let compiled: Result<Vec<_>, _> = entries
            .into_iter()
            .map(|entry| {
                let comp = self.compile(Some(entry))?;
                let nec = comp.necessary();
                Ok((entry, comp, nec))
            })
            .collect();
        let all = match compiled {
            Ok(all) => all,
            Err(why) => return RuleBuild::Skipped(why),
        };
        // A logsource of no product (`category: antivirus`) is the
        // mapping's alone.
        let open = match r.logsource.product.as_deref() {
            Some(p) if !mapping.knows_product(p) => {
                match all.iter().find(|(e, ..)| e.fields.is_empty()) {
                    // Without renames, that entry's compiled rule is the same.
                    Some((_, comp, nec)) => Some((comp.clone(), nec.clone())),
                    None => self.compile(None).ok().map(|c| {
                        let nec = c.necessary();
                        (c, nec)
                    }),
                }
            }
            _ => None,
        };
        RuleBuild::Mapped(all, open)
    }

    pub(super) fn build_unmapped<'m>(&self, r: &SigmaRule, mapping: &Mapping) -> RuleBuild<'m> {
        let ls = &r.logsource;
        let product = ls.product.as_deref().unwrap_or("");
        if mapping.knows_product(product) || ls.category.as_deref() == Some("antivirus") {
            return RuleBuild::Skipped(compile::Unsupported::NoMapping {
                category: ls.category.as_deref().unwrap_or("-").into(),
                product: product.into(),
                service: ls.service.as_deref().unwrap_or("-").into(),
            });
        }
        match self.compile(None) {
            Ok(comp) => {
                let nec = comp.necessary();
                RuleBuild::Unmapped(comp, nec)
            }
            Err(u) => RuleBuild::Skipped(u),
        }
    }
}

/// A detection rule compiled, before it is routed.
pub(super) enum RuleBuild<'m> {
    /// Once per mapping entry of its logsource, with its necessary
    /// condition; and once without renames, for events without a `Channel`,
    /// where the mapping does not serve the product whole.
    Mapped(
        Vec<(&'m SourceEntry, Compiled, Option<compile::Necessary>)>,
        Option<(Compiled, Option<compile::Necessary>)>,
    ),
    /// Once without renames, for a logsource the mapping does not know.
    Unmapped(Compiled, Option<compile::Necessary>),
    Skipped(compile::Unsupported),
}

/// Compiled variants and the lookup keys that route events to them.
#[derive(Default)]
pub(super) struct Routes {
    pub(super) variants: Vec<Variant>,
    pub(super) skipped: Vec<Skipped>,
    pub(super) by_channel_id: HashMap<(String, String), Vec<usize>>,
    pub(super) by_channel: HashMap<String, Vec<usize>>,
    pub(super) generic: Vec<usize>,
    pub(super) any_channel: Vec<usize>,
    pub(super) unmapped: Vec<usize>,
}

impl Routes {
    pub(super) fn add(&mut self, rule: usize, b: RuleBuild) {
        match b {
            RuleBuild::Mapped(all, open) => {
                for (entry, comp, nec) in all {
                    self.route(rule, entry, comp, nec);
                }
                if let Some((comp, necessary)) = open {
                    self.unmapped(rule, comp, necessary);
                }
            }
            RuleBuild::Unmapped(comp, necessary) => self.unmapped(rule, comp, necessary),
            RuleBuild::Skipped(reason) => self.skipped.push(Skipped { rule, reason }),
        }
    }

    /// Files a variant for the events without a `Channel`.
    fn unmapped(&mut self, rule: usize, compiled: Compiled, necessary: Option<compile::Necessary>) {
        self.unmapped.push(self.variants.len());
        self.variants.push(Variant {
            rule,
            channels: Vec::new(),
            ids: Vec::new(),
            reach: Reach::Unmapped,
            conditions: Vec::new(),
            groups: 0,
            necessary,
            compiled,
        });
    }

    /// Files a variant under the channels and event IDs its mapping entry
    /// names; the entry's other conditions stay with the variant.
    pub(super) fn route(
        &mut self,
        rule: usize,
        entry: &SourceEntry,
        comp: Compiled,
        necessary: Option<compile::Necessary>,
    ) {
        let vi = self.variants.len();
        let find = |key: &str| entry.conditions.iter().find(|(k, _)| k == key);
        let mut channels: Vec<String> = find("Channel")
            .map(|(_, v)| v.iter().map(|c| c.to_lowercase()).collect())
            .unwrap_or_default();
        let reach = if channels.iter().any(|c| c == "*") {
            channels.clear();
            Reach::AnyChannel
        } else {
            Reach::Named
        };
        let ids: Vec<String> = find("EventID").map(|(_, v)| v.clone()).unwrap_or_default();
        // A rule of a whole channel that tests `EventID` itself is filed
        // under those IDs (the bucket key is the event's text, so only
        // plain numbers, which compare alike in any case).
        let digits = |v: &String| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        let (route_ids, necessary) = match comp.required_values("EventID") {
            // Its buckets hold only events of those IDs: testing the ID
            // again in the prefilter would let every one of them by.
            Some(req) if ids.is_empty() && req.iter().all(digits) => {
                (req, necessary.and_then(|n| without_field(n, "EventID")))
            }
            _ => (ids.clone(), necessary),
        };
        let rest: Vec<(String, Vec<String>)> = entry
            .conditions
            .iter()
            .filter(|(k, _)| k != "Channel" && (k != "EventID" || channels.is_empty()))
            .map(|(k, v)| (k.clone(), v.iter().map(|x| x.to_lowercase()).collect()))
            .collect();
        if reach == Reach::AnyChannel {
            self.any_channel.push(vi);
        } else if channels.is_empty() {
            self.generic.push(vi);
        } else if route_ids.is_empty() {
            for ch in &channels {
                self.by_channel.entry(ch.clone()).or_default().push(vi);
            }
        } else {
            for ch in &channels {
                for id in &route_ids {
                    let key = (ch.clone(), id.clone());
                    self.by_channel_id.entry(key).or_default().push(vi);
                }
            }
        }
        self.variants.push(Variant {
            rule,
            channels,
            ids,
            reach,
            conditions: rest,
            groups: 0,
            necessary,
            compiled: comp,
        });
    }
}

/// Whether rules of `logsource` read events of `source`: the source is
/// one of the logsources within it (as a filter's logsource takes a
/// rule's, [`crate::sigma::LogSource::within`]), and a rule that names
/// none reads it.
pub(super) fn reads(source: &Source, logsource: &LogSource) -> bool {
    // Every field the rule's logsource names, the source names alike.
    let set = |named: &Option<String>, value: Option<&str>| match (named, value) {
        (None, _) => true,
        (Some(n), Some(v)) => n.eq_ignore_ascii_case(v),
        (Some(_), None) => false,
    };
    let is = |category, product, service| {
        set(&logsource.category, category)
            && set(&logsource.product, product)
            && set(&logsource.service, service)
    };
    match source {
        Source::W3c => ["webserver", "proxy"]
            .into_iter()
            .any(|c| is(Some(c), None, None)),
        Source::WebServer => is(Some("webserver"), None, None),
        Source::Zeek(path) => {
            is(None, Some("zeek"), Some(path))
                || (crate::events::is_zeek_dns(source) && is(Some("dns"), None, None))
        }
        Source::Auditd => is(None, Some("linux"), Some("auditd")),
        Source::Syslog(program) => [None, Some("syslog"), Some("auth"), Some(program)]
            .into_iter()
            .any(|service| is(None, Some("linux"), service)),
        // Which service a message is (`aaa`, `bgp`) its text does not say.
        Source::Cisco => {
            let product = logsource.product.as_deref();
            logsource.category.is_none() && product.is_some_and(|p| p.eq_ignore_ascii_case("cisco"))
        }
        Source::CloudTrail => is(None, Some("aws"), Some("cloudtrail")),
        // Which service a record is its `category` says in Azure's own words.
        Source::Azure => {
            let product = logsource.product.as_deref();
            logsource.category.is_none() && product.is_some_and(|p| p.eq_ignore_ascii_case("azure"))
        }
        Source::Fortinet(kind) => ["fortigate", "fortios"]
            .into_iter()
            .any(|product| is(None, Some(product), Some(kind))),
    }
}

/// The names of sources (a Zeek log's path, a syslog program) that rules
/// of `logsource` tell apart from others of their kind: its service, and
/// `dns` for `category: dns` (Zeek's `dns.log`).
pub(super) fn source_names(logsource: &LogSource) -> impl Iterator<Item = &str> {
    let dns = (logsource.category.as_deref()).is_some_and(|c| c.eq_ignore_ascii_case("dns"));
    logsource
        .service
        .as_deref()
        .into_iter()
        .chain(dns.then_some("dns"))
}

/// A necessary condition without its groups on one field.
pub(super) fn without_field(n: compile::Necessary, field: &str) -> Option<compile::Necessary> {
    let rest: compile::Necessary = n
        .into_iter()
        .filter(|g| g.iter().any(|(f, _)| &**f != field))
        .collect();
    (!rest.is_empty()).then_some(rest)
}
