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

/// Every intent scoring at least [`LISTED`], strongest first: each intent's cues combined as
/// 1 - Π(1 - weight), `question` with [`QUESTION_MARK`] when the text asks with `?`.
pub fn ranked(cues: &[IntentCue], asks: bool) -> Vec<IntentScore> {
    let mut scores: Vec<IntentScore> = Intent::ALL
        .iter()
        .filter_map(|&intent| {
            let mine = cues.iter().filter(|c| c.intent == intent);
            let mut miss: f32 = mine.clone().map(|c| 1.0 - c.weight).product();
            if intent == Intent::Question && asks {
                miss *= 1.0 - QUESTION_MARK;
            }
            let score = 1.0 - miss;
            let strongest = mine.max_by(|a, b| a.weight.total_cmp(&b.weight));
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
        let ranked = ranked(&cues, false);
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
        assert!(ranked(&weak, false).is_empty());
        assert_eq!(ranked(&weak, true)[0].intent, Intent::Question);
        assert!(ranked(&[], true).is_empty(), "a bare `?` is no question");
    }
}
