#!/usr/bin/env bash
# The cost of the analyst's edits on a rebuild: the full Enterprise vault
# (ATT&CK v18.1, every rule tree, every atomic) is built, rebuilt with no
# change, then 100 technique notes get a paragraph of the analyst's and it
# is rebuilt again (the edits are merged into each new version). Reports
# wall and CPU time (GNU time) and the size of the kept bases.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${ATTACK_VAULT_DATA:-../shared/data}"
cargo build --release --quiet
B=./target/release/attack-vault
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
S="$DATA/sigma"
ARGS=(--attack "$DATA/attack/v18.1/enterprise-attack.json"
      --sigma "$S/rules" "$S/rules-emerging-threats" "$S/rules-threat-hunting"
      --atomics "$DATA/atomics/atomics")
t() { /usr/bin/time -f "$1: wall %e s, user %U s, sys %S s, peak %M KiB" "$B" build -q --out "$OUT/v" "${ARGS[@]}" 2>&1 | grep -v '^\(warning\|error\)\[' || true; }
t "first build"
t "rebuild, no edits"
t "rebuild, no edits"
ls "$OUT"/v/Techniques/*.md | head -100 | while read -r f; do printf '\nAnalyst: seen in case 12.\n' >> "$f"; done
t "rebuild, 100 edited notes"
t "rebuild, 100 edited notes"
echo "bases: $(du -sh "$OUT/v/.attack-vault/base" | cut -f1) on disk"
