"""Compares Seula with two public peers on the dev splits and prints one markdown table.

VADER (sentiment) and alt-profanity-check (offensive, hate) run in this process; Seula runs
as `seula score` once per file. Run through training/peers.sh, which installs the peers.
"""

import argparse
import importlib.metadata
import json
import subprocess
import sys
import time
from pathlib import Path

from profanity_check import predict_prob
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

SENTIMENTS = ("negative", "neutral", "positive")
VADER = SentimentIntensityAnalyzer()  # loads its lexicon here, outside the timed calls


def progress(message):
    print(message, file=sys.stderr, flush=True)


def load(data_dir, name, field):
    """Returns the texts and the gold labels (`field`) of one JSON Lines file."""
    path = Path(data_dir) / name
    if not path.is_file():
        sys.exit(f"peers.py: missing data file: {path}")
    texts, gold = [], []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            row = json.loads(line)
            if "text" not in row or field not in row:
                sys.exit(f"peers.py: {path}:{number} lacks `text` or `{field}`")
            if field == "label" and row[field] not in SENTIMENTS:
                sys.exit(f"peers.py: {path}:{number} has label {row[field]!r}")
            texts.append(row["text"])
            gold.append(row[field])
    return texts, gold


def accuracy(gold, predicted):
    return sum(g == p for g, p in zip(gold, predicted)) / len(gold)


def macro_recall(gold, predicted):
    recalls = []
    for label in SENTIMENTS:
        pairs = [(g, p) for g, p in zip(gold, predicted) if g == label]
        recalls.append(sum(g == p for g, p in pairs) / len(pairs))
    return sum(recalls) / len(recalls)


def macro_f1(gold, predicted):
    f1s = []
    for label in (True, False):
        tp = sum(g == label and p == label for g, p in zip(gold, predicted))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return sum(f1s) / len(f1s)


def timed(predict, texts):
    """Returns the predictions and the wall-clock microseconds per text."""
    start = time.perf_counter()
    predicted = predict(texts)
    return predicted, (time.perf_counter() - start) * 1e6 / len(texts)


def vader(texts):
    predicted = []
    for text in texts:
        compound = VADER.polarity_scores(text)["compound"]
        predicted.append(
            "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        )
    return predicted


def profanity_one_by_one(texts):
    return [predict_prob([text])[0] >= 0.5 for text in texts]


def profanity_batch(texts):
    return [prob >= 0.5 for prob in predict_prob(texts)]


def seula_score(seula, texts):
    """Runs `seula score` over the texts; returns the responses, one per text, in order."""
    requests = "".join(
        json.dumps({"id": str(number), "text": text}, ensure_ascii=False) + "\n"
        for number, text in enumerate(texts, 1)
    )
    run = subprocess.run(
        [seula, "score"], input=requests, capture_output=True, text=True, encoding="utf-8"
    )
    if run.returncode != 0:
        sys.exit(f"peers.py: `{seula} score` exited with {run.returncode}:\n{run.stderr}")
    responses = [json.loads(line) for line in run.stdout.splitlines()]
    if len(responses) != len(texts):
        sys.exit(f"peers.py: `{seula} score` answered {len(responses)} lines to {len(texts)}")
    for number, response in enumerate(responses, 1):
        if response.get("id") != str(number):
            sys.exit(f"peers.py: `{seula} score` answered id {response.get('id')!r} on line {number}")
    return responses


def seula_version(seula):
    try:
        run = subprocess.run([seula, "--version"], capture_output=True, text=True)
    except OSError:
        return "unknown"
    return run.stdout.strip() if run.returncode == 0 and run.stdout.strip() else "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with the *.dev.jsonl files")
    parser.add_argument("--seula", required=True, help="path of the seula binary")
    args = parser.parse_args()
    if not Path(args.seula).is_file():
        sys.exit(f"peers.py: missing seula binary: {args.seula}")

    # (task, file, gold field, peer name, peer, Seula's prediction from a response, metric)
    tasks = [
        ("sentiment_en", "sentiment_en.dev.jsonl", "label", "VADER", vader,
         lambda r: r["sentiment"]["label"], "macro-recall"),
        ("sentiment_fi", "sentiment_fi.dev.jsonl", "label", "VADER (English-only)", vader,
         lambda r: r["sentiment"]["label"], "macro-recall"),
        ("offensive_en", "offensive_en.dev.jsonl", "offensive", "alt-profanity-check",
         profanity_one_by_one, lambda r: r["scores"]["toxicity"] >= 0.5, "macro-F1"),
        ("hate_en", "hate_en.dev.jsonl", "hate", "alt-profanity-check",
         profanity_one_by_one, lambda r: r["scores"]["identity_attack"] >= 0.5, "macro-F1"),
    ]
    loaded = [load(args.data, file, field) for _, file, field, *_ in tasks]

    rows, notes = [], []
    for (task, _, _, peer_name, peer, seula_prediction, metric), (texts, gold) in zip(tasks, loaded):
        score = macro_recall if metric == "macro-recall" else macro_f1
        progress(f"{task}: {peer_name} on {len(texts)} rows")
        predicted, micros = timed(peer, texts)
        rows.append((task, len(texts), peer_name, metric, score(gold, predicted),
                     accuracy(gold, predicted), micros))
        if peer is profanity_one_by_one:
            _, batch_micros = timed(profanity_batch, texts)
            notes.append(f"alt-profanity-check on {task} in one batch call: "
                         f"{batch_micros:.0f} µs per comment.")

        progress(f"{task}: Seula on {len(texts)} rows")
        responses, micros = timed(lambda t: seula_score(args.seula, t), texts)
        errors = sum("error" in response for response in responses)
        # An error counts as wrong: no sentiment label, the opposite of a binary gold label.
        predicted = [
            (None if metric == "macro-recall" else not g) if "error" in response
            else seula_prediction(response)
            for g, response in zip(gold, responses)
        ]
        name = f"Seula (error lines: {errors}, counted wrong)" if errors else "Seula"
        rows.append((task, len(texts), name, metric, score(gold, predicted),
                     accuracy(gold, predicted), micros))

    print("| task | dev rows | system | metric | value | accuracy | µs per comment |")
    print("|---|---:|---|---|---:|---:|---:|")
    for task, count, system, metric, value, acc, micros in rows:
        print(f"| {task} | {count} | {system} | {metric} | {value:.3f} | {acc:.3f} | {micros:.0f} |")
    print()
    print("Peers' time is one call per comment, in this Python process. Seula's time is the whole "
          "`seula score` process over the file: process start and JSON I/O included.")
    for note in notes:
        print(note)
    print("VADER is English-only; its sentiment_fi row shows it on Finnish anyway.")
    print()
    print(f"vaderSentiment {importlib.metadata.version('vaderSentiment')}, "
          f"alt-profanity-check {importlib.metadata.version('alt-profanity-check')}, "
          f"seula: {seula_version(args.seula)}")


if __name__ == "__main__":
    main()
