"""Joins the annotators' intent labels with the comments into Seula's intent file, and measures
agreement between the two independent passes (Cohen's kappa per intent).

    python3 training/intents/merge.py ../shared/data

Reads `sample.jsonl` (from sample.py), the texts (the real ones from the data folder,
`written.jsonl`), `pass1/labels_*.jsonl` (every comment) and `pass2/labels_*.jsonl` (a fifth,
labelled again); writes `training/data/intents.jsonl` with the first pass's labels and prints
the agreement table in markdown. Stops on a missing, repeated or unknown id or intent.
"""

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from agreement import kappa, shown  # noqa: E402

INTENTS = ("question", "problem_report", "complaint", "refund_or_compensation", "purchase_intent",
           "cancellation", "feature_request", "praise", "press_or_influencer",
           "personal_data_request", "job_inquiry")
HERE = Path(__file__).parent
OUT = HERE.parent / "data" / "intents.jsonl"
SOURCES = {"x-ci": "complaints_en.train.jsonl", "finnsentiment": "sentiment_fi.train.jsonl"}


def read_labels(folder):
    labels = {}
    for path in sorted(folder.glob("labels_*.jsonl")):
        for n, raw in enumerate(open(path, encoding="utf-8"), 1):
            row = json.loads(raw)
            given = set(row["intents"])
            if row["id"] in labels or not given <= set(INTENTS):
                sys.exit(f"{path}:{n}: repeated id or unknown intent: {raw.strip()}")
            labels[row["id"]] = given
    return labels


def main(data):
    data = Path(data)
    lines = {source: [json.loads(raw)["text"] for raw in open(data / name, encoding="utf-8")]
             for source, name in SOURCES.items()}
    written = {r["id"]: r for r in map(json.loads, open(HERE / "written.jsonl", encoding="utf-8"))}
    sample = [json.loads(raw) for raw in open(HERE / "sample.jsonl")]
    first, second = read_labels(HERE / "pass1"), read_labels(HERE / "pass2")
    missing = [s["id"] for s in sample if s["id"] not in first]
    missing += [s["id"] for s in sample if s["double"] and s["id"] not in second]
    if missing:
        sys.exit(f"no labels for {len(missing)} comments, e.g. {missing[:5]}")
    OUT.parent.mkdir(exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as out:
        for s in sorted(sample, key=lambda s: s["id"]):
            if s["source"] == "written":
                w = written[s["id"]]
                text, language, platform = w["text"], w["language"], w["platform"]
            else:
                text = lines[s["source"]][s["line"]]
                language = "en" if s["source"] == "x-ci" else "fi"
                platform = "x" if s["source"] == "x-ci" else "forum"
            row = {"id": s["id"], "text": text, "language": language, "platform": platform,
                   "source": s["source"], "intents": sorted(first[s["id"]], key=INTENTS.index),
                   "split": "test" if int(hashlib.sha256(f"split:{s['id']}".encode()).hexdigest(), 16) % 5 == 0 else "train"}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    double = [s["id"] for s in sample if s["double"]]
    print(f"{len(sample)} comments, {len(double)} labelled twice\n")
    print("| intent | all (first pass) | twice: first | twice: second | agreement | κ |")
    print("|---|---|---|---|---|---|")
    for intent in INTENTS:
        a = [intent in first[i] for i in double]
        b = [intent in second[i] for i in double]
        total = sum(intent in first[s["id"]] for s in sample)
        agree = sum(x == y for x, y in zip(a, b)) / len(a)
        print(f"| {intent} | {total} | {sum(a)} | {sum(b)} | {agree:.3f} | {shown(kappa(a, b))} |")
    none = sum(not first[s["id"]] for s in sample)
    print(f"\nno intent: {none} of {len(sample)}")


if __name__ == "__main__":
    main(sys.argv[1])
