"""Measures Seula's intents against the project's labelled intent set (training/data/intents.jsonl):
precision, recall and F1 per intent, overall and per language, as a markdown table. `--split
test` keeps the held-out fifth, which the learned heads never saw (they train on the rest).

    python3 training/intents/evaluate.py target/release/seula [--split test]
"""

import argparse

import json
import subprocess
from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE.parent / "data" / "intents.jsonl"
INTENTS = ("question", "problem_report", "complaint", "refund_or_compensation", "purchase_intent",
           "cancellation", "feature_request", "praise", "press_or_influencer",
           "personal_data_request", "job_inquiry")


def f1(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main(seula, split):
    rows = [json.loads(raw) for raw in open(DATA, encoding="utf-8")]
    rows = [r for r in rows if split in ("all", r["split"])]
    lines = "".join(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n" for r in rows)
    out = subprocess.run([seula, "score"], input=lines, capture_output=True, text=True, check=True)
    found = {}
    for raw in out.stdout.splitlines():
        answer = json.loads(raw)
        found[answer["id"]] = {i["intent"] for i in answer.get("intents", [])}
    print("| intent | language | labelled | found | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|")
    macro = {}
    for intent in INTENTS:
        for language in ("all", "fi", "en"):
            subset = [r for r in rows if language in ("all", r["language"])]
            tp = sum(intent in r["intents"] and intent in found[r["id"]] for r in subset)
            fp = sum(intent not in r["intents"] and intent in found[r["id"]] for r in subset)
            fn = sum(intent in r["intents"] and intent not in found[r["id"]] for r in subset)
            p, r, f = f1(tp, fp, fn)
            macro.setdefault(language, []).append(f)
            print(f"| {intent} | {language} | {tp + fn} | {tp + fp} | {p:.2f} | {r:.2f} | {f:.2f} |")
    for language, scores in macro.items():
        print(f"\nmacro-F1 ({language}): {sum(scores) / len(scores):.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("seula", help="the seula binary")
    parser.add_argument("--split", choices=("all", "train", "test"), default="all")
    arguments = parser.parse_args()
    main(arguments.seula, arguments.split)
