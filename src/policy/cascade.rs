//! When a comment goes on to the transformer model after the fast path: the policy's
//! `[cascade]`. Pure; the model itself is `transformer`'s, and a server without one ignores
//! this table.

use serde::{Deserialize, Serialize};

use crate::domain::Language;
use crate::scoring::Assessment;
use crate::scoring::card::Card;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cascade {
    /// `never`, `uncertain` (the fast path is unsure: see `band` and `sentiment_within`) or
    /// `always` (every comment in a language the model serves).
    pub when: When,
    /// A score the model gives that the fast path put inside `[low, high]` is unsure.
    pub band: [f32; 2],
    /// A fast-path sentiment score (-1 to 1) closer to 0 than this is unsure, when the model
    /// gives the sentiment; 0 never sends a comment for its sentiment.
    pub sentiment_within: f32,
    /// The languages to send; empty: every language the model serves.
    #[serde(default)]
    pub languages: Vec<Language>,
    /// When the model's queue is full: `fast` answers from the fast path (the response says
    /// so), `refuse` answers 429.
    pub when_busy: WhenBusy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum When {
    Never,
    Uncertain,
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenBusy {
    Fast,
    Refuse,
}

impl Default for Cascade {
    fn default() -> Self {
        Self {
            when: When::Uncertain,
            band: [0.47, 0.53],
            sentiment_within: 0.0,
            languages: Vec::new(),
            when_busy: WhenBusy::Fast,
        }
    }
}

impl Cascade {
    /// What is wrong with the table, with the path of each field.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let [low, high] = self.band;
        if !(0.0..=1.0).contains(&low) || !(0.0..=1.0).contains(&high) || low > high {
            problems.push("cascade.band: [low, high] with 0 <= low <= high <= 1".to_string());
        }
        if !(0.0..=1.0).contains(&self.sentiment_within) {
            problems.push("cascade.sentiment_within: 0 to 1".to_string());
        }
        if self.languages.contains(&Language::Und) {
            problems.push("cascade.languages: fi, en or sv".to_string());
        }
        problems
    }

    /// Whether a comment in `language` that the fast path assessed so goes on to the model.
    pub fn wants(&self, card: &Card, language: Language, fast: &Assessment) -> bool {
        if !card.serves(language)
            || !(self.languages.is_empty() || self.languages.contains(&language))
        {
            return false;
        }
        match self.when {
            When::Never => false,
            When::Always => true,
            When::Uncertain => {
                let [low, high] = self.band;
                let unsure = |score: f32| (low..=high).contains(&score);
                card.scores()
                    .any(|name| fast.scores.get(name).is_some_and(unsure))
                    || (card.gives_sentiment()
                        && fast.sentiment.score.abs() < self.sentiment_within)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::{Scores, Sentiment};
    use crate::signals::intents::IntentScores;

    fn card() -> Card {
        let sum = "ab".repeat(32);
        Card::parse(&format!(
            "name = \"m\"\nlanguages = [\"en\"]\nmax_length = 64\n\
             [files]\nmodel = \"{sum}\"\ntokenizer = \"{sum}\"\n\
             [[outputs]]\nname = \"s\"\n\
             labels = [\"sentiment.negative\", \"sentiment.neutral\", \"sentiment.positive\"]\n\
             [[outputs]]\nname = \"o\"\nlabels = [\"none\", \"toxicity\"]"
        ))
        .expect("card")
    }

    fn fast(toxicity: f32, insult: f32, sentiment: f32) -> Assessment {
        let scores = Scores {
            toxicity,
            insult,
            ..Scores::default()
        };
        Assessment {
            scores,
            floor: scores,
            sentiment: Sentiment::of([(1.0 - sentiment) / 2.0, 0.0, (1.0 + sentiment) / 2.0]),
            intents: IntentScores::default(),
        }
    }

    #[test]
    fn unsure_scores_the_model_gives_go_on_and_sure_ones_stay() {
        let card = card();
        let cascade = Cascade {
            sentiment_within: 0.2,
            ..Cascade::default()
        };
        assert!(cascade.wants(&card, Language::En, &fast(0.5, 0.0, 0.9)));
        assert!(!cascade.wants(&card, Language::En, &fast(0.95, 0.0, 0.9)));
        // The model gives no insult: an unsure insult is not the model's to settle.
        assert!(!cascade.wants(&card, Language::En, &fast(0.05, 0.5, 0.9)));
        assert!(cascade.wants(&card, Language::En, &fast(0.05, 0.0, 0.1)));
        // A language the model does not serve, or the policy does not send, stays.
        assert!(!cascade.wants(&card, Language::Fi, &fast(0.5, 0.0, 0.0)));
        let finnish_only = Cascade {
            languages: vec![Language::Fi],
            ..cascade.clone()
        };
        assert!(!finnish_only.wants(&card, Language::En, &fast(0.5, 0.0, 0.0)));
        let always = Cascade {
            when: When::Always,
            ..cascade.clone()
        };
        assert!(always.wants(&card, Language::En, &fast(0.99, 0.0, 1.0)));
        let never = Cascade {
            when: When::Never,
            ..cascade
        };
        assert!(!never.wants(&card, Language::En, &fast(0.5, 0.0, 0.0)));
    }

    #[test]
    fn a_band_upside_down_or_out_of_range_is_refused() {
        let wrong = Cascade {
            band: [0.8, 0.2],
            sentiment_within: 2.0,
            languages: vec![Language::Und],
            ..Cascade::default()
        };
        assert_eq!(wrong.problems().len(), 3, "{:?}", wrong.problems());
        assert!(Cascade::default().problems().is_empty());
    }
}
