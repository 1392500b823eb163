//! The buckets of events whose log says what they are ([`Source`]): an
//! access log's requests meet the web server rules alone, with a prefilter
//! of their literals only, not every rule of the events without a
//! `Channel` filtered one by one on each event.
//!
//! Sources are known when their events are read, and some carry a name from
//! the input (a syslog line's program), so buckets are built when first
//! needed, and shared by every source that the same rules read: a file of
//! a million program names builds as many buckets as the rules name
//! services.

use super::prefilter::{Bucket, BucketPlan};
use crate::events::Source;
use rustc_hash::FxHashMap;
use std::mem::Discriminant;
use std::sync::{Arc, Mutex, RwLock};

/// Sources remembered by name at most; past them, a source's bucket is
/// found by its kind and the name if a rule names it.
const NAMED: usize = 1024;

/// A source as the rules tell it apart: its kind, and its name (a syslog
/// line's program, a Zeek log's path) where some rule names that service.
type Key = (Discriminant<Source>, Option<Box<str>>);

#[derive(Debug, Default)]
pub(super) struct SourceBuckets {
    /// The services the rules name, in lower case (ASCII's, as logsources
    /// compare).
    services: Vec<String>,
    /// Source → its bucket.
    named: RwLock<FxHashMap<Source, Arc<Bucket>>>,
    /// Source as the rules tell it apart → its bucket.
    by_key: Mutex<FxHashMap<Key, Arc<Bucket>>>,
}

impl SourceBuckets {
    /// For rules that name these services (any case).
    pub(super) fn new<'a>(services: impl IntoIterator<Item = &'a str>) -> SourceBuckets {
        let mut services: Vec<String> = (services.into_iter())
            .map(str::to_ascii_lowercase)
            .collect();
        services.sort_unstable();
        services.dedup();
        SourceBuckets {
            services,
            ..SourceBuckets::default()
        }
    }

    /// The bucket of `source`; `plan` gives that of the variants that
    /// read it (a source of the same key reads as this one).
    pub(super) fn get(&self, source: &Source, plan: impl FnOnce() -> Bucket) -> Arc<Bucket> {
        let named = self.named.read().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = named.get(source) {
            return Arc::clone(b);
        }
        let full = named.len() >= NAMED;
        drop(named);
        let bucket = {
            let mut by_key = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
            let b = by_key
                .entry(self.key(source))
                .or_insert_with(|| Arc::new(plan()));
            Arc::clone(b)
        };
        if !full {
            let mut named = self.named.write().unwrap_or_else(|p| p.into_inner());
            named.insert(source.clone(), Arc::clone(&bucket));
        }
        bucket
    }

    fn key(&self, source: &Source) -> Key {
        let name = match source {
            Source::Zeek(n) | Source::Syslog(n) | Source::Fortinet(n) => {
                Some(n.to_ascii_lowercase())
            }
            _ => None,
        };
        let named = name.filter(|n| self.services.binary_search(n).is_ok());
        (
            std::mem::discriminant(source),
            named.map(String::into_boxed_str),
        )
    }
}

/// The bucket of these variants, with automata of their own literals.
pub(super) fn bucket_of(variants: &[super::Variant], ids: Vec<usize>) -> Bucket {
    let plan = BucketPlan::new(variants, ids);
    let automata = BucketPlan::automata(std::iter::once(&plan));
    plan.finish(&automata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_the_rules_do_not_tell_apart_share_one_bucket_and_names_stay_bounded() {
        let buckets = SourceBuckets::new(["SSHD", "auth", "ärger"]);
        let built = std::sync::atomic::AtomicUsize::new(0);
        let get = |s: Source| {
            buckets.get(&s, || {
                let n = built.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Bucket {
                    always: vec![n],
                    prefilter: Vec::new(),
                }
            })
        };
        let syslog = |p: &str| Source::Syslog(p.into());
        let cron = get(syslog("cron"));
        assert!(
            Arc::ptr_eq(&cron, &get(syslog("other"))),
            "no rule names either"
        );
        let sshd = get(syslog("sshd"));
        assert!(!Arc::ptr_eq(&cron, &sshd));
        assert!(
            Arc::ptr_eq(&sshd, &get(syslog("SSHD"))),
            "names compare in any case"
        );
        assert!(
            !Arc::ptr_eq(&cron, &get(Source::Zeek("cron".into()))),
            "another kind"
        );
        // Names compare in ASCII's case only, as logsources do.
        assert!(!Arc::ptr_eq(&cron, &get(syslog("ärger"))));
        assert!(Arc::ptr_eq(&cron, &get(syslog("Ärger"))));
        for i in 0..NAMED * 2 {
            assert!(Arc::ptr_eq(&cron, &get(syslog(&format!("p{i}")))));
        }
        assert_eq!(built.load(std::sync::atomic::Ordering::Relaxed), 4);
        assert!(buckets.named.read().unwrap().len() <= NAMED);
        assert!(Arc::ptr_eq(&sshd, &get(syslog("sshd"))));
    }
}
