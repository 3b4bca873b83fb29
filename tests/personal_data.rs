//! The personal-data detector over fixtures/personal_data.jsonl: precision and recall per kind,
//! printed as a table, with floors; and no hit at all on the hard negatives.

use std::collections::BTreeMap;

use serde::Deserialize;
use seula::signals::personal_data::{self, PersonalKind};

const MIN_PRECISION: f64 = 0.95;
const MIN_RECALL: f64 = 0.9;
/// Kinds with fewer labelled values are reported but not held to the floors.
const MIN_LABELLED: usize = 5;

#[derive(Debug, Deserialize)]
struct Line {
    id: String,
    text: String,
    personal_data: Vec<Label>,
}

#[derive(Debug, Deserialize)]
struct Label {
    kind: PersonalKind,
    value: String,
}

#[derive(Default)]
struct Tally {
    labelled: usize,
    found: usize,
    correct: usize,
}

impl Tally {
    fn precision(&self) -> f64 {
        ratio(self.correct, self.found)
    }

    fn recall(&self) -> f64 {
        ratio(self.correct, self.labelled)
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// The character span of each labelled value; a value that occurs twice is looked for after the
/// previous occurrence of the same value.
fn labelled_spans(line: &Line) -> Vec<(PersonalKind, [usize; 2])> {
    let mut searched_from: BTreeMap<&str, usize> = BTreeMap::new();
    line.personal_data
        .iter()
        .map(|label| {
            let from = searched_from.entry(&label.value).or_insert(0);
            let at = line.text[*from..]
                .find(&label.value)
                .map(|i| *from + i)
                .unwrap_or_else(|| panic!("{}: {:?} not in the text", line.id, label.value));
            *from = at + label.value.len();
            let start = line.text[..at].chars().count();
            (label.kind, [start, start + label.value.chars().count()])
        })
        .collect()
}

#[test]
fn personal_data_fixture_meets_the_floors() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/personal_data.jsonl"
    ))
    .expect("fixture");
    let lines: Vec<Line> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("fixture line"))
        .collect();
    assert!(
        lines.len() >= 120,
        "at least 120 lines, found {}",
        lines.len()
    );

    let mut tallies: BTreeMap<PersonalKind, Tally> = BTreeMap::new();
    let mut mistakes = Vec::new();
    for line in &lines {
        let want = labelled_spans(line);
        let got: Vec<(PersonalKind, [usize; 2])> = personal_data::find(&line.text)
            .into_iter()
            .map(|p| (p.kind, [p.span.start, p.span.end]))
            .collect();
        for (kind, _) in &want {
            tallies.entry(*kind).or_default().labelled += 1;
        }
        for hit in &got {
            let tally = tallies.entry(hit.0).or_default();
            tally.found += 1;
            if want.contains(hit) {
                tally.correct += 1;
            }
        }
        if want != got {
            mistakes.push(format!(
                "{}: labelled {want:?}, found {got:?} in {:?}",
                line.id, line.text
            ));
        }
    }

    println!(
        "{:<16} {:>9} {:>6} {:>8} {:>10} {:>7}",
        "kind", "labelled", "found", "correct", "precision", "recall"
    );
    for (kind, t) in &tallies {
        println!(
            "{:<16} {:>9} {:>6} {:>8} {:>10.3} {:>7.3}",
            kind.name(),
            t.labelled,
            t.found,
            t.correct,
            t.precision(),
            t.recall()
        );
    }
    for m in &mistakes {
        println!("{m}");
    }

    for (kind, t) in &tallies {
        if t.labelled < MIN_LABELLED {
            continue;
        }
        assert!(
            t.precision() >= MIN_PRECISION && t.recall() >= MIN_RECALL,
            "{}: precision {:.3}, recall {:.3}",
            kind.name(),
            t.precision(),
            t.recall()
        );
    }
    let noisy: Vec<&str> = lines
        .iter()
        .filter(|l| l.personal_data.is_empty() && !personal_data::find(&l.text).is_empty())
        .map(|l| l.id.as_str())
        .collect();
    assert!(noisy.is_empty(), "hits on hard negatives: {noisy:?}");
}
