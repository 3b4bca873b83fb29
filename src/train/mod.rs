//! `seula train`: the shipped models, from labelled JSON Lines to `models/`.
//!
//! In order: read the data (fixed file order, rows in file order) and put each row in its part:
//! training rows, a file's development rows (`*.dev.jsonl`, looked at once, at the end) or a
//! held-out fifth kept from files without a development split; normalize and score every text
//! with the lexicons and the rule scorer (their scores become dense features); load the subword
//! tokenizer (or train it when there is none yet) and rebuild the subword vectors from the floret
//! wheel; pick each language's vocabulary (the feature hashes found in the most training texts);
//! then, for every head, choose the regularisation by k-fold cross-validation on the training
//! rows, calibrate on the out-of-fold predictions, fit on all training rows, and measure the
//! served score on the folds, the development rows and the held-out rows, file by file. Writes
//! the models, the tokenizer, the vectors and `manifest.json`. Nothing here is random, so the
//! same data gives the same bytes.

pub mod solver;
pub mod vectors;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use chrono::DateTime;
use half::f16;
use serde_json::Value;
use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainerBuilder};
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;
use tokenizers::{
    AddedToken, DecoderWrapper, NormalizerWrapper, PostProcessorWrapper, PreTokenizerWrapper,
    Tokenizer, TokenizerBuilder,
};
use xxhash_rust::xxh3::xxh3_64;

use self::solver::{Fitted, Problem, Rows};
use crate::domain::{Comment, Language};
use crate::eval;
use crate::features::{self, Featurizer};
use crate::normalize::{NormalizedText, normalize};
use crate::scoring::learned::{
    DataEntry, FileEntry, HeadEntry, MANIFEST, Manifest, Measure, TOKENIZER, VECTORS, model_file,
    sha256_hex,
};
use crate::scoring::linear::{Calibration, Head, LanguageModel, Target, sigmoid};
use crate::scoring::rules::RuleScorer;
use crate::scoring::{Assessment, Scorer};
use crate::signals::intents::Intent;
use crate::signals::{self, Lexicons, Signals};

/// What `seula train` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub data: PathBuf,
    /// The project's own labelled Finnish comments (customer-service and forum style).
    pub own: PathBuf,
    /// The project's labelled Suomi24 sentences (`training/data/toxicity_fi_s24.jsonl`).
    pub forum: PathBuf,
    /// The project's labelled intent set (`training/data/intents.jsonl`).
    pub intents: PathBuf,
    /// Moderators' decisions from `seula export-labels`, added as training rows.
    pub labels: Option<PathBuf>,
    /// How much each row of `labels` counts against one row of the public data.
    pub labels_weight: f64,
    /// The `spacy-fi-experimental-web-md` wheel whose floret table becomes the subword vectors.
    pub floret_wheel: PathBuf,
    /// Dimensions of the subword vectors kept.
    pub vector_dims: usize,
    /// The subword tokenizer: used as it is when the file exists, else trained and written there.
    /// tokenizers' trainer breaks ties in hash-map order, so a new one differs run to run; keeping
    /// it makes training reproducible.
    pub tokenizer: PathBuf,
    pub out: PathBuf,
    pub vocabulary: usize,
    pub tokenizer_vocabulary: usize,
    /// Folds of the cross-validation that chooses, calibrates and measures every head.
    pub folds: usize,
    /// The regularisation strengths (LIBLINEAR's `C`) cross-validation chooses from.
    pub c_grid: Vec<f64>,
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

/// Which part of the data a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Fitted on, and measured by cross-validation.
    Train,
    /// A file's development split: measured once, never chosen on.
    Dev,
    /// The held-out fifth of a file without a development split: measured once.
    Held,
}

impl Part {
    fn as_str(self) -> &'static str {
        match self {
            Part::Train => "cross-validation",
            Part::Dev => "dev",
            Part::Held => "held-out",
        }
    }
}

/// A fifth of the rows, by the hash of a key (an id, else the text), is held out.
fn held_out(key: &str) -> bool {
    xxh3_64(key.as_bytes()).is_multiple_of(5)
}

fn key(row: &Value) -> &str {
    row["id"]
        .as_str()
        .unwrap_or_else(|| row["text"].as_str().unwrap_or_default())
}

fn flag(row: &Value, field: &str) -> Option<bool> {
    row[field].as_bool()
}

/// A text ready for features: normalized, with its signals and rule scores.
struct Example {
    original: String,
    text: NormalizedText,
    signals: Signals,
    rules: Assessment,
}

/// One labelled row of a head.
struct Labelled {
    example: usize,
    label: usize,
    weight: f64,
    part: Part,
    source: usize,
}

struct HeadData {
    target: Target,
    rows: Vec<Labelled>,
}

/// Everything one language's model learns from: its texts (each once) and its heads' rows.
struct LanguageData {
    name: &'static str,
    language: Language,
    /// Whether the model reads the pooled subword vectors (cross-validation: they help the
    /// Finnish heads and not the English ones, README, Learned models).
    vectors: bool,
    examples: Vec<Example>,
    by_text: HashMap<String, usize>,
    heads: Vec<HeadData>,
    sources: Vec<String>,
}

impl LanguageData {
    fn new(name: &'static str, language: Language, vectors: bool) -> Self {
        Self {
            name,
            language,
            vectors,
            examples: Vec::new(),
            by_text: HashMap::new(),
            heads: Vec::new(),
            sources: Vec::new(),
        }
    }

    fn example(&mut self, lexicons: &Lexicons, text: &str) -> usize {
        if let Some(&i) = self.by_text.get(text) {
            return i;
        }
        let mut comment = Comment::new("train", text);
        comment.language = Some(self.language);
        let normalized = normalize(text);
        let signals = signals::extract(lexicons, &comment, &normalized, DateTime::UNIX_EPOCH);
        let rules = RuleScorer.score(text, &normalized, &signals);
        self.examples.push(Example {
            original: text.to_string(),
            text: normalized,
            signals,
            rules,
        });
        self.by_text
            .insert(text.to_string(), self.examples.len() - 1);
        self.examples.len() - 1
    }

    /// Adds a file's rows that `label` labels to the head of `target`, each in the part
    /// `part` gives, counting `weight`.
    fn add(
        &mut self,
        lexicons: &Lexicons,
        target: Target,
        file: &File,
        part: impl Fn(&Value) -> Part,
        label: impl Fn(&Value) -> Option<usize>,
        weight: f64,
    ) {
        let source = match self.sources.iter().position(|s| *s == file.name) {
            Some(i) => i,
            None => {
                self.sources.push(file.name.clone());
                self.sources.len() - 1
            }
        };
        let head = match self.heads.iter().position(|h| h.target == target) {
            Some(i) => i,
            None => {
                self.heads.push(HeadData {
                    target,
                    rows: Vec::new(),
                });
                self.heads.len() - 1
            }
        };
        for row in &file.rows {
            if let Some(y) = label(row) {
                let example = self.example(lexicons, row["text"].as_str().unwrap_or_default());
                self.heads[head].rows.push(Labelled {
                    example,
                    label: y,
                    weight,
                    part: part(row),
                    source,
                });
            }
        }
    }
}

fn progress(start: Instant, message: &str) {
    eprintln!("[{:>6.1} s] {message}", start.elapsed().as_secs_f64());
}

/// The intents with a learned head: those with at least 25 positives among each language's
/// training rows of the intent set (the rest have 2–14 and keep their cues alone).
const INTENT_HEADS: [Intent; 3] = [Intent::Question, Intent::ProblemReport, Intent::Complaint];

/// The toxicity family as the Jigsaw files and Seula's own files name them.
const TOXICITY: [Target; 6] = [
    Target::Toxicity,
    Target::SevereToxicity,
    Target::Insult,
    Target::Threat,
    Target::IdentityAttack,
    Target::Profanity,
];

pub fn train(options: &Options) -> anyhow::Result<Manifest> {
    let start = Instant::now();
    anyhow::ensure!(
        options.folds >= 2 && !options.c_grid.is_empty(),
        "cross-validation needs at least 2 folds and one value of C"
    );
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
        file("toxicity_en_jigsaw.jsonl")?,
        file("sentiment_fi.train.jsonl")?,
        file("sentiment_fi.dev.jsonl")?,
        file("toxicity_fi_mt.train.jsonl")?,
        read(&options.forum, options.limit)?,
        read(&options.own, options.limit)?,
        read(&options.intents, options.limit)?,
    ];
    let labels = match &options.labels {
        Some(path) => Some(read(path, options.limit)?),
        None => None,
    };
    let [
        sent_en,
        sent_en_dev,
        off,
        off_dev,
        hate,
        hate_dev,
        complaints,
        jigsaw,
        sent_fi,
        sent_fi_dev,
        mt,
        forum,
        own,
        intents,
    ] = &files;
    progress(
        start,
        &format!(
            "read {} rows from {} files",
            files
                .iter()
                .chain(&labels)
                .map(|f| f.rows.len())
                .sum::<usize>(),
            files.len() + usize::from(labels.is_some())
        ),
    );

    let train = |_: &Value| Part::Train;
    let dev = |_: &Value| Part::Dev;
    let split = |row: &Value| match held_out(key(row)) {
        true => Part::Held,
        false => Part::Train,
    };
    let sentiment = |r: &Value| r["label"].as_str().and_then(eval::sentiment_class);
    let yes = |field: &'static str| move |r: &Value| flag(r, field).map(usize::from);

    // English: sentiment (SemEval, TweetEval dev), offensive (OLID), hate (HatEval), the
    // Jigsaw family, complaints.
    let mut en = LanguageData::new("en", Language::En, false);
    en.add(&lexicons, Target::Sentiment, sent_en, train, sentiment, 1.0);
    en.add(
        &lexicons,
        Target::Sentiment,
        sent_en_dev,
        dev,
        sentiment,
        1.0,
    );
    en.add(
        &lexicons,
        Target::Toxicity,
        off,
        train,
        yes("offensive"),
        1.0,
    );
    en.add(
        &lexicons,
        Target::Toxicity,
        off_dev,
        dev,
        yes("offensive"),
        1.0,
    );
    en.add(
        &lexicons,
        Target::IdentityAttack,
        hate,
        train,
        yes("hate"),
        1.0,
    );
    en.add(
        &lexicons,
        Target::IdentityAttack,
        hate_dev,
        dev,
        yes("hate"),
        1.0,
    );
    for target in TOXICITY {
        en.add(&lexicons, target, jigsaw, split, yes(target.as_str()), 1.0);
    }
    en.add(
        &lexicons,
        Target::Urgency,
        complaints,
        split,
        yes("complaint"),
        1.0,
    );
    // Intents from the project's intent set, each language its own rows (their own split);
    // complaints also from X-CI, leaving out the tweets the intent set holds.
    let labelled_split = |r: &Value| match r["split"].as_str() {
        Some("test") => Part::Held,
        _ => Part::Train,
    };
    let intent_of = |language: &'static str, intent: Intent| {
        move |r: &Value| {
            (r["language"].as_str() == Some(language)).then(|| {
                let listed = r["intents"].as_array().into_iter().flatten();
                usize::from(
                    listed
                        .filter_map(Value::as_str)
                        .any(|i| i == intent.as_str()),
                )
            })
        }
    };
    let in_intent_set: HashSet<&str> = intents
        .rows
        .iter()
        .filter_map(|r| r["text"].as_str())
        .collect();
    let add_intents = |data: &mut LanguageData| {
        for intent in INTENT_HEADS {
            let label = intent_of(data.name, intent);
            let target = Target::Intent(intent);
            data.add(&lexicons, target, intents, labelled_split, label, 1.0);
        }
    };
    add_intents(&mut en);
    en.add(
        &lexicons,
        Target::Intent(Intent::Complaint),
        complaints,
        split,
        |r| {
            let text = r["text"].as_str().unwrap_or_default();
            (!in_intent_set.contains(text))
                .then(|| flag(r, "complaint").map(usize::from))
                .flatten()
        },
        1.0,
    );
    progress(
        start,
        &format!("English: {} texts scored by the rules", en.examples.len()),
    );

    // Finnish: sentiment (FinnSentiment and the own set); the toxicity family from the labelled
    // Suomi24 sentences (their own split), the own set and the translated Jigsaw rows; urgency
    // from the own set. The own set's customer-service comments count twice: they are the
    // product's own kind of text.
    let mut fi = LanguageData::new("fi", Language::Fi, true);
    let forum_part = |r: &Value| match r["split"].as_str() {
        Some("test") => Part::Held,
        _ => Part::Train,
    };
    fi.add(&lexicons, Target::Sentiment, sent_fi, train, sentiment, 1.0);
    fi.add(
        &lexicons,
        Target::Sentiment,
        sent_fi_dev,
        dev,
        sentiment,
        1.0,
    );
    fi.add(&lexicons, Target::Sentiment, own, split, sentiment, 2.0);
    for target in TOXICITY {
        fi.add(
            &lexicons,
            target,
            forum,
            forum_part,
            yes(target.as_str()),
            1.0,
        );
        fi.add(&lexicons, target, own, split, yes(target.as_str()), 2.0);
        fi.add(&lexicons, target, mt, split, yes(target.as_str()), 1.0);
    }
    fi.add(&lexicons, Target::Urgency, own, split, yes("urgency"), 2.0);
    add_intents(&mut fi);
    progress(
        start,
        &format!("Finnish: {} texts scored by the rules", fi.examples.len()),
    );

    // Moderators' decisions: every label a decision carries, in the language it was scored in.
    if let Some(labels) = &labels {
        for data in [&mut fi, &mut en] {
            let name = data.name;
            let of = |r: &Value| r["language"].as_str() == Some(name);
            data.add(
                &lexicons,
                Target::Sentiment,
                labels,
                train,
                |r| of(r).then(|| sentiment(r)).flatten(),
                options.labels_weight,
            );
            for target in TOXICITY.into_iter().chain([Target::Urgency]) {
                let label = yes(target.as_str());
                data.add(
                    &lexicons,
                    target,
                    labels,
                    train,
                    |r| of(r).then(|| label(r)).flatten(),
                    options.labels_weight,
                );
            }
        }
    }

    let kept = options.tokenizer.exists();
    let tokenizer = if kept {
        Tokenizer::from_file(&options.tokenizer)
            .map_err(|e| anyhow::anyhow!("{}: {e}", options.tokenizer.display()))?
    } else {
        train_tokenizer(options, [&en, &fi])?
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
    let wheel = std::fs::read(&options.floret_wheel)
        .with_context(|| format!("reading {}", options.floret_wheel.display()))?;
    let vectors = vectors::from_wheel(&options.floret_wheel, options.vector_dims)?;
    let vectors_bytes = postcard::to_stdvec(&vectors)?;
    progress(
        start,
        &format!(
            "subword vectors: {} rows of {} dimensions from {}",
            vectors.scales.len(),
            vectors.dims,
            options.floret_wheel.display()
        ),
    );
    let featurizer = Featurizer::new(tokenizer, vectors);

    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("creating {}", options.out.display()))?;
    let mut written = Vec::new();
    let mut head_entries = Vec::new();
    for data in [&fi, &en] {
        let (model, entries) = train_language(options, start, &featurizer, data)?;
        head_entries.extend(entries);
        written.push((model_file(data.name), postcard::to_stdvec(&model)?));
    }
    written.push((TOKENIZER.to_string(), tokenizer_json.into_bytes()));
    written.push((VECTORS.to_string(), vectors_bytes));

    let files_entries: Vec<FileEntry> = written
        .iter()
        .map(|(name, bytes)| FileEntry {
            name: name.clone(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        })
        .collect();
    let fingerprint: String = files_entries.iter().map(|f| f.sha256.as_str()).collect();
    let wheel_name = options
        .floret_wheel
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let manifest = Manifest {
        version: format!("linear-{}", &sha256_hex(fingerprint.as_bytes())[..12]),
        feature_schema: features::SCHEMA,
        command: command_line(options),
        files: files_entries,
        data: files
            .iter()
            .chain(&labels)
            .map(|f| DataEntry {
                file: f.name.clone(),
                rows: f.rows.len(),
                sha256: f.sha256.clone(),
            })
            .chain([DataEntry {
                file: wheel_name,
                rows: featurizer.vector_rows(),
                sha256: sha256_hex(&wheel),
            }])
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
        "seula train --data {} --own {} --forum {} --floret-wheel {} --vector-dims {} --tokenizer {} --out {} --vocabulary {} --tokenizer-vocabulary {} --folds {} --c-grid {} --max-iterations {}",
        o.data.display(),
        o.own.display(),
        o.forum.display(),
        o.floret_wheel.display(),
        o.vector_dims,
        o.tokenizer.display(),
        o.out.display(),
        o.vocabulary,
        o.tokenizer_vocabulary,
        o.folds,
        o.c_grid
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(","),
        o.max_iterations
    );
    if let Some(labels) = &o.labels {
        cmd += &format!(
            " --labels {} --labels-weight {}",
            labels.display(),
            o.labels_weight
        );
    }
    if let Some(limit) = o.limit {
        cmd += &format!(" --limit {limit}");
    }
    cmd
}

/// A WordPiece tokenizer over the folded words of every training text, both languages.
fn train_tokenizer(options: &Options, languages: [&LanguageData; 2]) -> anyhow::Result<Tokenizer> {
    let mut lines: Vec<String> = Vec::new();
    for data in languages {
        let mut seen = vec![false; data.examples.len()];
        for row in data.heads.iter().flat_map(|h| &h.rows) {
            if row.part == Part::Train && !std::mem::replace(&mut seen[row.example], true) {
                let words: Vec<&str> = data.examples[row.example]
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

/// The vocabulary: the `size` feature hashes found in the most training texts (at least two),
/// ties broken by the hash, each with its inverse document frequency over those texts.
fn vocabulary(data: &LanguageData, hashes: &[Vec<u64>], size: usize) -> (Vec<u64>, Vec<f32>) {
    let mut in_train = vec![false; data.examples.len()];
    // The intent set's few hundred texts take no part: the intent heads read the vocabulary the
    // other heads' data chose, and those heads stay as they were without it.
    data.heads
        .iter()
        .filter(|h| !matches!(h.target, Target::Intent(_)))
        .flat_map(|h| &h.rows)
        .filter(|r| r.part == Part::Train)
        .for_each(|r| in_train[r.example] = true);
    let texts = in_train.iter().filter(|t| **t).count();
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
    ranked
        .into_iter()
        .map(|(h, n)| (h, features::idf(n, texts)))
        .unzip()
}

/// Every example as a sparse row: text features at their vocabulary columns (weighed as
/// serving weighs them), then the dense features; the same values serving computes.
fn design(
    featurizer: &Featurizer,
    data: &LanguageData,
    (vocabulary, idf): (&[u64], &[f32]),
    hashes: &[Vec<u64>],
) -> Rows {
    let index: HashMap<u64, u32> = vocabulary
        .iter()
        .enumerate()
        .map(|(i, h)| (*h, i as u32))
        .collect();
    let mut rows = Rows::new(vocabulary.len() + featurizer.dense_width(data.vectors));
    let (mut dense, mut columns, mut text) = (Vec::new(), Vec::new(), Vec::new());
    for (e, h) in data.examples.iter().zip(hashes) {
        columns.clear();
        columns.extend(h.iter().filter_map(|h| index.get(h).copied()));
        features::weigh(&mut columns, idf, &mut text);
        featurizer.dense((&e.text, &e.signals, &e.rules), data.vectors, &mut dense);
        let offset = vocabulary.len() as u32;
        rows.push(
            text.iter().copied().chain(
                dense
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v != 0.0)
                    .map(|(k, v)| (offset + k as u32, *v)),
            ),
        );
    }
    rows
}

fn train_language(
    options: &Options,
    start: Instant,
    featurizer: &Featurizer,
    data: &LanguageData,
) -> anyhow::Result<(LanguageModel, Vec<HeadEntry>)> {
    let mut buf = Vec::new();
    let hashes: Vec<Vec<u64>> = data
        .examples
        .iter()
        .map(|e| {
            featurizer.hashes(&e.original, &e.text, &mut buf);
            buf.clone()
        })
        .collect();
    let (vocabulary, idf) = vocabulary(data, &hashes, options.vocabulary);
    let rows = design(featurizer, data, (&vocabulary, &idf), &hashes);
    progress(
        start,
        &format!(
            "{}: vocabulary of {} features, {} dense",
            data.name,
            vocabulary.len(),
            featurizer.dense_width(data.vectors)
        ),
    );
    let mut model = LanguageModel {
        language: data.name.to_string(),
        vocabulary,
        idf: idf.iter().map(|v| f16::from_f32(*v)).collect(),
        vectors: data.vectors,
        dense: featurizer.dense_width(data.vectors),
        heads: Vec::new(),
    };
    let mut entries = Vec::new();
    for head in &data.heads {
        let fitted = fit_head(options, data, head, &rows)
            .with_context(|| format!("{} {}", data.name, head.target.as_str()))?;
        progress(
            start,
            &format!(
                "{} {}: C {}, {}",
                data.name,
                head.target.as_str(),
                fitted.entry.c,
                fitted
                    .entry
                    .measures
                    .first()
                    .map(Measure::summary)
                    .unwrap_or_default()
            ),
        );
        model.heads.push(fitted.head);
        entries.push(fitted.entry);
    }
    Ok((model, entries))
}

struct FittedHead {
    head: Head,
    entry: HeadEntry,
}

fn classes(target: Target) -> usize {
    if target == Target::Sentiment { 3 } else { 2 }
}

/// The subset of rows at these indices, in their order.
fn select(rows: &Rows, examples: impl Iterator<Item = usize>) -> Rows {
    let mut out = Rows::new(rows.width());
    for e in examples {
        out.push(rows.row(e).iter().copied());
    }
    out
}

fn fit_rows(
    rows: &Rows,
    labelled: &[&Labelled],
    target: Target,
    c: f64,
    iterations: u64,
) -> anyhow::Result<Fitted> {
    let x = select(rows, labelled.iter().map(|l| l.example));
    let labels: Vec<usize> = labelled.iter().map(|l| l.label).collect();
    let weights = balanced(labelled, classes(target));
    solver::fit(
        Problem {
            rows: &x,
            labels: &labels,
            weights: &weights,
            classes: classes(target),
            c,
        },
        iterations,
    )
}

/// Fits every training row but those of one fold (`None`: every training row), two fits at a
/// time on the two cores; the fits in the order asked.
fn fit_folds(
    options: &Options,
    rows: &Rows,
    train: &[&Labelled],
    fold_of: &[usize],
    folds: &[Option<usize>],
    (target, c): (Target, f64),
) -> anyhow::Result<Vec<Fitted>> {
    let mut out = Vec::with_capacity(folds.len());
    for pair in folds.chunks(2) {
        let fitted: Vec<anyhow::Result<Fitted>> = std::thread::scope(|s| {
            let handles: Vec<_> = pair
                .iter()
                .map(|&left_out| {
                    let inside: Vec<&Labelled> = train
                        .iter()
                        .zip(fold_of)
                        .filter(|(_, k)| Some(**k) != left_out)
                        .map(|(l, _)| *l)
                        .collect();
                    s.spawn(move || fit_rows(rows, &inside, target, c, options.max_iterations))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a fit panicked")))
                })
                .collect()
        });
        for model in fitted {
            out.push(model?);
        }
    }
    Ok(out)
}

/// Each row's weight times its class's balancing factor, so every class weighs as much in the
/// loss as an equal share of all rows (scikit-learn's `class_weight="balanced"`): rare yeses
/// shape the model as much as the common noes, and calibration sets the boundary afterwards.
fn balanced(labelled: &[&Labelled], classes: usize) -> Vec<f64> {
    let mut totals = vec![0.0f64; classes];
    labelled.iter().for_each(|l| totals[l.label] += l.weight);
    let all: f64 = totals.iter().sum();
    labelled
        .iter()
        .map(|l| l.weight * all / (classes as f64 * totals[l.label].max(1e-9)))
        .collect()
}

/// Out-of-fold raw outputs for the training rows, `folds` folds by the hash of the text (so a
/// text never sits on both sides), and, when `with_final`, the fit on every training row,
/// made beside the last fold.
fn cross_validate(
    options: &Options,
    data: &LanguageData,
    rows: &Rows,
    train: &[&Labelled],
    model: (Target, f64),
    with_final: bool,
) -> anyhow::Result<(Vec<Vec<f64>>, Option<Fitted>)> {
    let fold_of: Vec<usize> = train
        .iter()
        .map(|l| {
            (xxh3_64(data.examples[l.example].original.as_bytes()) % options.folds as u64) as usize
        })
        .collect();
    let mut fits: Vec<Option<usize>> = (0..options.folds).map(Some).collect();
    if with_final {
        fits.push(None);
    }
    let mut fitted = fit_folds(options, rows, train, &fold_of, &fits, model)?;
    let last = if with_final { fitted.pop() } else { None };
    let out = train
        .iter()
        .zip(&fold_of)
        .map(|(l, &f)| fitted[f].logits(rows.row(l.example)))
        .collect();
    Ok((out, last))
}

/// Raw outputs to the served score of a binary head: its calibrated probability, never below
/// the rule score.
fn served(calibration: &Calibration, logit: f64, rule: f32) -> f32 {
    let z = calibration.weights[0] * logit as f32 + calibration.intercept[0];
    sigmoid(z).max(rule)
}

fn rule_score(example: &Example, target: Target) -> f32 {
    match target {
        Target::Intent(intent) => example.rules.intents.get(intent),
        _ => example.rules.scores.get(target.as_str()).unwrap_or(0.0),
    }
}

/// Platt scaling of out-of-fold logits, then the shift that puts the served score's yes/no
/// boundary (0.5) where it gives the best F1 on the head's first source.
fn calibrate_binary(
    data: &LanguageData,
    train: &[&Labelled],
    logits: &[Vec<f64>],
    target: Target,
) -> anyhow::Result<(Calibration, f64)> {
    let mut x = Rows::new(1);
    logits.iter().for_each(|z| x.push([(0, z[0] as f32)]));
    let labels: Vec<usize> = train.iter().map(|l| l.label).collect();
    let weights: Vec<f64> = train.iter().map(|l| l.weight).collect();
    let platt = solver::fit(
        Problem {
            rows: &x,
            labels: &labels,
            weights: &weights,
            classes: 2,
            c: 1e3,
        },
        100,
    )?;
    let (a, b) = (platt.weights[0] as f32, platt.intercept[0] as f32);
    let primary: Vec<(f64, f32, bool)> = train
        .iter()
        .zip(logits)
        .filter(|(l, _)| l.source == train[0].source)
        .map(|(l, z)| {
            (
                z[0],
                rule_score(&data.examples[l.example], target),
                l.label == 1,
            )
        })
        .collect();
    let (mut best, mut best_f1) = (0.0f32, -1.0);
    for step in -80..=80 {
        let shift = step as f32 * 0.05;
        let calibration = Calibration {
            weights: vec![a],
            intercept: vec![b - shift],
        };
        let pairs: Vec<(f32, bool)> = primary
            .iter()
            .map(|&(z, rule, y)| (served(&calibration, z, rule), y))
            .collect();
        let f1 = eval::binary(&pairs).f1;
        // Ties go to the shift nearest zero, the plain Platt boundary.
        if f1 > best_f1 + 1e-12 || ((f1 - best_f1).abs() <= 1e-12 && shift.abs() < best.abs()) {
            (best, best_f1) = (shift, f1);
        }
    }
    Ok((
        Calibration {
            weights: vec![a],
            intercept: vec![b - best],
        },
        best_f1,
    ))
}

/// Matrix scaling of out-of-fold log-probabilities, each class weighted by the inverse of its
/// share, so the most likely class is the balanced decision (macro-recall).
fn calibrate_sentiment(train: &[&Labelled], logits: &[Vec<f64>]) -> anyhow::Result<Calibration> {
    let mut x = Rows::new(3);
    for z in logits {
        let p = log_softmax(z);
        x.push((0..3).map(|k| (k as u32, p[k] as f32)));
    }
    let labels: Vec<usize> = train.iter().map(|l| l.label).collect();
    let weights = balanced(train, 3);
    let fitted = solver::fit(
        Problem {
            rows: &x,
            labels: &labels,
            weights: &weights,
            classes: 3,
            c: 1e3,
        },
        200,
    )?;
    Ok(Calibration {
        weights: fitted.weights.iter().map(|w| *w as f32).collect(),
        intercept: fitted.intercept.iter().map(|w| *w as f32).collect(),
    })
}

fn log_softmax(z: &[f64]) -> [f64; 3] {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
    [0, 1, 2].map(|k| z[k] - max - sum.ln())
}

/// The predicted sentiment class under a calibration.
fn sentiment_class(calibration: &Calibration, logits: &[f64]) -> usize {
    let p = log_softmax(logits);
    let out: Vec<f32> = (0..3)
        .map(|o| {
            calibration.intercept[o]
                + (0..3)
                    .map(|i| p[i] as f32 * calibration.weights[i * 3 + o])
                    .sum::<f32>()
        })
        .collect();
    (0..3).fold(0, |best, k| if out[k] > out[best] { k } else { best })
}

/// The metrics of predictions (raw outputs) of some rows, one measure per source, the sources
/// in the head's order. A binary head's measures are of its served score; `f1_model` is the
/// F1 of the model's calibrated output alone, without the rule score under it.
fn measures(
    data: &LanguageData,
    target: Target,
    calibration: &Calibration,
    part: Part,
    rows: &[(&Labelled, Vec<f64>)],
    sources: &[usize],
) -> Vec<Measure> {
    let mut out = Vec::new();
    for &s in sources {
        let source = &data.sources[s];
        let these: Vec<&(&Labelled, Vec<f64>)> =
            rows.iter().filter(|(l, _)| l.source == s).collect();
        if these.is_empty() {
            continue;
        }
        let metrics = if target == Target::Sentiment {
            let pairs: Vec<(usize, usize)> = these
                .iter()
                .map(|(l, z)| (sentiment_class(calibration, z), l.label))
                .collect();
            let c = eval::classes(&pairs, 3);
            vec![
                ("macro_recall".to_string(), c.macro_recall),
                ("macro_f1".to_string(), c.macro_f1),
                ("accuracy".to_string(), c.accuracy),
            ]
        } else {
            let pairs: Vec<(f32, bool)> = these
                .iter()
                .map(|(l, z)| {
                    let rule = rule_score(&data.examples[l.example], target);
                    (served(calibration, z[0], rule), l.label == 1)
                })
                .collect();
            let b = eval::binary(&pairs);
            let alone: Vec<(f32, bool)> = these
                .iter()
                .map(|(l, z)| (served(calibration, z[0], 0.0), l.label == 1))
                .collect();
            vec![
                ("f1".to_string(), b.f1),
                ("precision".to_string(), b.precision),
                ("recall".to_string(), b.recall),
                ("macro_f1".to_string(), b.macro_f1),
                ("roc_auc".to_string(), b.roc_auc),
                ("f1_model".to_string(), eval::binary(&alone).f1),
            ]
        };
        out.push(Measure {
            source: source.clone(),
            part: part.as_str().to_string(),
            rows: these.len(),
            positives: these.iter().filter(|(l, _)| l.label == 1).count(),
            metrics,
        });
    }
    out
}

/// One value of C as cross-validation found it: its score on the head's first source, the
/// out-of-fold outputs, the calibration fitted on them, and the fit on every training row when
/// it was made beside the folds.
struct Candidate {
    c: f64,
    score: f64,
    logits: Vec<Vec<f64>>,
    calibration: Calibration,
    last: Option<Fitted>,
}

/// One head: C chosen by cross-validation, calibration from the out-of-fold predictions, the
/// fit on every training row, and its measures.
fn fit_head(
    options: &Options,
    data: &LanguageData,
    head: &HeadData,
    rows: &Rows,
) -> anyhow::Result<FittedHead> {
    let target = head.target;
    let train: Vec<&Labelled> = head.rows.iter().filter(|l| l.part == Part::Train).collect();
    anyhow::ensure!(
        (0..classes(target)).all(|c| train.iter().any(|l| l.label == c)),
        "every class needs training rows"
    );
    let mut best: Option<Candidate> = None;
    // With one value of C, its final fit runs beside the last fold.
    let single = options.c_grid.len() == 1;
    for &c in &options.c_grid {
        let (logits, last) = cross_validate(options, data, rows, &train, (target, c), single)?;
        let (calibration, score) = if target == Target::Sentiment {
            let calibration = calibrate_sentiment(&train, &logits)?;
            let pairs: Vec<(usize, usize)> = train
                .iter()
                .zip(&logits)
                .filter(|(l, _)| l.source == train[0].source)
                .map(|(l, z)| (sentiment_class(&calibration, z), l.label))
                .collect();
            (calibration, eval::classes(&pairs, 3).macro_recall)
        } else {
            calibrate_binary(data, &train, &logits, target)?
        };
        if best.as_ref().is_none_or(|b| score > b.score + 1e-9) {
            best = Some(Candidate {
                c,
                score,
                logits,
                calibration,
                last,
            });
        }
    }
    let Candidate {
        c,
        logits,
        calibration,
        last,
        ..
    } = best.context("no value of C")?;
    let fitted = match last {
        Some(fitted) => fitted,
        None => fit_rows(rows, &train, target, c, options.max_iterations)?,
    };
    let mut order: Vec<usize> = Vec::new();
    for l in &head.rows {
        if !order.contains(&l.source) {
            order.push(l.source);
        }
    }
    let out_of_fold: Vec<(&Labelled, Vec<f64>)> = train.iter().copied().zip(logits).collect();
    let mut all = measures(
        data,
        target,
        &calibration,
        Part::Train,
        &out_of_fold,
        &order,
    );
    for part in [Part::Dev, Part::Held] {
        let predicted: Vec<(&Labelled, Vec<f64>)> = head
            .rows
            .iter()
            .filter(|l| l.part == part)
            .map(|l| (l, fitted.logits(rows.row(l.example))))
            .collect();
        all.extend(measures(
            data,
            target,
            &calibration,
            part,
            &predicted,
            &order,
        ));
    }
    let sources: Vec<String> = order
        .iter()
        .filter(|&&s| train.iter().any(|l| l.source == s))
        .map(|&s| data.sources[s].clone())
        .collect();
    Ok(FittedHead {
        head: Head {
            target,
            weights: fitted.weights.iter().map(|w| f16::from_f64(*w)).collect(),
            intercept: fitted.intercept.iter().map(|w| *w as f32).collect(),
            calibration,
        },
        entry: HeadEntry {
            language: data.name.to_string(),
            target,
            train: sources,
            train_rows: train.len(),
            c,
            measures: all,
        },
    })
}
