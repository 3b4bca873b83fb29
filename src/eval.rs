//! `seula eval`: scores a labelled JSON Lines file and prints metrics; the metrics themselves,
//! shared with training.
//!
//! A row's labels say what to measure: `label` (negative / neutral / positive) is sentiment;
//! a boolean `offensive`, `hate` or `complaint` is measured against `toxicity`,
//! `identity_attack` and `urgency`; `fake` against `fake_account`; a boolean named after a score
//! (`toxicity`, `insult`, `threat`, `identity_attack`, `profanity`, `urgency`, …) against that
//! score. A row's `author` is the comment's author: the request's fields (`followers`,
//! `following`, `posts`, `has_photo`, `bio`, `name`, `handle`, `account_age_days`), or a
//! profile given as numbers only (`bio_length`, `handle_length`, `handle_digits`), as in public
//! fake-account data; a row without `text` is scored as an empty comment by that author.

use std::io::BufRead;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use serde_json::Value;

use crate::domain::{Author, Comment};
use crate::pipeline::{ModelStatus, Pipeline};
use crate::scoring::learned::{Manifest, Measure};
use crate::scoring::linear::Target;
use crate::scoring::{Assessment, Scores, SentimentLabel};

/// Metrics of a yes/no score against labels, at the 0.5 boundary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Binary {
    pub rows: usize,
    pub positives: usize,
    pub roc_auc: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Mean of the F1 of the positive and of the negative class.
    pub macro_f1: f64,
    pub accuracy: f64,
}

/// Metrics of a predicted class against labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Classes {
    pub rows: usize,
    /// Mean of the per-class recalls.
    pub macro_recall: f64,
    pub macro_f1: f64,
    pub accuracy: f64,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn f1(tp: usize, fp: usize, fn_: usize) -> f64 {
    ratio(2 * tp, 2 * tp + fp + fn_)
}

/// `(score, label)` pairs; a score of 0.5 or more says yes.
pub fn binary(pairs: &[(f32, bool)]) -> Binary {
    let count = |p: fn(bool, bool) -> bool| pairs.iter().filter(|(s, y)| p(*s >= 0.5, *y)).count();
    let tp = count(|said, is| said && is);
    let fp = count(|said, is| said && !is);
    let fn_ = count(|said, is| !said && is);
    let tn = count(|said, is| !said && !is);
    Binary {
        rows: pairs.len(),
        positives: tp + fn_,
        roc_auc: roc_auc(pairs),
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn_),
        f1: f1(tp, fp, fn_),
        macro_f1: (f1(tp, fp, fn_) + f1(tn, fn_, fp)) / 2.0,
        accuracy: ratio(tp + tn, pairs.len()),
    }
}

/// The chance that a random positive scores above a random negative (ties count half).
pub fn roc_auc(pairs: &[(f32, bool)]) -> f64 {
    let mut sorted = pairs.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut positives, mut i) = (0.0, 0usize, 0);
    while i < sorted.len() {
        let j = i + sorted[i..]
            .iter()
            .take_while(|p| p.0 == sorted[i].0)
            .count();
        let mid_rank = (i + j + 1) as f64 / 2.0;
        let tied_positives = sorted[i..j].iter().filter(|p| p.1).count();
        rank_sum += mid_rank * tied_positives as f64;
        positives += tied_positives;
        i = j;
    }
    let negatives = pairs.len() - positives;
    if positives == 0 || negatives == 0 {
        return 0.5;
    }
    (rank_sum - (positives * (positives + 1)) as f64 / 2.0) / (positives * negatives) as f64
}

/// `(predicted, actual)` class pairs over `k` classes.
pub fn classes(pairs: &[(usize, usize)], k: usize) -> Classes {
    let (mut recall, mut f1_sum) = (0.0, 0.0);
    for c in 0..k {
        let tp = pairs.iter().filter(|(p, a)| *p == c && *a == c).count();
        let fp = pairs.iter().filter(|(p, a)| *p == c && *a != c).count();
        let fn_ = pairs.iter().filter(|(p, a)| *p != c && *a == c).count();
        recall += ratio(tp, tp + fn_);
        f1_sum += f1(tp, fp, fn_);
    }
    Classes {
        rows: pairs.len(),
        macro_recall: recall / k as f64,
        macro_f1: f1_sum / k as f64,
        accuracy: ratio(pairs.iter().filter(|(p, a)| p == a).count(), pairs.len()),
    }
}

/// The sentiment class index of a `label` value: negative 0, neutral 1, positive 2.
pub fn sentiment_class(label: &str) -> Option<usize> {
    match label {
        "negative" => Some(0),
        "neutral" => Some(1),
        "positive" => Some(2),
        _ => None,
    }
}

fn class_of(label: SentimentLabel) -> usize {
    match label {
        SentimentLabel::Negative => 0,
        SentimentLabel::Neutral => 1,
        SentimentLabel::Positive => 2,
    }
}

/// The score a boolean label field is measured against, if any.
pub fn score_for(field: &str) -> Option<&'static str> {
    match field {
        "offensive" => Some("toxicity"),
        "hate" => Some("identity_attack"),
        "complaint" => Some("urgency"),
        "fake" => Some("fake_account"),
        other => Scores::NAMES.into_iter().find(|n| *n == other),
    }
}

/// The author a labelled row describes. A profile given as numbers gets a bio of that many
/// letters and a handle of that many characters ending in its digits (`aaaaa123`).
fn author_of(fields: &serde_json::Map<String, Value>) -> Author {
    let count = |name: &str| fields.get(name).and_then(Value::as_u64);
    let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_string);
    let length = |n: u64| usize::try_from(n).unwrap_or(0).min(1_000);
    let handle = text("handle").or_else(|| {
        let total = length(count("handle_length")?);
        let digits = length(count("handle_digits").unwrap_or(0)).min(total);
        Some("a".repeat(total - digits) + &"1".repeat(digits))
    });
    Author {
        name: text("name"),
        handle,
        account_age_days: count("account_age_days").and_then(|d| u32::try_from(d).ok()),
        has_photo: fields.get("has_photo").and_then(Value::as_bool),
        followers: count("followers"),
        following: count("following"),
        posts: count("posts"),
        bio: text("bio").or_else(|| count("bio_length").map(|n| "a".repeat(length(n)))),
        ..Author::default()
    }
}

/// What one file measured.
#[derive(Debug)]
pub struct Report {
    pub rows: usize,
    pub per_comment: Duration,
    pub sentiment: Option<Classes>,
    /// (label field, score, metrics), in the order the fields first appear.
    pub binary: Vec<(String, &'static str, Binary)>,
    /// Comments the cascade sent to the transformer, and how many it scored.
    pub transformer: Option<(usize, usize)>,
}

/// Scores every row of a labelled JSON Lines file through the pipeline and the transformer
/// where the policy's cascade sends it; nothing is recorded or remembered.
pub async fn evaluate(pipeline: &Pipeline, path: &Path) -> anyhow::Result<Report> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut rows = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: Value = serde_json::from_str(&line)
            .with_context(|| format!("{} line {}: not JSON", path.display(), n + 1))?;
        let author = row["author"].as_object().map(author_of);
        let text = match (row["text"].as_str(), &author) {
            (Some(text), _) => text.to_string(),
            (None, Some(_)) => String::new(),
            (None, None) => anyhow::bail!(
                "{} line {}: no \"text\" and no \"author\"",
                path.display(),
                n + 1
            ),
        };
        let comment = Comment {
            author,
            ..Comment::new(format!("eval-{n}"), text)
        };
        rows.push((row, comment));
    }
    anyhow::ensure!(!rows.is_empty(), "{} has no rows", path.display());

    let started = Instant::now();
    let outcomes: Vec<_> = futures_util::stream::iter(&rows)
        .map(|(_, comment)| pipeline.run_unstored(comment))
        .buffered(pipeline.in_flight())
        .collect()
        .await;
    let took = started.elapsed();

    let mut sentiment = Vec::new();
    // (label field, score, (score value, label) pairs), in the order the fields first appear.
    type Pairs = (String, &'static str, Vec<(f32, bool)>);
    let mut binary: Vec<Pairs> = Vec::new();
    let (mut sent, mut scored) = (0, 0);
    for ((row, comment), outcome) in rows.iter().zip(outcomes) {
        let outcome = outcome.with_context(|| format!("scoring {}", comment.id))?;
        if let Some(used) = &outcome.transformer {
            sent += 1;
            scored += usize::from(used.status == ModelStatus::Scored);
        }
        let a: &Assessment = &outcome.assessment;
        if let Some(class) = row["label"].as_str().and_then(sentiment_class) {
            sentiment.push((class_of(a.sentiment.label), class));
        }
        for (field, value) in row.as_object().into_iter().flatten() {
            let (Some(label), Some(score)) = (value.as_bool(), score_for(field)) else {
                continue;
            };
            let s = a.scores.get(score).unwrap_or_default();
            match binary.iter_mut().find(|(f, _, _)| f == field) {
                Some((_, _, pairs)) => pairs.push((s, label)),
                None => binary.push((field.clone(), score, vec![(s, label)])),
            }
        }
    }
    Ok(Report {
        rows: rows.len(),
        per_comment: took / rows.len() as u32,
        sentiment: (!sentiment.is_empty()).then(|| classes(&sentiment, 3)),
        binary: binary
            .into_iter()
            .map(|(field, score, pairs)| (field, score, self::binary(&pairs)))
            .collect(),
        transformer: pipeline.transformer().map(|_| (sent, scored)),
    })
}

/// The report as the table `seula eval` prints.
pub fn render(path: &Path, model_version: &str, report: &Report) -> String {
    let mut out = format!(
        "{}: {} rows, model {model_version}, {:.1} µs per comment\n",
        path.display(),
        report.rows,
        report.per_comment.as_secs_f64() * 1e6
    );
    if let Some((sent, scored)) = report.transformer {
        out += &format!(
            "the cascade sent {sent} of {} comments to the transformer ({:.1} %); it scored {scored}\n",
            report.rows,
            100.0 * sent as f64 / report.rows as f64
        );
    }
    if let Some(s) = &report.sentiment {
        out += &format!(
            "\n| sentiment | rows | macro-recall | macro-F1 | accuracy |\n|---|---|---|---|---|\n| label | {} | {:.3} | {:.3} | {:.3} |\n",
            s.rows, s.macro_recall, s.macro_f1, s.accuracy
        );
    }
    if !report.binary.is_empty() {
        out += "\n| label → score | rows | positives | ROC-AUC | precision | recall | F1 | macro-F1 |\n|---|---|---|---|---|---|---|---|\n";
        for (field, score, b) in &report.binary {
            out += &format!(
                "| {field} → {score} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
                b.rows, b.positives, b.roc_auc, b.precision, b.recall, b.f1, b.macro_f1
            );
        }
    }
    out
}

/// The models' own table: every head's measures (cross-validation on its training rows, then
/// the development and held-out rows), one line per source, and a note wherever a file's
/// development figure and its cross-validation figure differ by more than 0.03.
pub fn render_manifest(manifest: &Manifest) -> String {
    let mut out = format!(
        "models {} (feature schema {})\n\n| model | source | part | rows | positives | F1 or macro-recall | precision | recall | macro-F1 | ROC-AUC |\n|---|---|---|---|---|---|---|---|---|---|\n",
        manifest.version, manifest.feature_schema
    );
    let mut disagreements = Vec::new();
    let cell = |m: &Measure, name: &str| m.metric(name).map_or("".into(), |v| format!("{v:.3}"));
    for head in &manifest.heads {
        let main = if head.target == Target::Sentiment {
            "macro_recall"
        } else {
            "f1"
        };
        for m in &head.measures {
            let positives = if head.target == Target::Sentiment {
                String::new()
            } else {
                m.positives.to_string()
            };
            out += &format!(
                "| {} {} | {} | {} | {} | {positives} | {} | {} | {} | {} | {} |\n",
                head.language,
                head.target.as_str(),
                m.source,
                m.part,
                m.rows,
                cell(m, main),
                cell(m, "precision"),
                cell(m, "recall"),
                cell(m, "macro_f1"),
                cell(m, "roc_auc"),
            );
            let train_file = m.source.replace(".dev.", ".train.");
            let cross = head
                .measures
                .iter()
                .find(|c| c.part == "cross-validation" && c.source == train_file);
            if let (true, Some(c), Some(d)) = (m.part == "dev", cross, m.metric(main)) {
                let cv = c.metric(main).unwrap_or(d);
                if (cv - d).abs() > 0.03 {
                    disagreements.push(format!(
                        "{} {}: {main} {cv:.3} by cross-validation on {}, {d:.3} on {}",
                        head.language,
                        head.target.as_str(),
                        c.source,
                        m.source
                    ));
                }
            }
        }
    }
    if !disagreements.is_empty() {
        out += "\nDev and cross-validation disagree by more than 0.03:\n";
        disagreements
            .iter()
            .for_each(|d| out += &format!("- {d}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_metrics_at_the_boundary() {
        // tp 2, fp 1, fn 1, tn 2
        let pairs = [
            (0.9, true),
            (0.6, true),
            (0.7, false),
            (0.2, true),
            (0.1, false),
            (0.3, false),
        ];
        let b = binary(&pairs);
        assert_eq!((b.rows, b.positives), (6, 3));
        assert!((b.precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((b.recall - 2.0 / 3.0).abs() < 1e-9);
        assert!((b.macro_f1 - 2.0 / 3.0).abs() < 1e-9);
        assert!((b.accuracy - 4.0 / 6.0).abs() < 1e-9);
        // positives 0.9 0.6 0.2 against negatives 0.7 0.1 0.3: 6 of 9 pairs ordered right
        assert!((b.roc_auc - 6.0 / 9.0).abs() < 1e-9, "{}", b.roc_auc);
    }

    #[test]
    fn roc_auc_counts_ties_half_and_is_one_for_a_perfect_ranking() {
        assert!((roc_auc(&[(0.5, true), (0.5, false)]) - 0.5).abs() < 1e-9);
        assert!((roc_auc(&[(0.9, true), (0.8, true), (0.1, false)]) - 1.0).abs() < 1e-9);
        assert!((roc_auc(&[(0.1, true), (0.9, false)])).abs() < 1e-9);
    }

    #[test]
    fn macro_recall_weighs_each_class_equally() {
        // Always "neutral": accuracy follows the majority, macro-recall is a third.
        let pairs: Vec<(usize, usize)> = [0, 1, 1, 1, 1, 1, 1, 2].iter().map(|a| (1, *a)).collect();
        let c = classes(&pairs, 3);
        assert!((c.accuracy - 0.75).abs() < 1e-9);
        assert!((c.macro_recall - 1.0 / 3.0).abs() < 1e-9);
    }
}
