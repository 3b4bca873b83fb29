#!/usr/bin/env bash
# The README's bring-your-own example, end to end, as CI runs it. A Hugging Face
# sequence-classification folder (a stand-in here: the all-MiniLM-L6-v2 encoder with a fresh
# two-label head, `save_pretrained` as any fine-tuned model is) is exported with export.py,
# checked by prepare.sh and scored by `seula score --transformer` under a policy that sends
# every comment; the run fails unless the model scored each line.
#
#     training/transformer/byo-example.sh [SEULA_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
seula=${1:-target/debug/seula}
source training/transformer/venv.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== a Hugging Face sequence-classification folder (the stand-in)"
"$venv/bin/python" - "$encoder" "$work/hf-model" <<'PY'
import sys
import torch
from transformers import AutoTokenizer, BertForSequenceClassification
torch.manual_seed(0)
labels = {0: "non-toxic", 1: "toxic"}
model = BertForSequenceClassification.from_pretrained(
    sys.argv[1], num_labels=2, id2label=labels, label2id={v: k for k, v in labels.items()})
model.save_pretrained(sys.argv[2])
AutoTokenizer.from_pretrained(sys.argv[1]).save_pretrained(sys.argv[2])
PY

echo "== export.py: the folder Seula reads"
"$venv/bin/python" training/transformer/export.py --model "$work/hf-model" --out "$work/seula-model" \
  --name byo-example --languages en --label toxic=toxicity --label non-toxic=none --int8
cat "$work/seula-model/seula-model.toml"

echo "== prepare.sh and seula score --transformer"
eval "$(training/transformer/prepare.sh "$work/seula-model")"
export ORT_DYLIB_PATH
sed 's/^when = "uncertain"/when = "always"/' src/policy/default.toml >"$work/policy.toml"
printf '%s\n' '{"id":"1","text":"You are all useless idiots and I hope you get fired."}' \
  '{"id":"2","text":"Thanks, the new timetable works well for me."}' \
  '{"id":"3","text":"Where can I find my invoice?"}' >"$work/in.jsonl"
"$seula" score --policy "$work/policy.toml" --transformer "$work/seula-model" \
  --input "$work/in.jsonl" --output "$work/out.jsonl"
cat "$work/out.jsonl"
python3 - "$work/out.jsonl" <<'PY'
import json, sys
answers = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
statuses = [a.get("transformer", {}).get("status") for a in answers]
assert len(answers) == 3 and statuses == ["scored"] * 3, f"the model did not score every line: {statuses}"
assert all("+byo-example-" in a["model_version"] for a in answers), [a["model_version"] for a in answers]
print("bring-your-own example: the exported model scored all 3 lines")
PY
