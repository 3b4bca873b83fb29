#!/usr/bin/env bash
# Prepares the transformer tier: ONNX Runtime from the PyPI wheel onnxruntime==1.31.1 in a
# virtualenv ($SEULA_ONNXRUNTIME_VENV, default target/onnxruntime), and a check of the model
# folder (default the shipped models/transformer-en) against its card. Prints the line to give
# the shell, so that
#
#     eval "$(training/transformer/prepare.sh)"
#     cargo run --release -- serve --transformer models/transformer-en
#
# serves with the tier on. Nothing else downloads, now or when Seula runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:-models/transformer-en}
venv=${SEULA_ONNXRUNTIME_VENV:-target/onnxruntime}

[ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
"$venv/bin/pip" install -q 'onnxruntime==1.31.1' >&2
lib=$("$venv/bin/python" -c 'import glob, os, onnxruntime
print(os.path.abspath(glob.glob(os.path.join(os.path.dirname(onnxruntime.__file__), "capi", "libonnxruntime.so.*"))[0]))')
for file in model.onnx tokenizer.json seula-model.toml; do
  [ -f "$model/$file" ] || { echo "$model has no $file: see the README, Transformer models" >&2; exit 1; }
done
# The card's checksums against the files (Seula checks them again when it starts).
"$venv/bin/python" - "$model" >&2 <<'PY'
import hashlib, pathlib, sys, tomllib
folder = pathlib.Path(sys.argv[1])
card = tomllib.loads((folder / "seula-model.toml").read_text(encoding="utf-8"))
for key, name in (("model", "model.onnx"), ("tokenizer", "tokenizer.json")):
    actual = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    if actual != card["files"][key]:
        sys.exit(f"{folder / name} does not match its card: SHA-256 {actual}, the card says {card['files'][key]}")
print(f"{folder}: {card['name']} for {', '.join(card['languages'])}, files match the card")
PY
echo "export ORT_DYLIB_PATH=$lib"
