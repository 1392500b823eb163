#!/usr/bin/env bash
# Seed corpora for the fuzz targets from the shared data (never committed):
# fuzz/corpus/<target>/. Usage: fuzz/seed.sh [DATA] (default ../shared/data).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${1:-${ATTACK_VAULT_DATA:-$HERE/../../shared/data}}"
DATA="$(cd "$DATA" && pwd)"
cd "$HERE"
C=corpus
mkdir -p $C/condition $C/yaml $C/sigma_rule $C/stix $C/json_events $C/evtx $C/xml_events $C/note_text $C/frontmatter
# Rules: a spread of real rule files (yaml, sigma_rule) and their conditions.
find "$DATA/sigma/rules" "$DATA/sigma/rules-threat-hunting" -name '*.yml' 2>/dev/null | sort | awk 'NR % 40 == 1' | sed -n '1,150p' |
  while read -r f; do
    h=$(sha1sum "$f" | cut -c1-16)
    cp "$f" "$C/yaml/$h"; cp "$f" "$C/sigma_rule/$h"
    grep -E '^\s+condition:' "$f" | sed -E 's/^\s+condition:\s*//' > "$C/condition/$h" || true
    grep -E '^title:' "$f" | sed -E 's/^title:\s*//' > "$C/note_text/$h" || true
  done
# Events: small JSON regression cases and small EVTX files.
find "$DATA/sigma/regression_data" -name '*.json' -size -8k 2>/dev/null | sort | sed -n '1,60p' |
  while read -r f; do cp "$f" "$C/json_events/$(sha1sum "$f" | cut -c1-16)"; done
# A few of them gzip-compressed: the readers decompress what starts so.
ls $C/json_events | grep -v '\.gz$' | sed -n '1,10p' |
  while read -r h; do gzip -c "$C/json_events/$h" > "$C/json_events/$h.gz"; done
find "$DATA/events" "$DATA/sigma/regression_data" -name '*.evtx' -size -80k 2>/dev/null | sort | sed -n '1,25p' |
  while read -r f; do cp "$f" "$C/evtx/$(sha1sum "$f" | cut -c1-16)"; done
# Search responses of Elasticsearch, CloudTrail logs, EvtxECmd and journald records: the repository's own fixtures.
for f in ../tests/fixtures/invalid/events/es_*.json ../tests/fixtures/invalid/events/cloudtrail_*.json ../tests/fixtures/invalid/events/evtxecmd_*.jsonl ../tests/fixtures/invalid/events/journald_*.jsonl; do cp "$f" "$C/json_events/$(sha1sum "$f" | cut -c1-16)"; done
# JSON texts and Windows events as XML read in parts: the repository's own
# fixtures and the JSON regression cases, each after a first byte that
# picks the part's size.
mkdir -p $C/text_parts
for f in ../tests/fixtures/invalid/events/*.json ../tests/fixtures/invalid/events/*.xml $(find "$DATA/sigma/regression_data" -name '*.json' -size -8k 2>/dev/null | sort | sed -n '1,20p'); do
  { printf '\050'; cat "$f"; } > "$C/text_parts/$(sha1sum "$f" | cut -c1-16)"
done
# CSV: the repository's own CSV fixtures.
mkdir -p $C/csv_events
for f in ../tests/fixtures/invalid/events/*.csv; do cp "$f" "$C/csv_events/$(sha1sum "$f" | cut -c1-16)"; done
# W3C, Zeek, audit and syslog logs: the repository's own log fixtures.
mkdir -p $C/log_events
# A first byte of 5 leaves a fixture as it is (the target's first byte picks a first line).
for f in ../tests/fixtures/invalid/events/*.log; do { printf '\005'; cat "$f"; } > "$C/log_events/$(sha1sum "$f" | cut -c1-16)"; done
# Windows events as XML: the repository's own XML fixtures.
for f in ../tests/fixtures/invalid/events/*.xml; do cp "$f" "$C/xml_events/$(sha1sum "$f" | cut -c1-16)"; done
# STIX: the embedded demo bundle and a few-object slice of a real one.
cp ../demo/enterprise-attack.json "$C/stix/demo"
python3 - "$DATA/attack/v18.1/ics-attack.json" "$C/stix/ics-slice" <<'PY' || true
import json, sys
b = json.load(open(sys.argv[1]))
b["objects"] = b["objects"][:40]
json.dump(b, open(sys.argv[2], "w"), indent=1)
PY
# Properties: the example vault's frontmatter blocks.
find ../vault -name '*.md' | sort | sed -n '1,40p' |
  while read -r f; do
    awk 'NR > 1 && /^---$/ { exit } NR > 1' "$f" > "$C/frontmatter/$(sha1sum "$f" | cut -c1-16)"
  done
# Note bodies: the example vault's notes, and notes that embed themselves.
mkdir -p $C/site_markdown
find ../vault -name '*.md' | sort | sed -n '1,40p' |
  while read -r f; do cp "$f" "$C/site_markdown/$(sha1sum "$f" | cut -c1-16)"; done
printf '# A\n\n![[A]]\n![[A#B]]\n\n## B\n\ntext ^id\n\n![[A#^id]]\n' > $C/site_markdown/self-embed
printf '> [!note]- Folded\n> ![[X]]\n> ![[X]]\n\n- ![[Y]]\n\n<div>![[Z]]</div>\n' > $C/site_markdown/embeds-in-blocks
# The prefilter: a rule and its own regression event (a byte that leaves
# the event's source as it is, the rule, NUL, the event), and a keyword
# rule over journald records, read as from several kinds of log.
mkdir -p $C/prefilter
find "$DATA/sigma/regression_data" -name '*.json' -size -8k 2>/dev/null | sort | awk 'NR % 3 == 1' | sed -n '1,40p' |
  while read -r f; do
    case_dir="$(dirname "$f")"
    rule="$DATA/sigma/${case_dir#"$DATA/sigma/regression_data/"}.yml"
    [ -f "$rule" ] || continue
    { printf '\000'; cat "$rule"; printf '\0'; cat "$f"; } > "$C/prefilter/$(sha1sum "$f" | cut -c1-16)"
  done
for pick in 1 2 3 4 5; do
  { printf "\\00$pick"; printf 'title: k\nlogsource: {product: linux}\ndetection:\n  keywords:\n    - sshd\n    - '"'"'|re'"'"': "fail(ed|ure)"\n  condition: keywords\n'; printf '\0'; cat ../tests/fixtures/invalid/events/journald_json_with_sysmon.jsonl; } > "$C/prefilter/keywords-$pick"
done
for t in $C/*; do echo "$t: $(ls "$t" | wc -l) seeds"; done
# Merges: an example note as generated, with an analyst's line, and with a
# changed line, split at NUL bytes.
mkdir -p $C/merge
find ../vault -name '*.md' | sort | sed -n '1,20p' |
  while read -r f; do
    { cat "$f"; printf '\0'; cat "$f"; echo "An analyst's line."; printf '\0'; sed '5s/$/ changed/' "$f"; } > "$C/merge/$(sha1sum "$f" | cut -c1-16)"
  done
