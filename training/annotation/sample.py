"""Draws the Suomi24 sentences for toxicity annotation from FinnSentiment's training file.

Every sentence whose majority label is negative, plus a sample of the rest stratified by the
three sentiment annotators' votes (each stratum in proportion to its size), de-duplicated by
text. Order and choice come from SHA-256 of the row id, so the same file gives the same
sample. Writes batches of 100 sentences for the first annotation pass, the 500 sentences of
the held-out part that a second, independent pass labels again (in another order), and
`sample.jsonl` (id, line, split) for `merge.py`.

    python3 training/annotation/sample.py ../shared/data/sentiment_fi.train.jsonl
"""

import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

OTHERS = 2400  # sentences drawn from the non-negative rows
BATCH = 100
SECOND_PASS = 500
HERE = Path(__file__).parent


def digest(*parts):
    return hashlib.sha256(":".join(parts).encode()).hexdigest()


def write_batches(rows, folder):
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(0, len(rows), BATCH):
        with open(folder / f"batch_{n // BATCH:03d}.jsonl", "w") as out:
            for r in rows[n : n + BATCH]:
                out.write(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n")


def main(path):
    rows = []
    for line, raw in enumerate(open(path, encoding="utf-8")):
        r = json.loads(raw)
        rows.append({"id": f"s24-{line:05d}", "line": line, "text": r["text"],
                     "label": r["label"], "votes": tuple(sorted(r["annotations"]))})
    rows.sort(key=lambda r: digest("sample", r["id"]))
    negative = [r for r in rows if r["label"] == "negative"]
    strata = defaultdict(list)
    for r in rows:
        if r["label"] != "negative":
            strata[r["votes"]].append(r)
    rest = sum(len(s) for s in strata.values())
    chosen = list(negative)
    for votes in sorted(strata):
        chosen += strata[votes][: round(len(strata[votes]) * OTHERS / rest)]
    seen, sample = set(), []
    for r in sorted(chosen, key=lambda r: digest("batch", r["id"])):
        key = " ".join(r["text"].split()).lower()
        if key not in seen:
            seen.add(key)
            r["split"] = "test" if int(digest("split", r["id"]), 16) % 5 == 0 else "train"
            sample.append(r)
    test = sorted((r for r in sample if r["split"] == "test"), key=lambda r: digest("second", r["id"]))
    for r in test[:SECOND_PASS]:
        r["double"] = True
    write_batches(sample, HERE / "batches")
    write_batches(test[:SECOND_PASS], HERE / "pass2" / "batches")
    with open(HERE / "sample.jsonl", "w") as out:
        for r in sample:
            out.write(json.dumps({"id": r["id"], "line": r["line"], "split": r["split"],
                                  "double": r.get("double", False)}) + "\n")
    print(f"{len(sample)} sentences ({len(negative)} negative), "
          f"{sum(r['split'] == 'test' for r in sample)} held out, {SECOND_PASS} annotated twice",
          file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
