#!/usr/bin/env bash
# Compares Seula with VADER and alt-profanity-check on the dev splits; prints one markdown table.
# Usage: training/peers.sh [DATA_DIR]   (default: ../shared/data beside the repository)
# SEULA_BIN=path skips the build and scores with that binary.
set -euo pipefail

data=${1:-$(dirname "${BASH_SOURCE[0]}")/../../shared/data}
[[ -d "$data" ]] || { echo "peers.sh: missing data folder: $data" >&2; exit 1; }
data=$(realpath "$data")
if [[ -n "${SEULA_BIN:-}" ]]; then
  [[ -x "$SEULA_BIN" ]] || { echo "peers.sh: SEULA_BIN is not an executable: $SEULA_BIN" >&2; exit 1; }
  SEULA_BIN=$(realpath "$SEULA_BIN")
fi
# From the repository root on, so that Seula finds its default files as under `cargo run`.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet vaderSentiment==3.3.2 alt-profanity-check==1.9.1

if [[ -z "${SEULA_BIN:-}" ]]; then
  cargo build --release --locked
fi
"$venv/bin/python" training/peers.py --data "$data" --seula "${SEULA_BIN:-target/release/seula}"
