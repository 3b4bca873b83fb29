//! Scores: calibrated probabilities that a comment is toxic, profane, urgent, a troll's, …
//!
//! [`Scorer`] is the seam between explainable signals and the text models.
//! [`rules::RuleScorer`] combines signals through hand-set logistic weights;
//! [`learned::LearnedScorer`], the shipped scorer, puts linear models trained with linfa on top.

pub mod card;
pub mod learned;
pub mod linear;
pub mod rules;

use serde::{Deserialize, Serialize};

use crate::normalize::NormalizedText;
use crate::signals::Signals;
use crate::signals::intents::IntentScores;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scores {
    pub toxicity: f32,
    pub severe_toxicity: f32,
    pub insult: f32,
    pub threat: f32,
    pub identity_attack: f32,
    pub profanity: f32,
    pub spam: f32,
    pub urgency: f32,
    pub troll: f32,
    /// The author's profile looks fake or throwaway; like `troll`, never enough alone to hide.
    /// Cases recorded before it existed read as 0.
    #[serde(default)]
    pub fake_account: f32,
}

impl Scores {
    pub const NAMES: [&'static str; 10] = [
        "toxicity",
        "severe_toxicity",
        "insult",
        "threat",
        "identity_attack",
        "profanity",
        "spam",
        "urgency",
        "troll",
        "fake_account",
    ];

    /// A score by its name in the contract; `None` for an unknown name.
    pub fn get(&self, name: &str) -> Option<f32> {
        let mut scores = *self;
        scores.get_mut(name).map(|score| *score)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SentimentLabel {
    Negative,
    Neutral,
    Positive,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sentiment {
    pub label: SentimentLabel,
    /// -1 most negative, 1 most positive.
    pub score: f32,
}

impl Sentiment {
    /// From the probabilities of negative, neutral and positive: the most likely class, and
    /// P(positive) - P(negative).
    pub fn of(p: [f32; 3]) -> Self {
        let label = match (0..3).fold(0, |best, i| if p[i] > p[best] { i } else { best }) {
            0 => SentimentLabel::Negative,
            1 => SentimentLabel::Neutral,
            _ => SentimentLabel::Positive,
        };
        Self {
            label,
            score: p[2] - p[0],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assessment {
    pub scores: Scores,
    /// The rule scores alone: what the lexicons and signals show, which no model lowers.
    pub floor: Scores,
    pub sentiment: Sentiment,
    /// The probability of each intent: the cues' for the rule scorer, a learned head's where
    /// the language has one.
    pub intents: IntentScores,
}

/// Turns a comment's text and signals into scores. Pure and cheap: called on the request path.
pub trait Scorer: Send + Sync {
    fn score(&self, original: &str, text: &NormalizedText, signals: &Signals) -> Assessment;
    /// Recorded with every decision, so a case can be traced to the model that scored it.
    fn version(&self) -> &str;
}
