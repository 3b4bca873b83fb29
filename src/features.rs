//! The feature vector the learned models read, shared by training and serving.
//!
//! A comment becomes hashed text features (words, word pairs, character 3- and 4-grams of each
//! word, subword pieces from the shipped tokenizer, emoji) and a few dense features (the rule
//! scores and the style and writing signals). Training keeps the most frequent hashes as the
//! model's vocabulary; serving looks each hash up there and ignores the rest, so a model only
//! ever sees features it was trained on. Change anything here and bump [`SCHEMA`]: the shipped
//! models record it and refuse to load under another.

use tokenizers::{Model, Tokenizer};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::normalize::{Boundary, NormalizedText};
use crate::scoring::{Assessment, Scores};
use crate::signals::Signals;

/// The version of this feature schema, recorded in `models/manifest.json`.
pub const SCHEMA: u32 = 1;

/// Names of the dense features, in their order after the vocabulary.
pub const DENSE: [&str; 21] = [
    "rules.toxicity",
    "rules.severe_toxicity",
    "rules.insult",
    "rules.threat",
    "rules.identity_attack",
    "rules.profanity",
    "rules.spam",
    "rules.urgency",
    "rules.troll",
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

/// Turns normalized comments into features. Holds the subword tokenizer.
pub struct Featurizer {
    tokenizer: Tokenizer,
}

impl Featurizer {
    pub fn new(tokenizer: Tokenizer) -> Self {
        Self { tokenizer }
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

/// The dense features, in the order of [`DENSE`].
pub fn dense(text: &NormalizedText, signals: &Signals, rules: &Assessment) -> [f32; DENSE.len()] {
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
        logit(s.troll),
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

/// The weight of each text feature: repeats add up, and a comment's text features together
/// have about unit length whatever its length.
pub fn text_weight(n: usize) -> f32 {
    1.0 / (n.max(1) as f32).sqrt()
}
