#!/usr/bin/env bash
# The site at full scale: the vault analysts build (ATT&CK v18.1
# Enterprise, every rule tree, every atomic, the EVTX samples) is built,
# then exported, each timed with its peak memory (GNU time); then the
# site's size and page count, then both again over the existing output.
# Export should take no longer than the build.
source "$(dirname "$0")/common.sh"
ARGS=(--attack "$DATA/attack/v18.1/enterprise-attack.json"
      --sigma "$S/rules" "$S/rules-emerging-threats" "$S/rules-threat-hunting"
              "$S/rules-compliance" "$S/rules-placeholder"
      --atomics "$DATA/atomics/atomics"
      --events "$DATA/events/evtx-attack-samples")
for run in 1 2; do
  rm -rf "$OUT/v" "$OUT/s"
  t "build ($run)" "$B" build -q --out "$OUT/v" "${ARGS[@]}"
  t "export ($run)" "$B" export -q --vault "$OUT/v" --out "$OUT/s"
done
# Again over the existing vault and site, as after an upstream update:
# unchanged files are compared, not written, so creating thousands of
# files (system time, which varies with the file system) drops out.
for run in 1 2; do
  t "rebuild ($run)" "$B" build -q --out "$OUT/v" "${ARGS[@]}"
  t "re-export ($run)" "$B" export -q --vault "$OUT/v" --out "$OUT/s"
done
echo "site: $(du -sh "$OUT/s" | cut -f1), $(find "$OUT/s" -name '*.html' | wc -l) pages"
