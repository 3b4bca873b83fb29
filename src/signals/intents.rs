//! Intents in Finnish and English: what the writer wants that some team must act on or know
//! (training/INTENTS.md defines each). Lexicon cues with weights; a comment's score for an
//! intent combines its cues, and a question mark adds to `question`.

use serde::{Deserialize, Serialize};

use crate::domain::Span;
use crate::normalize::{NormalizedText, slice};
use crate::signals::lexicon::Lexicon;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Question,
    ProblemReport,
    Complaint,
    RefundOrCompensation,
    PurchaseIntent,
    Cancellation,
    FeatureRequest,
    Praise,
    PressOrInfluencer,
    PersonalDataRequest,
    JobInquiry,
}

impl Intent {
    pub const ALL: [Intent; 11] = [
        Intent::Question,
        Intent::ProblemReport,
        Intent::Complaint,
        Intent::RefundOrCompensation,
        Intent::PurchaseIntent,
        Intent::Cancellation,
        Intent::FeatureRequest,
        Intent::Praise,
        Intent::PressOrInfluencer,
        Intent::PersonalDataRequest,
        Intent::JobInquiry,
    ];

    /// The order in which intents choose a comment's team: the most specific first, so that a
    /// question about a price goes to sales and a complaint that asks for money back to whoever
    /// handles refunds; the broad ones (question, complaint, praise) last.
    pub const SPECIFIC_FIRST: [Intent; 11] = [
        Intent::PersonalDataRequest,
        Intent::PressOrInfluencer,
        Intent::JobInquiry,
        Intent::RefundOrCompensation,
        Intent::Cancellation,
        Intent::PurchaseIntent,
        Intent::FeatureRequest,
        Intent::ProblemReport,
        Intent::Complaint,
        Intent::Question,
        Intent::Praise,
    ];

    /// In a reason's message.
    pub fn describe(self) -> &'static str {
        match self {
            Intent::Question => "a question",
            Intent::ProblemReport => "a problem report",
            Intent::Complaint => "a complaint",
            Intent::RefundOrCompensation => "money back asked",
            Intent::PurchaseIntent => "a sales lead",
            Intent::Cancellation => "a customer leaving",
            Intent::FeatureRequest => "a product idea",
            Intent::Praise => "praise",
            Intent::PressOrInfluencer => "press or an influencer",
            Intent::PersonalDataRequest => "a personal-data request",
            Intent::JobInquiry => "a job inquiry",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Question => "question",
            Intent::ProblemReport => "problem_report",
            Intent::Complaint => "complaint",
            Intent::RefundOrCompensation => "refund_or_compensation",
            Intent::PurchaseIntent => "purchase_intent",
            Intent::Cancellation => "cancellation",
            Intent::FeatureRequest => "feature_request",
            Intent::Praise => "praise",
            Intent::PressOrInfluencer => "press_or_influencer",
            Intent::PersonalDataRequest => "personal_data_request",
            Intent::JobInquiry => "job_inquiry",
        }
    }
}

/// A probability per intent, in [`Intent::ALL`]'s order.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IntentScores([f32; Intent::ALL.len()]);

impl IntentScores {
    pub fn get(&self, intent: Intent) -> f32 {
        self.0[intent as usize]
    }

    pub fn set(&mut self, intent: Intent, score: f32) {
        self.0[intent as usize] = score;
    }

    /// The cues' scores: each intent's cues combined as 1 - Π(1 - weight), `question` with
    /// [`QUESTION_MARK`] when the text asks with `?`.
    pub fn from_cues(cues: &[IntentCue], asks: bool) -> Self {
        let mut scores = Self::default();
        for intent in Intent::ALL {
            let mut miss: f32 = cues
                .iter()
                .filter(|c| c.intent == intent)
                .map(|c| 1.0 - c.weight)
                .product();
            if intent == Intent::Question && asks {
                miss *= 1.0 - QUESTION_MARK;
            }
            scores.set(intent, 1.0 - miss);
        }
        scores
    }
}

/// What a question mark at a sentence's end adds to `question`.
const QUESTION_MARK: f32 = 0.35;
/// The least score an intent is listed with.
pub const LISTED: f32 = 0.5;

#[derive(Debug, Deserialize)]
pub struct Meta {
    intent: Intent,
    weight: f32,
}

/// One cue of an intent in the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentCue {
    pub intent: Intent,
    pub weight: f32,
    pub span: Span,
    pub words: String,
}

/// An intent the comment carries, with its score and its strongest cue's span.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IntentScore {
    pub intent: Intent,
    /// 0–1; listed from 0.5.
    pub score: f32,
    /// The strongest cue; null when only a question mark says it.
    pub span: Option<Span>,
}

#[derive(Debug)]
pub struct IntentLexicon(Lexicon<Meta>);

impl IntentLexicon {
    pub fn shipped() -> Result<Self, String> {
        Lexicon::from_toml(include_str!("lexicon/intents.toml"))
            .map(Self)
            .map_err(|e| format!("intent lexicon: {e}"))
    }

    pub fn find(&self, original: &str, text: &NormalizedText) -> Vec<IntentCue> {
        self.0
            .find(text)
            .into_iter()
            .map(|h| IntentCue {
                intent: h.meta.intent,
                weight: h.meta.weight,
                span: h.span,
                words: slice(original, h.span),
            })
            .collect()
    }
}

/// Every intent scoring at least [`LISTED`], strongest first, with its strongest cue's span: the
/// score is the larger of the scorer's (`scored`, a learned head's where there is one) and
/// the cues' own.
pub fn ranked(scored: &IntentScores, cues: &[IntentCue], asks: bool) -> Vec<IntentScore> {
    let own = IntentScores::from_cues(cues, asks);
    let mut scores: Vec<IntentScore> = Intent::ALL
        .iter()
        .filter_map(|&intent| {
            let score = scored.get(intent).max(own.get(intent));
            let strongest = cues
                .iter()
                .filter(|c| c.intent == intent)
                .max_by(|a, b| a.weight.total_cmp(&b.weight));
            (score >= LISTED).then(|| IntentScore {
                intent,
                score,
                span: strongest.map(|c| c.span),
            })
        })
        .collect();
    scores.sort_by(|a, b| b.score.total_cmp(&a.score));
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(intent: Intent, weight: f32, at: usize) -> IntentCue {
        IntentCue {
            intent,
            weight,
            span: Span::new(at, at + 3),
            words: String::new(),
        }
    }

    #[test]
    fn cues_combine_per_intent_and_only_the_listed_remain_strongest_first() {
        let cues = [
            cue(Intent::Complaint, 0.7, 0),
            cue(Intent::RefundOrCompensation, 0.4, 10),
            cue(Intent::RefundOrCompensation, 0.4, 20),
            cue(Intent::JobInquiry, 0.4, 30),
        ];
        let ranked = ranked(&IntentScores::default(), &cues, false);
        let listed: Vec<_> = ranked.iter().map(|s| (s.intent, s.score)).collect();
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert_eq!(listed[0], (Intent::Complaint, 0.7));
        assert_eq!(listed[1].0, Intent::RefundOrCompensation);
        assert!((listed[1].1 - 0.64).abs() < 1e-6);
        assert_eq!(ranked[0].span, Some(Span::new(0, 3)));
    }

    #[test]
    fn a_question_mark_lists_a_weak_question_cue_and_alone_is_not_enough() {
        let weak = [cue(Intent::Question, 0.4, 0)];
        let none = IntentScores::default();
        assert!(ranked(&none, &weak, false).is_empty());
        assert_eq!(ranked(&none, &weak, true)[0].intent, Intent::Question);
        assert!(
            ranked(&none, &[], true).is_empty(),
            "a bare `?` is no question"
        );
    }

    #[test]
    fn a_learned_score_lists_an_intent_the_cues_miss_and_never_lowers_one() {
        let mut learned = IntentScores::default();
        learned.set(Intent::Complaint, 0.8);
        learned.set(Intent::Praise, 0.1);
        let cues = [cue(Intent::Praise, 0.7, 4)];
        let listed: Vec<_> = ranked(&learned, &cues, false)
            .into_iter()
            .map(|s| (s.intent, s.score, s.span))
            .collect();
        assert_eq!(
            listed,
            [
                (Intent::Complaint, 0.8, None),
                (Intent::Praise, 0.7, Some(Span::new(4, 7)))
            ]
        );
    }
}
