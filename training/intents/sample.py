"""Draws the comments for intent annotation (training/INTENTS.md) and puts them in batches.

Real comments: 400 tweets to brand support accounts from X-CI (complaints_en.train.jsonl), and
200 Suomi24 sentences from FinnSentiment (sentiment_fi.train.jsonl) that mention buying,
selling, a company or a service (the stems in COMMERCE: a selection of which sentences to read,
never a label). Written comments: `written.jsonl`, Finnish and English comments written for the
set (see ../data/README-intents.md), when it exists. Order and choice come from SHA-256 of the
id, so the same files give the same batches. Writes `batches/` (100 comments each, the first
pass), `pass2/batches/` (a fifth of every source, labelled again by an independent annotator)
and `sample.jsonl` (id, source, line, double) for merge.py.

    python3 training/intents/sample.py ../shared/data
"""

import hashlib
import json
import re
import sys
from pathlib import Path

ENGLISH, FINNISH = 400, 200
BATCH = 100
HERE = Path(__file__).parent
COMMERCE = re.compile(
    r"\b(asiakaspalvel|asiakkaa|tilau|tilas|tilaa|lasku|hinta|hinnan|hinnat|maksoi|maksaa|maksu|"
    r"veloit|palaut|hyvit|rahat takaisin|reklam|takuu|peru|irtisan|sopimu|liittym|operaattor|"
    r"toimitu|paketti|posti|kauppa|kaupa|kaupass|myymä|verkkokaup|tuote|ostaa|ostin|ostaisin|"
    r"ostet|myydä|myynti|alennu|tarjou|yritys|yrityk|firma|pankki|pankin|vakuutu|sähköyhti|"
    r"sovellu|nettisivu|palvelu|kesätyö|työpaik|hakemu|rekry|harjoittel|toimittaja|haastattel|"
    r"tietosuoj|henkilötie|rekisteri|vika|ei toimi|juna|vr:n|bussi|lento)",
    re.IGNORECASE,
)


def digest(*parts):
    return hashlib.sha256(":".join(parts).encode()).hexdigest()


def read(path):
    return [json.loads(raw) for raw in open(path, encoding="utf-8")]


def write_batches(rows, folder, prefix):
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(0, len(rows), BATCH):
        with open(folder / f"{prefix}_{n // BATCH:03d}.jsonl", "w", encoding="utf-8") as out:
            for r in rows[n : n + BATCH]:
                out.write(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n")


def unique(rows):
    seen, kept = set(), []
    for r in rows:
        key = " ".join(r["text"].split()).lower()
        if key not in seen:
            seen.add(key)
            kept.append(r)
    return kept


def main(data):
    data = Path(data)
    english = [{"id": f"xci-{line:04d}", "source": "x-ci", "line": line, "text": r["text"]}
               for line, r in enumerate(read(data / "complaints_en.train.jsonl"))]
    finnish = [{"id": f"s24-{line:05d}", "source": "finnsentiment", "line": line, "text": r["text"]}
               for line, r in enumerate(read(data / "sentiment_fi.train.jsonl"))
               if COMMERCE.search(r["text"]) and len(r["text"].split()) >= 4]
    by_hash = lambda rows, salt: sorted(rows, key=lambda r: digest(salt, r["id"]))
    real = unique(by_hash(english, "sample"))[:ENGLISH] + unique(by_hash(finnish, "sample"))[:FINNISH]
    real = by_hash(real, "batch")
    written_path = HERE / "written.jsonl"
    written = [dict(r, source="written", line=None) for r in read(written_path)] if written_path.exists() else []
    written = by_hash(written, "batch")
    write_batches(real, HERE / "batches", "batch")
    write_batches(written, HERE / "batches", "written")
    every = real + written
    twice = lambda r: int(digest("second", r["id"]), 16) % 5 == 0
    double = [r for r in every if twice(r)]
    write_batches(by_hash([r for r in real if twice(r)], "second"), HERE / "pass2" / "batches", "batch")
    write_batches(by_hash([r for r in written if twice(r)], "second"), HERE / "pass2" / "batches", "written")
    with open(HERE / "sample.jsonl", "w") as out:
        for r in every:
            out.write(json.dumps({"id": r["id"], "source": r["source"], "line": r["line"],
                                  "double": r in double}) + "\n")
    print(f"{len(real)} real comments ({len(finnish)} Finnish candidates), {len(written)} written, "
          f"{len(double)} annotated twice", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
