//! Sentiment cues: a small Finnish and English lexicon of weighted words, flipped by a nearby negator.

use std::collections::HashSet;

use serde::Deserialize;

use crate::normalize::{Boundary, NormalizedText};
use crate::signals::lexicon::Lexicon;

/// A negator this many tokens before a sentiment word flips it ("ei ollut hyvä").
const NEGATION_REACH: usize = 3;
/// Words that turn a clause around: a negator before them does not reach past.
const CONTRASTS: &[&str] = &[
    "mutta",
    "vaan",
    "silti",
    "kuitenkin",
    "but",
    "yet",
    "though",
    "however",
];
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
                if self.negated(text, h.tokens.start) {
                    NEGATED * h.meta.weight
                } else {
                    h.meta.weight
                }
            })
            .sum()
    }

    /// A negator up to [`NEGATION_REACH`] tokens before `start`, within the same clause and not
    /// behind a contrast ("ei hätää, toimii jo", "not cheap but works"). A phrase that starts with
    /// its own negator ("not working") carries its polarity already and is never flipped.
    fn negated(&self, text: &NormalizedText, start: usize) -> bool {
        let is_negator = |i: usize| self.negators.contains(&text.tokens[i].text);
        if is_negator(start) {
            return false;
        }
        (start.saturating_sub(NEGATION_REACH)..start)
            .rev()
            .take_while(|&i| {
                text.tokens[i + 1].boundary == Boundary::None
                    && !CONTRASTS.contains(&text.tokens[i].text.as_str())
            })
            .any(is_negator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    const LEXICON: &str = r#"
        negators = ["ei", "not", "no"]
        [[term]]
        match = ["toimi*", "works"]
        weight = 0.4
        [[term]]
        match = ["hätä*"]
        weight = -0.3
        [[term]]
        match = ["not working"]
        weight = -0.5
    "#;

    #[test]
    fn negation_stays_in_its_clause() {
        let lexicon = SentimentLexicon::from_toml(LEXICON).expect("lexicon");
        let cases = [
            ("toimii taas", 0.4),
            ("ei toimi", NEGATED * 0.4),
            ("ei hätää, toimii jo", NEGATED * -0.3 + 0.4),
            ("not cheap but works", 0.4),
            ("no, it's still not working", -0.5),
            ("Ei. Toimii", 0.4),
        ];
        for (text, want) in cases {
            let got = lexicon.weigh(&normalize(text));
            assert!((got - want).abs() < 1e-6, "{text}: {got} != {want}");
        }
    }
}
