#!/usr/bin/env bash
# The cost of the analyst's edits on a rebuild: the full Enterprise vault
# (ATT&CK v18.1, every rule tree, every atomic) is built, rebuilt with no
# change, then 100 technique notes get a paragraph of the analyst's and it
# is rebuilt again (the edits are merged into each new version). Reports
# wall and CPU time (GNU time) and the size of the kept bases.
source "$(dirname "$0")/common.sh"
ARGS=(--attack "$DATA/attack/v18.1/enterprise-attack.json"
      --sigma "$S/rules" "$S/rules-emerging-threats" "$S/rules-threat-hunting"
      --atomics "$DATA/atomics/atomics")
b() { t "$1" "$B" build -q --out "$OUT/v" "${ARGS[@]}"; }
b "first build"
b "rebuild, no edits"
b "rebuild, no edits"
ls "$OUT"/v/Techniques/*.md | head -100 | while read -r f; do printf '\nAnalyst: seen in case 12.\n' >> "$f"; done
b "rebuild, 100 edited notes"
b "rebuild, 100 edited notes"
echo "bases: $(du -sh "$OUT/v/.attack-vault/base" | cut -f1) on disk"
