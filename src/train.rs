//! `seula train`: the shipped models, from labelled JSON Lines to `models/`.
//!
//! In order: read the data (fixed file order, rows in file order), normalize and score every
//! text with the lexicons and the rule scorer (their scores become dense features), load the
//! subword tokenizer (or train it on the training texts when there is none yet), pick each language's vocabulary (the most frequent
//! feature hashes), fit every head with linfa's logistic regression, calibrate it on its
//! development rows, and write the models, the tokenizer and `manifest.json`. Nothing here is
//! random, so the same data gives the same bytes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use chrono::DateTime;
use linfa::prelude::*;
use linfa_logistic::{LogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2};
use serde_json::Value;
use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainerBuilder};
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;
use tokenizers::{
    AddedToken, DecoderWrapper, NormalizerWrapper, PostProcessorWrapper, PreTokenizerWrapper,
    Tokenizer, TokenizerBuilder,
};
use xxhash_rust::xxh3::xxh3_64;

use crate::domain::{Comment, Language};
use crate::eval;
use crate::features::{self, DENSE, Featurizer};
use crate::normalize::{NormalizedText, normalize};
use crate::scoring::learned::{
    DataEntry, FileEntry, HeadEntry, MANIFEST, Manifest, TOKENIZER, sha256_hex,
};
use crate::scoring::linear::{Calibration, Head, LanguageModel, Linear, Prediction, Target};
use crate::scoring::rules::RuleScorer;
use crate::scoring::{Assessment, Scorer};
use crate::signals::{self, Lexicons};

/// What `seula train` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub data: PathBuf,
    /// The project's own labelled Finnish comments.
    pub own: PathBuf,
    /// The subword tokenizer: used as it is when the file exists, else trained and written there.
    /// tokenizers' trainer breaks ties in hash-map order, so a new one differs run to run; keeping
    /// it makes training reproducible.
    pub tokenizer: PathBuf,
    pub out: PathBuf,
    pub vocabulary: usize,
    pub tokenizer_vocabulary: usize,
    pub max_iterations: u64,
    /// Read at most this many rows of each file (a quick run on a sample).
    pub limit: Option<usize>,
}

/// One labelled file as read.
struct File {
    name: String,
    rows: Vec<Value>,
    sha256: String,
}

fn read(path: &Path, limit: Option<usize>) -> anyhow::Result<File> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text =
        std::str::from_utf8(&bytes).with_context(|| format!("{}: not UTF-8", path.display()))?;
    let rows = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(limit.unwrap_or(usize::MAX))
        .enumerate()
        .map(|(n, l)| {
            let row: Value = serde_json::from_str(l)
                .with_context(|| format!("{} line {}: not JSON", path.display(), n + 1))?;
            anyhow::ensure!(
                row["text"].is_string(),
                "{} line {}: no \"text\"",
                path.display(),
                n + 1
            );
            Ok(row)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(File {
        name: path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into(),
        ),
        rows,
        sha256: sha256_hex(&bytes),
    })
}

/// A text ready for features: normalized, with its dense features from signals and rule scores.
struct Example {
    original: String,
    text: NormalizedText,
    dense: [f32; DENSE.len()],
}

/// Every text of one language, each once, in the order first seen.
#[derive(Default)]
struct Corpus {
    examples: Vec<Example>,
    rules: Vec<Assessment>,
    by_text: HashMap<String, usize>,
}

impl Corpus {
    fn add(&mut self, lexicons: &Lexicons, language: Language, text: &str) -> usize {
        if let Some(&i) = self.by_text.get(text) {
            return i;
        }
        let mut comment = Comment::new("train", text);
        comment.language = Some(language);
        let normalized = normalize(text);
        let epoch = DateTime::UNIX_EPOCH;
        let signals = signals::extract(lexicons, &comment, &normalized, epoch);
        let rules = RuleScorer.score(text, &normalized, &signals);
        let dense = features::dense(&normalized, &signals, &rules);
        self.examples.push(Example {
            original: text.to_string(),
            text: normalized,
            dense,
        });
        self.rules.push(rules);
        self.by_text
            .insert(text.to_string(), self.examples.len() - 1);
        self.examples.len() - 1
    }
}

impl Corpus {
    /// Adds the rows of a training and a development file that `label` labels to the head.
    fn label(
        &mut self,
        lexicons: &Lexicons,
        language: Language,
        head: &mut HeadData,
        [train, dev]: [&File; 2],
        label: impl Fn(&Value) -> Option<usize>,
    ) {
        for (f, split) in [(train, &mut head.train), (dev, &mut head.dev)] {
            for row in &f.rows {
                if let Some(y) = label(row) {
                    let i = self.add(lexicons, language, row["text"].as_str().unwrap_or_default());
                    split.push(&f.name, i, y);
                }
            }
        }
    }
}

/// The labelled rows of one head: (example index, label), labels 0/1 or a sentiment class.
#[derive(Default)]
struct Split {
    sources: Vec<String>,
    rows: Vec<(usize, usize)>,
}

impl Split {
    fn push(&mut self, source: &str, example: usize, label: usize) {
        if !self.sources.iter().any(|s| s == source) {
            self.sources.push(source.to_string());
        }
        self.rows.push((example, label));
    }
}

struct HeadData {
    target: Target,
    train: Split,
    dev: Split,
}

/// Rows of the project's own set whose id hashes to 0 mod 5 are its development rows.
fn is_dev(key: &str) -> bool {
    xxh3_64(key.as_bytes()).is_multiple_of(5)
}

fn flag(row: &Value, field: &str) -> Option<bool> {
    row[field].as_bool()
}

fn progress(start: Instant, message: &str) {
    eprintln!("[{:>6.1} s] {message}", start.elapsed().as_secs_f64());
}

pub fn train(options: &Options) -> anyhow::Result<Manifest> {
    let start = Instant::now();
    let lexicons = Lexicons::shipped().map_err(|e| anyhow::anyhow!(e))?;
    let file = |name: &str| read(&options.data.join(name), options.limit);
    let files = [
        file("sentiment_en.train.jsonl")?,
        file("sentiment_en.dev.jsonl")?,
        file("offensive_en.train.jsonl")?,
        file("offensive_en.dev.jsonl")?,
        file("hate_en.train.jsonl")?,
        file("hate_en.dev.jsonl")?,
        file("complaints_en.train.jsonl")?,
        file("sentiment_fi.train.jsonl")?,
        file("sentiment_fi.dev.jsonl")?,
        read(&options.own, options.limit)?,
    ];
    let [
        sent_en,
        sent_en_dev,
        off,
        off_dev,
        hate,
        hate_dev,
        complaints,
        sent_fi,
        sent_fi_dev,
        own,
    ] = &files;
    progress(
        start,
        &format!(
            "read {} rows from {} files",
            files.iter().map(|f| f.rows.len()).sum::<usize>(),
            files.len()
        ),
    );

    let (mut en, mut fi) = (Corpus::default(), Corpus::default());
    let text = |row: &Value| row["text"].as_str().unwrap_or_default().to_string();
    let mut heads_en: Vec<HeadData> = Vec::new();
    let mut heads_fi: Vec<HeadData> = Vec::new();

    // English: sentiment (SemEval / TweetEval), the OLID heads, HatEval, complaints.
    let head = |target| HeadData {
        target,
        train: Split::default(),
        dev: Split::default(),
    };
    let sentiment_label = |r: &Value| r["label"].as_str().and_then(eval::sentiment_class);
    let mut sentiment = head(Target::Sentiment);
    en.label(
        &lexicons,
        Language::En,
        &mut sentiment,
        [sent_en, sent_en_dev],
        sentiment_label,
    );
    heads_en.push(sentiment);
    type Label = fn(&Value) -> Option<bool>;
    let labels: [(Target, [&File; 2], Label); 4] = [
        (Target::Toxicity, [off, off_dev], |r| flag(r, "offensive")),
        (Target::Insult, [off, off_dev], |r| {
            Some(flag(r, "offensive")? && flag(r, "targeted") == Some(true))
        }),
        (Target::Profanity, [off, off_dev], |r| {
            Some(flag(r, "offensive")? && flag(r, "targeted") != Some(true))
        }),
        (Target::IdentityAttack, [hate, hate_dev], |r| {
            flag(r, "hate")
        }),
    ];
    for (target, files, label) in labels {
        let mut h = head(target);
        en.label(&lexicons, Language::En, &mut h, files, |r| {
            label(r).map(usize::from)
        });
        heads_en.push(h);
    }
    let mut urgency = head(Target::Urgency);
    for row in &complaints.rows {
        if let Some(y) = flag(row, "complaint") {
            let t = text(row);
            let split = if is_dev(&t) {
                &mut urgency.dev
            } else {
                &mut urgency.train
            };
            split.push(
                &complaints.name,
                en.add(&lexicons, Language::En, &t),
                y.into(),
            );
        }
    }
    heads_en.push(urgency);
    progress(
        start,
        &format!("English: {} texts scored by the rules", en.examples.len()),
    );

    // Finnish: sentiment from FinnSentiment and the own set; the toxicity family and urgency
    // from the own set (three copies of each training row) and FinnSentiment rows labelled by
    // the lexicons: a rule score of 0.5 or more is a yes; a neutral or positive sentence with a
    // lower score is a no (every fourth such sentence, to keep training short); a negative one
    // with a lower score is left out (it may be hostile in words the lexicons miss).
    let own_id = |row: &Value| row["id"].as_str().unwrap_or_default().to_string();
    let mut sentiment = head(Target::Sentiment);
    fi.label(
        &lexicons,
        Language::Fi,
        &mut sentiment,
        [sent_fi, sent_fi_dev],
        sentiment_label,
    );
    for row in &own.rows {
        if let Some(c) = row["label"].as_str().and_then(eval::sentiment_class) {
            let i = fi.add(&lexicons, Language::Fi, &text(row));
            match is_dev(&own_id(row)) {
                true => sentiment.dev.push(&own.name, i, c),
                false => sentiment.train.push(&own.name, i, c),
            }
        }
    }
    heads_fi.push(sentiment);
    for target in [
        Target::Toxicity,
        Target::Insult,
        Target::Threat,
        Target::IdentityAttack,
        Target::Profanity,
        Target::Urgency,
    ] {
        let mut h = head(target);
        for row in &own.rows {
            let Some(y) = flag(row, target.as_str()) else {
                continue;
            };
            let i = fi.add(&lexicons, Language::Fi, &text(row));
            if is_dev(&own_id(row)) {
                h.dev.push(&own.name, i, y.into());
            } else {
                for _ in 0..3 {
                    h.train.push(&own.name, i, y.into());
                }
            }
        }
        let weak = format!("{} (labelled by the lexicons)", sent_fi.name);
        for (n, row) in sent_fi.rows.iter().enumerate() {
            let i = fi.add(&lexicons, Language::Fi, &text(row));
            let rule = fi.rules[i].scores.get(target.as_str()).unwrap_or_default();
            if rule >= 0.5 {
                h.train.push(&weak, i, 1);
            } else if n % 4 == 0 && row["label"].as_str() != Some("negative") {
                h.train.push(&weak, i, 0);
            }
        }
        heads_fi.push(h);
    }
    progress(
        start,
        &format!("Finnish: {} texts scored by the rules", fi.examples.len()),
    );

    let kept = options.tokenizer.exists();
    let tokenizer = if kept {
        Tokenizer::from_file(&options.tokenizer)
            .map_err(|e| anyhow::anyhow!("{}: {e}", options.tokenizer.display()))?
    } else {
        train_tokenizer(options, [&en, &fi], [&heads_en, &heads_fi])?
    };
    let tokenizer_json = tokenizer
        .to_string(false)
        .map_err(|e| anyhow::anyhow!("serializing the tokenizer: {e}"))?;
    if !kept {
        std::fs::write(&options.tokenizer, &tokenizer_json)
            .with_context(|| format!("writing {}", options.tokenizer.display()))?;
    }
    progress(
        start,
        &format!(
            "tokenizer {}: {} pieces",
            options.tokenizer.display(),
            tokenizer.get_vocab_size(true)
        ),
    );
    let featurizer = Featurizer::new(tokenizer);

    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("creating {}", options.out.display()))?;
    let mut written = Vec::new();
    let mut head_entries = Vec::new();
    for (name, corpus, heads) in [("fi", &fi, heads_fi), ("en", &en, heads_en)] {
        let (model, entries) = train_language(options, start, name, &featurizer, corpus, heads)?;
        head_entries.extend(entries);
        written.push((format!("{name}.json"), serde_json::to_vec(&model)?));
    }
    written.push((TOKENIZER.to_string(), tokenizer_json.into_bytes()));

    let files_entries: Vec<FileEntry> = written
        .iter()
        .map(|(name, bytes)| FileEntry {
            name: name.clone(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        })
        .collect();
    let fingerprint: String = files_entries.iter().map(|f| f.sha256.as_str()).collect();
    let manifest = Manifest {
        version: format!("linear-{}", &sha256_hex(fingerprint.as_bytes())[..12]),
        feature_schema: features::SCHEMA,
        command: command_line(options),
        files: files_entries,
        data: files
            .iter()
            .map(|f| DataEntry {
                file: f.name.clone(),
                rows: f.rows.len(),
                sha256: f.sha256.clone(),
            })
            .collect(),
        heads: head_entries,
    };
    for (name, bytes) in &written {
        let path = options.out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    let path = options.out.join(MANIFEST);
    let mut json = serde_json::to_string_pretty(&manifest)?;
    json.push('\n');
    std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
    progress(start, &format!("wrote {}", options.out.display()));
    Ok(manifest)
}

fn command_line(o: &Options) -> String {
    let mut cmd = format!(
        "seula train --data {} --own {} --tokenizer {} --out {} --vocabulary {} --tokenizer-vocabulary {} --max-iterations {}",
        o.data.display(),
        o.own.display(),
        o.tokenizer.display(),
        o.out.display(),
        o.vocabulary,
        o.tokenizer_vocabulary,
        o.max_iterations
    );
    if let Some(limit) = o.limit {
        cmd += &format!(" --limit {limit}");
    }
    cmd
}

/// A WordPiece tokenizer over the folded words of every training text, both languages.
fn train_tokenizer(
    options: &Options,
    corpora: [&Corpus; 2],
    heads: [&Vec<HeadData>; 2],
) -> anyhow::Result<Tokenizer> {
    let mut lines: Vec<String> = Vec::new();
    for (corpus, heads) in corpora.into_iter().zip(heads) {
        let mut seen = vec![false; corpus.examples.len()];
        for (i, _) in heads.iter().flat_map(|h| &h.train.rows) {
            if !std::mem::replace(&mut seen[*i], true) {
                let words: Vec<&str> = corpus.examples[*i]
                    .text
                    .words()
                    .map(|t| t.text.as_str())
                    .collect();
                lines.push(words.join(" "));
            }
        }
    }
    let mut trainer = WordPieceTrainerBuilder::default()
        .vocab_size(options.tokenizer_vocabulary)
        .min_frequency(3)
        .show_progress(false)
        .special_tokens(vec![AddedToken::from("[UNK]", true)])
        .build();
    let mut tokenizer = TokenizerBuilder::<
        WordPiece,
        NormalizerWrapper,
        PreTokenizerWrapper,
        PostProcessorWrapper,
        DecoderWrapper,
    >::new()
    .with_model(
        WordPiece::builder()
            .unk_token("[UNK]".into())
            .build()
            .map_err(|e| anyhow::anyhow!("tokenizer model: {e}"))?,
    )
    .with_pre_tokenizer(Some(WhitespaceSplit.into()))
    .build()
    .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    tokenizer
        .train(&mut trainer, lines.iter())
        .map_err(|e| anyhow::anyhow!("training the tokenizer: {e}"))?;
    canonical(tokenizer.get_vocab(false))
}

/// The tokenizer with its pieces numbered in sorted order, so its bytes depend only on which
/// pieces it learned, not on the order training found them in.
fn canonical(vocab: HashMap<String, u32>) -> anyhow::Result<Tokenizer> {
    let mut pieces: Vec<String> = vocab.into_keys().collect();
    pieces.sort();
    let vocab: serde_json::Map<String, Value> = pieces
        .into_iter()
        .enumerate()
        .map(|(i, p)| (p, Value::from(i)))
        .collect();
    let json = serde_json::json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [],
        "normalizer": null,
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": null,
        "decoder": null,
        "model": {
            "type": "WordPiece",
            "unk_token": "[UNK]",
            "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100,
            "vocab": vocab,
        },
    });
    json.to_string()
        .parse()
        .map_err(|e| anyhow::anyhow!("rebuilding the tokenizer: {e}"))
}

/// The feature hashes of every example, and the vocabulary: the `size` hashes found in the most
/// training texts (at least two), ties broken by the hash.
fn vocabulary(
    featurizer: &Featurizer,
    corpus: &Corpus,
    heads: &[HeadData],
    size: usize,
) -> (Vec<Vec<u64>>, Vec<u64>) {
    let mut buf = Vec::new();
    let hashes: Vec<Vec<u64>> = corpus
        .examples
        .iter()
        .map(|e| {
            featurizer.hashes(&e.original, &e.text, &mut buf);
            buf.clone()
        })
        .collect();
    let mut in_train = vec![false; corpus.examples.len()];
    heads
        .iter()
        .flat_map(|h| &h.train.rows)
        .for_each(|(i, _)| in_train[*i] = true);
    let mut df: HashMap<u64, u32> = HashMap::new();
    for (h, _) in hashes.iter().zip(&in_train).filter(|(_, t)| **t) {
        let mut unique = h.clone();
        unique.sort_unstable();
        unique.dedup();
        for u in unique {
            *df.entry(u).or_default() += 1;
        }
    }
    let mut ranked: Vec<(u64, u32)> = df.into_iter().filter(|(_, n)| *n >= 2).collect();
    ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(size);
    (hashes, ranked.into_iter().map(|(h, _)| h).collect())
}

/// The dense design matrix of some examples: text features at their vocabulary rows, then the
/// dense features; the same values serving computes.
fn design(
    rows: &[(usize, usize)],
    corpus: &Corpus,
    hashes: &[Vec<u64>],
    index: &HashMap<u64, usize>,
) -> Array2<Real> {
    let width = index.len() + DENSE.len();
    let mut x = Array2::<Real>::zeros((rows.len(), width));
    for (r, (i, _)) in rows.iter().enumerate() {
        let weight = features::text_weight(hashes[*i].len());
        let mut row = x.row_mut(r);
        for h in &hashes[*i] {
            if let Some(&j) = index.get(h) {
                row[j] += Real::from(weight);
            }
        }
        for (k, v) in corpus.examples[*i].dense.iter().enumerate() {
            row[index.len() + k] = Real::from(*v);
        }
    }
    x
}

fn train_language(
    options: &Options,
    start: Instant,
    language: &str,
    featurizer: &Featurizer,
    corpus: &Corpus,
    heads: Vec<HeadData>,
) -> anyhow::Result<(LanguageModel, Vec<HeadEntry>)> {
    let (hashes, vocabulary) = vocabulary(featurizer, corpus, &heads, options.vocabulary);
    let index: HashMap<u64, usize> = vocabulary
        .iter()
        .enumerate()
        .map(|(i, h)| (*h, i))
        .collect();
    progress(
        start,
        &format!("{language}: vocabulary of {} features", vocabulary.len()),
    );
    let mut model = LanguageModel {
        language: language.to_string(),
        vocabulary,
        heads: Vec::new(),
    };
    let mut entries = Vec::new();
    for h in heads {
        anyhow::ensure!(
            !h.train.rows.is_empty() && !h.dev.rows.is_empty(),
            "{language} {}: no training or development rows",
            h.target.as_str()
        );
        progress(
            start,
            &format!(
                "{language} {}: fitting on {} rows",
                h.target.as_str(),
                h.train.rows.len()
            ),
        );
        let x = design(&h.train.rows, corpus, &hashes, &index);
        let y: Vec<usize> = h.train.rows.iter().map(|(_, y)| *y).collect();
        let (weights, intercept) = fit(x, &y, h.target, options.max_iterations)
            .with_context(|| format!("{language} {}", h.target.as_str()))?;
        let raw = Head {
            target: h.target,
            weights,
            intercept,
            calibration: identity(h.target),
        };
        let (calibration, metrics) = calibrate(&raw, &model, &h.dev.rows, corpus, &hashes)
            .with_context(|| format!("{language} {}: calibration", h.target.as_str()))?;
        progress(
            start,
            &format!(
                "{language} {}: dev {}",
                h.target.as_str(),
                metrics
                    .iter()
                    .map(|(k, v)| format!("{k} {v:.3}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        entries.push(HeadEntry {
            language: language.to_string(),
            target: h.target,
            train: h.train.sources,
            train_rows: h.train.rows.len(),
            dev: h.dev.sources.join(", "),
            dev_rows: h.dev.rows.len(),
            dev_metrics: metrics,
        });
        model.heads.push(Head { calibration, ..raw });
    }
    Ok((model, entries))
}

/// The number type of training: summed losses over tens of thousands of rows need more than
/// `f32` to keep L-BFGS's line search going.
type Real = f64;

/// Fits one head with linfa's multinomial logistic regression (two classes for a yes/no head);
/// returns its weights (rows × outputs, row-major) and intercepts. A yes/no head keeps one
/// output, the difference of its two classes' logits.
fn fit(
    x: Array2<Real>,
    y: &[usize],
    target: Target,
    iterations: u64,
) -> anyhow::Result<(Vec<f32>, Vec<f32>)> {
    let classes = if target == Target::Sentiment { 3 } else { 2 };
    let fitted = MultiLogisticRegression::default()
        .alpha(1.0)
        .max_iterations(iterations)
        .fit(&Dataset::new(x, Array1::from(y.to_vec())))?;
    anyhow::ensure!(
        fitted.classes().len() == classes,
        "every class needs training rows; found only {:?}",
        fitted.classes()
    );
    let (w, b) = (fitted.params(), fitted.intercept());
    Ok(match classes {
        3 => (
            w.iter().map(|v| *v as f32).collect(),
            b.iter().map(|v| *v as f32).collect(),
        ),
        _ => (
            w.rows().into_iter().map(|r| (r[1] - r[0]) as f32).collect(),
            vec![(b[1] - b[0]) as f32],
        ),
    })
}

fn identity(target: Target) -> Calibration {
    let width = if target == Target::Sentiment { 3 } else { 1 };
    Calibration {
        weights: (0..width * width)
            .map(|i| if i % (width + 1) == 0 { 1.0 } else { 0.0 })
            .collect(),
        intercept: vec![0.0; width],
    }
}

/// Fits the head's calibration on its development rows, through the serving code, and measures
/// the calibrated head there. Binary heads get Platt scaling; sentiment gets matrix scaling on
/// class-balanced rows, so its most likely class is the balanced decision.
fn calibrate(
    raw: &Head,
    model: &LanguageModel,
    dev: &[(usize, usize)],
    corpus: &Corpus,
    hashes: &[Vec<u64>],
) -> anyhow::Result<(Calibration, Vec<(String, f64)>)> {
    let single = |head: &Head| -> anyhow::Result<Linear> {
        Linear::new(LanguageModel {
            language: model.language.clone(),
            vocabulary: model.vocabulary.clone(),
            heads: vec![head.clone()],
        })
        .map_err(|e| anyhow::anyhow!(e))
    };
    let predict = |linear: &Linear, i: usize| -> Prediction {
        let e = &corpus.examples[i];
        let weight = features::text_weight(hashes[i].len());
        linear.predict(&hashes[i], weight, &e.dense)[0].1
    };
    let linear = single(raw)?;
    let width = raw.intercept.len();
    let mut x = Array2::<f32>::zeros((0, width));
    let mut y = Vec::new();
    let counts: Vec<usize> = (0..width.max(2))
        .map(|c| dev.iter().filter(|(_, y)| *y == c).count())
        .collect();
    for (i, label) in dev {
        let logits: Vec<f32> = match predict(&linear, *i) {
            Prediction::Probability(p) => vec![(p / (1.0 - p)).ln().clamp(-30.0, 30.0)],
            Prediction::Classes(p) => p.iter().map(|p| p.max(1e-9).ln()).collect(),
        };
        // Sentiment: each class repeated up to the largest class's count.
        let copies = if width == 3 {
            (counts.iter().max().copied().unwrap_or(1) as f64 / counts[*label].max(1) as f64)
                .round() as usize
        } else {
            1
        };
        for _ in 0..copies {
            x.push_row(ndarray::ArrayView1::from(&logits))?;
            y.push(*label);
        }
    }
    let calibration = if width == 3 {
        let fitted = MultiLogisticRegression::default()
            .alpha(1e-3)
            .fit(&Dataset::new(x, Array1::from(y)))?;
        Calibration {
            weights: fitted.params().iter().copied().collect(),
            intercept: fitted.intercept().to_vec(),
        }
    } else {
        let fitted = LogisticRegression::default()
            .alpha(1e-3)
            .fit(&Dataset::new(
                x,
                y.iter().map(|&c| c == 1).collect::<Array1<bool>>(),
            ))?;
        let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
        Calibration {
            weights: vec![sign * fitted.params()[0]],
            intercept: vec![sign * fitted.intercept()],
        }
    };
    let calibrated = single(&Head {
        calibration: calibration.clone(),
        ..raw.clone()
    })?;
    let metrics = match raw.target {
        Target::Sentiment => {
            let pairs: Vec<(usize, usize)> = dev
                .iter()
                .map(|(i, label)| match predict(&calibrated, *i) {
                    Prediction::Classes(p) => (
                        (0..3).fold(0, |b, k| if p[k] > p[b] { k } else { b }),
                        *label,
                    ),
                    Prediction::Probability(_) => (1, *label),
                })
                .collect();
            let c = eval::classes(&pairs, 3);
            vec![
                ("macro_recall".into(), c.macro_recall),
                ("macro_f1".into(), c.macro_f1),
                ("accuracy".into(), c.accuracy),
            ]
        }
        _ => {
            let pairs: Vec<(f32, bool)> = dev
                .iter()
                .map(|(i, label)| match predict(&calibrated, *i) {
                    Prediction::Probability(p) => (p, *label == 1),
                    Prediction::Classes(_) => (0.0, *label == 1),
                })
                .collect();
            let b = eval::binary(&pairs);
            vec![
                ("roc_auc".into(), b.roc_auc),
                ("precision".into(), b.precision),
                ("recall".into(), b.recall),
                ("macro_f1".into(), b.macro_f1),
            ]
        }
    };
    Ok((calibration, metrics))
}
