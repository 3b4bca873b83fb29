"""Joins the annotators' labels with the sentences into Seula's Finnish toxicity file, and
measures agreement between the two independent passes (Cohen's kappa per label).

    python3 training/annotation/merge.py ../shared/data/sentiment_fi.train.jsonl

Reads `sample.jsonl` (from sample.py), `pass1/labels_*.jsonl` (every sentence) and
`pass2/labels_*.jsonl` (the 500 sentences labelled twice); writes
`training/data/toxicity_fi_s24.jsonl` with the first pass's labels and prints the agreement
table in markdown. Stops on a missing, repeated or unknown id or label.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from agreement import kappa, shown  # noqa: E402

LABELS = ("toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity")
IMPLY_TOXICITY = {"severe_toxicity", "insult", "threat", "identity_attack"}
HERE = Path(__file__).parent
OUT = HERE.parent / "data" / "toxicity_fi_s24.jsonl"


def read_labels(folder):
    labels = {}
    for path in sorted(folder.glob("labels_*.jsonl")):
        for n, raw in enumerate(open(path, encoding="utf-8"), 1):
            row = json.loads(raw)
            given = set(row["labels"])
            if row["id"] in labels or not given <= set(LABELS):
                sys.exit(f"{path}:{n}: repeated id or unknown label: {raw.strip()}")
            if given & IMPLY_TOXICITY:
                given.add("toxicity")
            labels[row["id"]] = given
    return labels


def main(source):
    texts = {}
    sentiment = {}
    for line, raw in enumerate(open(source, encoding="utf-8")):
        r = json.loads(raw)
        texts[line], sentiment[line] = r["text"], r["label"]
    sample = [json.loads(raw) for raw in open(HERE / "sample.jsonl")]
    first, second = read_labels(HERE / "pass1"), read_labels(HERE / "pass2")
    missing = [s["id"] for s in sample if s["id"] not in first]
    missing += [s["id"] for s in sample if s["double"] and s["id"] not in second]
    if missing:
        sys.exit(f"no labels for {len(missing)} sentences, e.g. {missing[:5]}")
    OUT.parent.mkdir(exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as out:
        for s in sorted(sample, key=lambda s: s["line"]):
            row = {"id": s["id"], "text": texts[s["line"]]}
            row.update({label: label in first[s["id"]] for label in LABELS})
            row.update({"sentiment": sentiment[s["line"]], "split": s["split"],
                        "source": "suomi24-finnsentiment-seula"})
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    double = [s["id"] for s in sample if s["double"]]
    print(f"{len(sample)} sentences; agreement on the {len(double)} labelled twice:\n")
    print("| label | first pass yes | second pass yes | agreement | Cohen's κ |")
    print("|---|---|---|---|---|")
    for label in LABELS:
        a = [label in first[i] for i in double]
        b = [label in second[i] for i in double]
        agree = sum(x == y for x, y in zip(a, b)) / len(double)
        print(f"| {label} | {sum(a)} | {sum(b)} | {agree:.3f} | {shown(kappa(a, b))} |")


if __name__ == "__main__":
    main(sys.argv[1])
