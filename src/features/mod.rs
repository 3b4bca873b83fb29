//! The feature vector the learned models read, shared by training and serving.
//!
//! A comment becomes hashed text features (words, word pairs, character 3- and 4-grams of each
//! word, subword pieces from the shipped tokenizer, emoji) and dense features (the rule scores,
//! the style and writing signals, and the mean and the maximum of its words' subword vectors,
//! [`vectors`]). Training keeps the most frequent hashes as the model's vocabulary; serving looks
//! each hash up there and ignores the rest, so a model only ever sees features it was trained
//! on. Change anything here and bump [`SCHEMA`]: the shipped models record it and refuse to load
//! under another.

pub mod vectors;

use tokenizers::{Model, Tokenizer};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use self::vectors::{Scratch, SubwordVectors};

use crate::normalize::{Boundary, NormalizedText};
use crate::scoring::{Assessment, Scores};
use crate::signals::Signals;

/// The version of this feature schema, recorded in `models/manifest.json`.
pub const SCHEMA: u32 = 2;

/// Names of the dense features from signals and rule scores, in their order after the
/// vocabulary; the pooled word vectors follow them. Nothing here reads the author's profile:
/// training rows have none, so a model that read it would learn nothing of it and guess at
/// serving (the rule `troll` and `fake_account` scores stay out for that reason).
pub const DENSE: [&str; 20] = [
    "rules.toxicity",
    "rules.severe_toxicity",
    "rules.insult",
    "rules.threat",
    "rules.identity_attack",
    "rules.profanity",
    "rules.spam",
    "rules.urgency",
    "rules.sentiment",
    "lexicon.sentiment",
    "style.shouting",
    "style.exclamations",
    "style.questions",
    "style.mark_run",
    "style.elongation",
    "text.obfuscated",
    "text.mentions",
    "text.links",
    "text.length",
    "writing.quality",
];

/// Which kind of text feature a hash stands for; the seed of its hash.
#[derive(Clone, Copy)]
enum Family {
    Word = 1,
    Pair = 2,
    Gram = 3,
    Piece = 4,
    Emoji = 5,
}

fn hash(family: Family, bytes: &[u8]) -> u64 {
    xxh3_64_with_seed(bytes, family as u64)
}

/// Turns normalized comments into features. Holds the subword tokenizer and word vectors.
pub struct Featurizer {
    tokenizer: Tokenizer,
    vectors: SubwordVectors,
}

impl Featurizer {
    pub fn new(tokenizer: Tokenizer, vectors: SubwordVectors) -> Self {
        Self { tokenizer, vectors }
    }

    /// Rows of the subword vector table.
    pub fn vector_rows(&self) -> usize {
        self.vectors.scales.len()
    }

    /// How many dense features [`Featurizer::dense`] gives, with or without the word vectors.
    pub fn dense_width(&self, vectors: bool) -> usize {
        DENSE.len() + if vectors { 2 * self.vectors.dims } else { 0 }
    }

    /// The dense features: signals and rule scores in the order of [`DENSE`], then, when
    /// `vectors`, the mean and the maximum, dimension by dimension, of the words' unit subword
    /// vectors (zeros for a text without words). `out` is cleared first.
    pub fn dense(
        &self,
        (text, signals, rules): (&NormalizedText, &Signals, &Assessment),
        vectors: bool,
        out: &mut Vec<f32>,
    ) {
        out.clear();
        out.extend(dense(text, signals, rules));
        if !vectors {
            return;
        }
        let dims = self.vectors.dims;
        let (mut mean, mut max) = (vec![0.0; dims], vec![f32::NEG_INFINITY; dims]);
        let (mut word, mut scratch, mut words) = (vec![0.0; dims], Scratch::default(), 0);
        for token in text.words() {
            word.iter_mut().for_each(|w| *w = 0.0);
            self.vectors.add_word(&token.text, &mut word, &mut scratch);
            for ((m, x), w) in mean.iter_mut().zip(&mut max).zip(&word) {
                *m += w;
                *x = x.max(*w);
            }
            words += 1;
        }
        if words == 0 {
            out.resize(self.dense_width(true), 0.0);
            return;
        }
        out.extend(mean.iter().map(|m| m / words as f32));
        out.extend(max);
    }

    /// The text's feature hashes, in text order, repeats kept; `out` is cleared first.
    pub fn hashes(&self, original: &str, text: &NormalizedText, out: &mut Vec<u64>) {
        out.clear();
        let (mut padded, mut starts) = (String::new(), Vec::new());
        let mut previous: Option<u64> = None;
        for token in &text.tokens {
            let word = if token.is_number {
                "0"
            } else {
                token.text.as_str()
            };
            let h = hash(Family::Word, word.as_bytes());
            out.push(h);
            if let Some(p) = previous.filter(|_| token.boundary != Boundary::Sentence) {
                let mut pair = [0u8; 16];
                pair[..8].copy_from_slice(&p.to_le_bytes());
                pair[8..].copy_from_slice(&h.to_le_bytes());
                out.push(hash(Family::Pair, &pair));
            }
            previous = Some(h);
            if token.is_number {
                continue;
            }
            padded.clear();
            padded.push('<');
            padded.push_str(word);
            padded.push('>');
            grams(&padded, &mut starts, out);
            if let Ok(pieces) = self.tokenizer.get_model().tokenize(word) {
                out.extend(
                    pieces
                        .iter()
                        .map(|p| hash(Family::Piece, p.value.as_bytes())),
                );
            }
        }
        let mut buf = [0u8; 4];
        out.extend(
            original
                .chars()
                .filter(|c| is_emoji(*c))
                .map(|c| hash(Family::Emoji, c.encode_utf8(&mut buf).as_bytes())),
        );
    }
}

/// Character 3- and 4-grams of a padded word (`<sana>`); `starts` is scratch space.
fn grams(padded: &str, starts: &mut Vec<usize>, out: &mut Vec<u64>) {
    starts.clear();
    starts.extend(padded.char_indices().map(|(i, _)| i).chain([padded.len()]));
    for n in [3, 4] {
        for w in starts.windows(n + 1) {
            out.push(hash(Family::Gram, &padded.as_bytes()[w[0]..w[n]]));
        }
    }
}

/// Pictographs and symbols that carry tone in tweets and comments (😂 ❤ 👍 😡).
fn is_emoji(c: char) -> bool {
    matches!(u32::from(c), 0x2600..=0x27BF | 0x1F300..=0x1FAFF)
}

/// A probability as a logit scaled to about [-1, 1].
fn logit(p: f32) -> f32 {
    let p = p.clamp(0.01, 0.99);
    (p / (1.0 - p)).ln() / 4.6
}

/// The dense features from signals and rule scores, in the order of [`DENSE`].
fn dense(text: &NormalizedText, signals: &Signals, rules: &Assessment) -> [f32; DENSE.len()] {
    let s: &Scores = &rules.scores;
    let style = &signals.style;
    let words = text.words().count();
    let obfuscated = text.tokens.iter().filter(|t| t.obfuscated).count();
    [
        logit(s.toxicity),
        logit(s.severe_toxicity),
        logit(s.insult),
        logit(s.threat),
        logit(s.identity_attack),
        logit(s.profanity),
        logit(s.spam),
        logit(s.urgency),
        rules.sentiment.score,
        signals.sentiment.tanh(),
        style.shouting,
        style.exclamations.min(3) as f32 / 3.0,
        style.questions.min(3) as f32 / 3.0,
        f32::from(style.longest_mark_run >= 3),
        style.elongation,
        f32::from(obfuscated > 0),
        f32::from(!text.mentions.is_empty()),
        f32::from(!text.urls.is_empty()),
        ((1 + words) as f32).ln() / 5.0,
        signals.writing.quality,
    ]
}

/// The inverse document frequency of a feature found in `df` of `texts` training texts
/// (scikit-learn's smoothed form: never below 1).
pub fn idf(df: u32, texts: usize) -> f32 {
    ((1 + texts) as f32 / (1 + df) as f32).ln() + 1.0
}

/// The text features' values, as training and serving weigh them: each known column (its
/// vocabulary row) once, its count made sublinear (1 + ln n) and multiplied by its inverse
/// document frequency, the whole scaled to unit length (TF-IDF as scikit-learn's
/// `sublinear_tf`, smoothed idf, `l2` norm). `columns` is sorted in place; `out` is cleared.
pub fn weigh(columns: &mut [u32], idf: &[f32], out: &mut Vec<(u32, f32)>) {
    out.clear();
    columns.sort_unstable();
    let mut norm = 0.0f32;
    for run in columns.chunk_by(|a, b| a == b) {
        let column = run[0];
        let value = (1.0 + (run.len() as f32).ln()) * idf[column as usize];
        norm += value * value;
        out.push((column, value));
    }
    let scale = if norm > 0.0 { norm.sqrt().recip() } else { 0.0 };
    out.iter_mut().for_each(|(_, v)| *v *= scale);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighs_counts_sublinearly_by_idf_to_unit_length() {
        let idfs = [1.0, 2.0, 1.0];
        let mut out = Vec::new();
        weigh(&mut [1, 0, 0], &idfs, &mut out);
        let twice = 1.0 + 2f32.ln();
        let norm = (twice * twice + 4.0).sqrt();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, 0);
        assert!((out[0].1 - twice / norm).abs() < 1e-6, "{out:?}");
        assert!((out[1].1 - 2.0 / norm).abs() < 1e-6, "{out:?}");
        weigh(&mut [], &idfs, &mut out);
        assert!(out.is_empty());
        assert!(idf(1, 9) > idf(5, 9) && idf(9, 9) >= 1.0);
    }
}
