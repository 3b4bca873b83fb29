//! Explainable facts about a comment, each from its own module, gathered into [`Signals`].
//!
//! `extract` is pure: the same comment, text and clock give the same signals. Repetition needs
//! memory across comments and is filled in by the pipeline from [`repetition::Memory`].

pub mod account;
pub mod intents;
pub mod language;
pub mod lexicon;
pub mod personal_data;
pub mod profanity;
pub mod repetition;
pub mod sentiment;
pub mod style;
pub mod toxicity;
pub mod urgency;
pub mod writing;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Author, Comment, Language, Reason};
use crate::normalize::NormalizedText;

pub use account::AccountSignals;
pub use personal_data::PersonalData;
pub use profanity::{ProfanityHit, Severity};
pub use repetition::Repetition;
pub use style::Style;
pub use toxicity::{StaffTarget, ToxicHit, ToxicKind};
pub use urgency::{Category, Cue};
pub use writing::Writing;

/// The most reasons, and the most spans of each kind, one answer lists and the register keeps:
/// a long text full of hits must not make an answer grow without bound.
pub const MAX_LISTED: usize = 32;

/// What [`cap`] left out of an answer, said in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Truncated {
    /// [`MAX_LISTED`].
    pub limit: usize,
    pub reasons: usize,
    pub spans: usize,
}

/// Cuts the reasons (strongest first, so the weakest go) and the profanity, toxicity, urgency,
/// intent and word-list spans (in text order) to [`MAX_LISTED`] each. Personal data is counted but kept
/// whole here: the register masks every span of it; the answer lists the first [`MAX_LISTED`].
pub fn cap(signals: &mut Signals, reasons: &mut Vec<Reason>) -> Option<Truncated> {
    fn cut<T>(list: &mut Vec<T>) -> usize {
        let over = list.len().saturating_sub(MAX_LISTED);
        list.truncate(MAX_LISTED);
        over
    }
    let spans = cut(&mut signals.profanity)
        + cut(&mut signals.toxic)
        + cut(&mut signals.urgency)
        + cut(&mut signals.intents)
        + cut(&mut signals.words)
        + signals.personal_data.len().saturating_sub(MAX_LISTED);
    let reasons = cut(reasons);
    (reasons + spans > 0).then_some(Truncated {
        limit: MAX_LISTED,
        reasons,
        spans,
    })
}

/// What the register keeps of a comment whose text was removed (an author's erasure, the
/// channel's retention period): every word quoted from the text goes; kinds, counts, weights
/// and spans stay, so replay and statistics still see the case.
pub fn forget_text(signals: &mut Signals, reasons: &mut [Reason]) {
    signals.profanity.iter_mut().for_each(|h| h.word.clear());
    signals.toxic.iter_mut().for_each(|h| h.word.clear());
    signals.urgency.iter_mut().for_each(|c| c.words.clear());
    signals.intents.iter_mut().for_each(|c| c.words.clear());
    signals.words.iter_mut().for_each(|w| w.word.clear());
    if let Some(target) = &mut signals.staff_target {
        target.target.clear();
    }
    for reason in reasons.iter_mut().filter(|r| r.span.is_some()) {
        // A reason with a span quotes the text after a colon: `strong profanity: "vitun"`.
        let kept = reason.message.split([':', '"']).next().unwrap_or_default();
        reason.message = kept.trim().to_string();
    }
}

/// Every lexicon Seula ships, compiled once at start-up.
#[derive(Debug)]
pub struct Lexicons {
    pub profanity: profanity::ProfanityLexicon,
    pub toxicity: toxicity::ToxicityLexicons,
    pub urgency: urgency::UrgencyLexicon,
    pub intents: intents::IntentLexicon,
    pub writing: writing::WritingLexicons,
    pub sentiment: sentiment::SentimentLexicon,
}

impl Lexicons {
    /// The lexicons embedded in the binary. They are tested, so a failure here is a build defect.
    pub fn shipped() -> Result<Self, String> {
        Ok(Self {
            profanity: profanity::ProfanityLexicon::shipped()?,
            toxicity: toxicity::ToxicityLexicons::shipped()?,
            urgency: urgency::UrgencyLexicon::shipped()?,
            intents: intents::IntentLexicon::shipped()?,
            writing: writing::WritingLexicons::shipped()?,
            sentiment: sentiment::SentimentLexicon::shipped()?,
        })
    }
}

/// `Signals::default()` is a comment in which nothing was noticed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    pub language: Language,
    pub profanity: Vec<ProfanityHit>,
    pub toxic: Vec<ToxicHit>,
    pub style: Style,
    pub repetition: Repetition,
    pub account: AccountSignals,
    pub writing: Writing,
    pub urgency: Vec<Cue>,
    /// Cues of what the writer wants: a question, a problem report, a sales lead, …
    #[serde(default)]
    pub intents: Vec<intents::IntentCue>,
    /// Summed sentiment-lexicon weight (negative below zero); the scorer turns it into a label.
    pub sentiment: f32,
    /// The customer's personal data posted in public, by kind and span.
    pub personal_data: Vec<PersonalData>,
    /// The employee or staff role a hostile comment is aimed at.
    pub staff_target: Option<StaffTarget>,
    /// Words of the community's own banned and suspect lists (its policy's `[words]`).
    #[serde(default)]
    pub words: Vec<crate::policy::words::WordHit>,
}

pub fn extract(
    lexicons: &Lexicons,
    comment: &Comment,
    text: &NormalizedText,
    now: DateTime<Utc>,
) -> Signals {
    let in_reply = comment
        .thread
        .as_ref()
        .is_some_and(|t| t.parent_text.is_some());
    let toxic = lexicons.toxicity.find(&comment.text, text, in_reply);
    Signals {
        language: language::detect(&comment.text, text, comment.language),
        profanity: lexicons.profanity.find(&comment.text, text),
        staff_target: lexicons.toxicity.staff_target(&comment.text, text, &toxic),
        toxic,
        style: style::measure(&comment.text, text),
        repetition: Repetition::default(),
        account: account::assess(comment.author.as_ref().unwrap_or(&Author::default()), now),
        writing: lexicons.writing.assess(comment, text),
        urgency: lexicons.urgency.find(&comment.text, text),
        intents: lexicons.intents.find(&comment.text, text),
        sentiment: lexicons.sentiment.weigh(text),
        personal_data: personal_data::find(&comment.text),
        words: Vec::new(),
    }
}

/// A vowel of Finnish, Swedish or English, accented ones included.
pub(crate) fn is_vowel(c: char) -> bool {
    matches!(
        c,
        'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'å' | 'ä' | 'ö' | 'á' | 'é' | 'í' | 'ó' | 'ú'
    )
}

/// Every signal that fired, as reasons; the policy orders them and adds its own.
pub fn explain(signals: &Signals) -> Vec<Reason> {
    let mut reasons: Vec<Reason> = Vec::new();
    reasons.extend(
        signals
            .words
            .iter()
            .map(crate::policy::words::WordHit::reason),
    );
    reasons.extend(signals.profanity.iter().map(ProfanityHit::reason));
    reasons.extend(signals.toxic.iter().map(ToxicHit::reason));
    reasons.extend(signals.staff_target.iter().map(StaffTarget::reason));
    reasons.extend(signals.personal_data.iter().map(PersonalData::reason));
    reasons.extend(signals.urgency.iter().map(Cue::reason));
    reasons.extend(signals.style.reasons());
    reasons.extend(signals.repetition.reasons());
    reasons.extend(signals.account.reasons());
    reasons.extend(signals.writing.reasons());
    reasons
}
