//! What the fuzz targets share: the span check behind every "spans are in characters of the
//! original text" assertion, and the shipped pipeline, built once per fuzzing process.

use std::sync::OnceLock;

use seula::domain::{Comment, Span};
use seula::normalize;
use seula::pipeline::{ActivePolicies, Outcome, Pipeline};
use seula::policy::Source;
use seula::signals::personal_data;

/// An original text with the byte offset of each of its characters, for checking spans.
pub struct Original<'a> {
    pub text: &'a str,
    /// Byte offset of every character, and the text's length in bytes last.
    bytes: Vec<usize>,
}

impl<'a> Original<'a> {
    pub fn new(text: &'a str) -> Self {
        let bytes = text
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(text.len()))
            .collect();
        Self { text, bytes }
    }

    /// The text's length in characters, the unit of every span.
    pub fn chars(&self) -> usize {
        self.bytes.len() - 1
    }

    /// Asserts the promise every span makes: in order, inside the original text, its ends on
    /// character boundaries, and `normalize::slice` giving exactly the characters it covers.
    /// Panics (a fuzzer crash) naming `what` and the text when it does not hold.
    pub fn check(&self, span: Span, what: &str) {
        let text = self.text;
        assert!(
            span.start <= span.end,
            "{what}: span {span:?} runs backwards in {text:?}"
        );
        assert!(
            span.end <= self.chars(),
            "{what}: span {span:?} ends past the text's {} characters in {text:?}",
            self.chars()
        );
        let (start, end) = (self.bytes[span.start], self.bytes[span.end]);
        assert!(
            text.is_char_boundary(start) && text.is_char_boundary(end),
            "{what}: span {span:?} is not on character boundaries of {text:?}"
        );
        let sliced = normalize::slice(text, span);
        assert_eq!(
            sliced,
            &text[start..end],
            "{what}: normalize::slice disagrees with span {span:?} of {text:?}"
        );
    }

    /// As [`Original::check`], and the span covers at least one character.
    pub fn check_nonempty(&self, span: Span, what: &str) {
        self.check(span, what);
        assert!(
            span.start < span.end,
            "{what}: empty span {span:?} in {:?}",
            self.text
        );
    }
}

/// The channel whose policy carries word lists of its own ([`WORDS`]); the others have none.
pub const WORDS_CHANNEL: &str = "facebook";

/// A community's `[words]`, patterns of each kind: stems, phrases, gaps, suffixes, substrings, and
/// allowed words that the shipped lexicons flag.
pub const WORDS: &str = r#"[words]
banned = ["kusipää*", "idiootti|ääliö", "*paska", "huijar* ~ firma"]
suspect = ["huono palvelu", "*kusi*", "scam*", "rip off"]
allowed = ["perkele", "paska*", "hell"]
banned_action = "delete"
"#;

/// The shipped lexicons, default policy and built-in models (`../models`, embedded in the
/// crate), with [`WORDS`] as channel [`WORDS_CHANNEL`]'s overrides; built once per fuzzing
/// process, on first use.
pub fn pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        let pipeline =
            Pipeline::shipped().unwrap_or_else(|e| panic!("loading the shipped pipeline: {e}"));
        let source = Source {
            version: 1,
            toml: WORDS.to_string(),
        };
        let sources = pipeline.policies().sources.with(WORDS_CHANNEL, source);
        let active = ActivePolicies::resolve(sources)
            .unwrap_or_else(|e| panic!("the fuzzing word lists: {e}"));
        pipeline.activate(active);
        pipeline
    })
}

/// Asserts what an outcome promises about `comment`: every span of every signal (community
/// words included) and reason in
/// the original text, scores that are probabilities, a sentiment in [-1, 1], a reply due no
/// earlier than the comment, and a register mask that keeps the text's length.
pub fn check_outcome(comment: &Comment, outcome: &Outcome, created: chrono::DateTime<chrono::Utc>) {
    let original = Original::new(&comment.text);
    let signals = &outcome.signals;
    for hit in &signals.profanity {
        original.check(hit.span, "signals.profanity");
    }
    for hit in &signals.toxic {
        original.check(hit.span, "signals.toxic");
    }
    for cue in &signals.urgency {
        original.check(cue.span, "signals.urgency");
    }
    for found in &signals.personal_data {
        original.check(found.span, "signals.personal_data");
    }
    for promotion in &signals.writing.promotion {
        original.check(promotion.span, "signals.writing.promotion");
    }
    for hit in &signals.words {
        original.check(hit.span, "signals.words");
    }
    if let Some(target) = &signals.staff_target {
        original.check(target.span, "signals.staff_target");
    }
    for reason in &outcome.decision.reasons {
        if let Some(span) = reason.span {
            original.check(span, &format!("reason {}", reason.code));
        }
    }
    for name in seula::scoring::Scores::NAMES {
        let score = outcome.assessment.scores.get(name).unwrap_or(f32::NAN);
        assert!(
            (0.0..=1.0).contains(&score),
            "score {name} = {score} is not a probability for {:?}",
            comment.text
        );
    }
    let sentiment = outcome.assessment.sentiment.score;
    assert!(
        (-1.0..=1.0).contains(&sentiment),
        "sentiment {sentiment} is not in [-1, 1] for {:?}",
        comment.text
    );
    if let Some(due) = outcome.respond_by {
        assert!(
            due >= created,
            "respond_by {due} is before the comment ({created}) for {:?}",
            comment.text
        );
    }
    let masked = personal_data::mask(&comment.text, &signals.personal_data);
    assert_eq!(
        masked.chars().count(),
        original.chars(),
        "personal_data::mask changed the length of {:?}",
        comment.text
    );
}
