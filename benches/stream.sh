#!/usr/bin/env bash
# The matcher from the command line on JSONL streams made by repeating the
# EVTX-ATTACK-SAMPLES records: about 107,000 events (123 MB) and at least one
# million. Each is read with one trivial rule (the parse floor: reading the
# stream) and with every Windows rule. Reports wall and CPU time and peak
# memory (GNU time) and the detections.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${ATTACK_VAULT_DATA:-../shared/data}"
cargo build --release --quiet --example make_stream
cargo build --release --quiet
# A binary to compare (an earlier build) may be named by ATTACK_VAULT_BIN.
B="${ATTACK_VAULT_BIN:-./target/release/attack-vault}"
S="$DATA/sigma"
TRIVIAL="$(mktemp -d)"
trap 'rm -rf "$TRIVIAL"' EXIT
cat > "$TRIVIAL/trivial.yml" <<'RULE'
title: Trivial
id: 11111111-1111-1111-1111-111111111111
logsource:
  product: windows
  service: sysmon
detection:
  sel:
    Image: 'C:\nothing\here.exe'
  condition: sel
RULE
# One input with one trivial rule (the parse floor: reading it), then with
# every Windows rule.
runs() {
  echo -n "parse floor (one trivial rule): "
  /usr/bin/time -f "wall %e s, user %U s, sys %S s, peak %M KiB" \
    "$B" match -q -f jsonl "$1" --rules "$TRIVIAL" | wc -l
  echo -n "every Windows rule: "
  /usr/bin/time -f "wall %e s, user %U s, sys %S s, peak %M KiB" \
    "$B" match -q -f jsonl --product windows "$1" \
    --rules "$S/rules" "$S/rules-emerging-threats" "$S/rules-threat-hunting" | wc -l
}
for n in 100000 1000000; do
  STREAM="target/stream-$n.jsonl"
  [ -f "$STREAM" ] || ./target/release/examples/make_stream "$DATA/events/evtx-attack-samples" "$STREAM" "$n" >/dev/null
  echo "== $STREAM ($(wc -l < "$STREAM") events, $(du -m "$STREAM" | cut -f1) MB)"
  runs "$STREAM"
done
# The EVTX records as Windows events in XML, as Event Viewer saves them:
# read a part at a time, in bounded memory.
XML=target/stream-100000.xml
[ -f "$XML" ] || ./target/release/examples/make_stream "$DATA/events/evtx-attack-samples" "$XML" 100000 >/dev/null
echo "== $XML ($(du -m "$XML" | cut -f1) MB)"
runs "$XML"
# The million events again as one pretty JSON array (an object a line), as
# a SIEM exports them: read a part at a time, in bounded memory.
ARRAY=target/array-1000000.json
[ -f "$ARRAY" ] || { echo '['; sed '$!s/$/,/' target/stream-1000000.jsonl; echo ']'; } > "$ARRAY"
echo "== $ARRAY (the same events, $(du -m "$ARRAY" | cut -f1) MB)"
runs "$ARRAY"
