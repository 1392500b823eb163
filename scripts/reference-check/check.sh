#!/usr/bin/env bash
# The matcher against pySigma's SQLite backend, the reference implementation's
# converter: every Windows rule of the shared SigmaHQ trees (logsource set to
# `product: windows`, so that both sides test the detection alone) over the
# real EVTX-ATTACK-SAMPLES stream and over events made from each rule's own
# values, mutated (case, wildcards, windash, base64 offsets, CIDR edges); and
# random correlations (every kind but value_percentile, group-by, aliases)
# over random events, and correlations of correlations, compared by the
# groups that fire; random filters (by id or name, within their logsource
# or not); and random rules (every kind of modifier, null, lists, conditions)
# over random events.
#
# Differences it shows that are the backend's, not the matcher's: SQLite's
# `=` is case-sensitive unless a column says NOCASE, LIKE folds ASCII only,
# a NUMERIC column turns ` 5145`, `04698` or `00050429` into numbers (and
# sorts text after numbers: comparisons are kept to numbers), `cidr`
# becomes a text prefix, and a list such as `Data` is one column's first
# value. Needs Python 3.11 and PyPI (a virtual environment under target/).
#
#   scripts/reference-check/check.sh [SEEDS...]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${ATTACK_VAULT_DATA:-../shared/data}"
VENV=target/reference-check/venv
WORK=target/reference-check
mkdir -p "$WORK"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q pysigma==2.0.1 pysigma-backend-sqlite==2.1.1
cargo build --release --quiet
cargo build --release --quiet --example make_stream
STREAM=target/stream-100000.jsonl
[ -f "$STREAM" ] || ./target/release/examples/make_stream "$DATA/events/evtx-attack-samples" "$STREAM" 100000 >/dev/null
PY="$VENV/bin/python scripts/reference-check/check.py --data $DATA --work $WORK --bin target/release/attack-vault"
$PY rules
$PY real "$STREAM"
SEEDS=("$@")
[ ${#SEEDS[@]} -gt 0 ] || SEEDS=(1 2 3)
for seed in "${SEEDS[@]}"; do
  $PY synthetic "$seed"
  $PY correlations "$seed" 400
  $PY chains "$seed" 300
  $PY filters "$seed" 300
  $PY random-rules "$seed" 400
done
