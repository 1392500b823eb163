#!/usr/bin/env bash
# The matcher on a stream of at least one million events (JSONL made by
# repeating the EVTX-ATTACK-SAMPLES records), with every Windows rule.
# Reports wall and CPU time and peak memory (GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${ATTACK_VAULT_DATA:-../shared/data}"
STREAM="${STREAM:-target/stream-1m.jsonl}"
cargo build --release --quiet --example make_stream
cargo build --release --quiet
[ -f "$STREAM" ] || ./target/release/examples/make_stream "$DATA/events/evtx-attack-samples" "$STREAM" 1000000
S="$DATA/sigma"
/usr/bin/time -f "wall %e s, user %U s, sys %S s, peak %M KiB" \
  ./target/release/attack-vault match -q -f jsonl --product windows "$STREAM" \
  --rules "$S/rules" "$S/rules-emerging-threats" "$S/rules-threat-hunting" | wc -l
