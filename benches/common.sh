# Sourced by the bench scripts: the shared data, a release build, a
# scratch folder removed on exit, and `t LABEL CMD...` timing one command
# (GNU time: wall, CPU, peak memory) with the input's diagnostics hidden.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA="${ATTACK_VAULT_DATA:-../shared/data}"
S="$DATA/sigma"
cargo build --release --quiet
# A binary to compare (an earlier build) may be named by ATTACK_VAULT_BIN.
B="${ATTACK_VAULT_BIN:-./target/release/attack-vault}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
t() { /usr/bin/time -f "$1: wall %e s, user %U s, sys %S s, peak %M KiB" "${@:2}" 2>&1 | grep -v '^\(warning\|error\)\[' || true; }
