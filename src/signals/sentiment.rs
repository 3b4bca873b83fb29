//! Sentiment cues: a small Finnish and English lexicon of weighted words, flipped by a nearby negator.

use std::collections::HashSet;

use serde::Deserialize;

use crate::normalize::NormalizedText;
use crate::signals::lexicon::Lexicon;

/// A negator this many tokens before a sentiment word flips it ("ei ollut hyvä").
const NEGATION_REACH: usize = 3;
/// A negated word counts for this share of its weight, with the sign turned.
const NEGATED: f32 = -0.7;

#[derive(Debug, Deserialize)]
pub struct Meta {
    weight: f32,
}

#[derive(Debug, Deserialize)]
struct Negators {
    negators: Vec<String>,
}

#[derive(Debug)]
pub struct SentimentLexicon {
    words: Lexicon<Meta>,
    negators: HashSet<String>,
}

impl SentimentLexicon {
    pub fn shipped() -> Result<Self, String> {
        Self::from_toml(include_str!("lexicon/sentiment.toml"))
    }

    pub fn from_toml(source: &str) -> Result<Self, String> {
        let err = |e: String| format!("sentiment lexicon: {e}");
        let words = Lexicon::from_toml(source).map_err(err)?;
        let negators: Negators = toml::from_str(source).map_err(|e| err(e.to_string()))?;
        Ok(Self {
            words,
            negators: negators.negators.into_iter().collect(),
        })
    }

    /// The summed weight of the sentiment words, negative below zero.
    pub fn weigh(&self, text: &NormalizedText) -> f32 {
        self.words
            .find(text)
            .into_iter()
            .map(|h| {
                let before = h.tokens.start.saturating_sub(NEGATION_REACH)..h.tokens.start;
                let negated = text.tokens[before]
                    .iter()
                    .any(|t| self.negators.contains(&t.text));
                if negated {
                    NEGATED * h.meta.weight
                } else {
                    h.meta.weight
                }
            })
            .sum()
    }
}
