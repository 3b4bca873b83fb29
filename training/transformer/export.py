"""Exports a Hugging Face sequence-classification model to a Seula model folder: model.onnx,
tokenizer.json and seula-model.toml (the card: languages, length, what each label means to
Seula, and the files' checksums). Bring your own model this way.

    python export.py --model DIR --out models/my-model --name my-model --languages en \
        --label toxic=toxicity --label non-toxic=none [--activation sigmoid] [--int8]

DIR is a folder `save_pretrained` wrote (config.json, the weights, tokenizer.json). Every label
of the model's `id2label` must be mapped with --label MODEL_LABEL=SEULA_MEANING, where the meaning
is `none`, `sentiment.negative`, `sentiment.neutral`, `sentiment.positive` or a text score
(`toxicity`, `severe_toxicity`, `insult`, `threat`, `identity_attack`, `profanity`, `spam`,
`urgency`). Seula checks the folder against the card when it starts.
"""

import argparse
import hashlib
import shutil
from pathlib import Path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_card(out: Path, name: str, languages, max_length: int, int8: bool, outputs) -> None:
    """seula-model.toml beside model.onnx and tokenizer.json. `outputs`: dicts with the graph's
    output `name`, `activation`, `labels` (Seula's meanings), and optionally `temperature` and
    `bias` (one per label). An int8 model runs each text alone: dynamic quantization scales a
    run by its largest activation, so texts run together would move each other's scores."""
    lines = [
        "# A Seula model folder's card: what the model is, what each output means, its calibration.",
        "# Written by training/transformer/; the checksums tie it to the files beside it.",
        f'name = "{name}"',
        "languages = [" + ", ".join(f'"{lang}"' for lang in languages) + "]",
        f"max_length = {max_length}",
        f"rows_per_run = {1 if int8 else 8}",
        "",
        "[files]",
        f'model = "{sha256(out / "model.onnx")}"',
        f'tokenizer = "{sha256(out / "tokenizer.json")}"',
    ]
    for output in outputs:
        lines += [
            "",
            "[[outputs]]",
            f'name = "{output["name"]}"',
            f'activation = "{output["activation"]}"',
            "labels = [" + ", ".join(f'"{label}"' for label in output["labels"]) + "]",
        ]
        if "temperature" in output:
            lines.append(f"temperature = {output['temperature']}")
        if "bias" in output:
            lines.append("bias = [" + ", ".join(str(b) for b in output["bias"]) + "]")
    (out / "seula-model.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def quantized(fp32: Path, int8: Path) -> None:
    """Dynamic int8 quantization with per-channel scales (per-tensor ones cost accuracy)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--name", required=True)
    ap.add_argument("--languages", required=True, help="comma-separated: fi, en, sv")
    ap.add_argument("--label", action="append", default=[], help="MODEL_LABEL=SEULA_MEANING, once per label")
    ap.add_argument("--activation", choices=["softmax", "sigmoid"], default="softmax")
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--int8", action="store_true", help="quantize the weights to int8 (about 4x smaller, 2x faster)")
    args = ap.parse_args()

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(args.model).eval()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    meanings = dict(item.split("=", 1) for item in args.label)
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    unmapped = [label for label in labels if label not in meanings]
    if unmapped:
        ap.error(f"map every label of the model with --label: {', '.join(unmapped)} not mapped")
    if not (args.model / "tokenizer.json").is_file():
        ap.error(f"{args.model} has no tokenizer.json (Seula reads the fast tokenizer's file)")

    args.out.mkdir(parents=True, exist_ok=True)
    sample = tokenizer(["a short example", "and a longer example for the shape"], padding=True, return_tensors="pt")
    inputs = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]

    class Logits(torch.nn.Module):
        """The model with plain tensor inputs and its logits as the one output."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *tensors):
            return self.inner(**dict(zip(inputs, tensors))).logits

    fp32 = args.out / "model.fp32.onnx"
    with torch.no_grad():
        torch.onnx.export(
            Logits(model),
            tuple(sample[name] for name in inputs),
            str(fp32),
            input_names=inputs,
            output_names=["logits"],
            dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in inputs}, "logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    if args.int8:
        quantized(fp32, args.out / "model.onnx")
        fp32.unlink()
    else:
        fp32.replace(args.out / "model.onnx")
    shutil.copyfile(args.model / "tokenizer.json", args.out / "tokenizer.json")
    write_card(
        args.out,
        args.name,
        [lang.strip() for lang in args.languages.split(",")],
        args.max_length,
        args.int8,
        [{"name": "logits", "activation": args.activation, "labels": [meanings[label] for label in labels]}],
    )
    print(f"wrote {args.out}: model.onnx, tokenizer.json, seula-model.toml")


if __name__ == "__main__":
    main()
