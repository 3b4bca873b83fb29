//! Swear words and slurs from Seula's own Finnish and English lexicon, with severity and spans.
//!
//! Inflection and compounds come from stem patterns (`vitu*`, `*paska`), obfuscation from
//! `normalize`, ordinary look-alike words from each term's exceptions (`lexicon/profanity.toml`).

use serde::{Deserialize, Serialize};

use crate::domain::{Reason, Span};
use crate::normalize::{NormalizedText, slice};
use crate::signals::lexicon::Lexicon;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Mild,
    Strong,
    Slur,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Mild => "mild",
            Severity::Strong => "strong",
            Severity::Slur => "slur",
        }
    }

    /// How much one word of this severity weighs among the reasons.
    fn weight(self) -> f32 {
        match self {
            Severity::Mild => 0.15,
            Severity::Strong => 0.4,
            Severity::Slur => 0.6,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Meta {
    severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfanityHit {
    pub severity: Severity,
    /// The words as written in the original text.
    pub word: String,
    pub span: Span,
    /// The lexicon term that fired.
    pub term: String,
    pub obfuscated: bool,
}

impl ProfanityHit {
    pub fn reason(&self) -> Reason {
        let how = if self.obfuscated { ", disguised" } else { "" };
        Reason::new(
            "profanity.lexicon",
            format!(
                "{} profanity{how}: \"{}\"",
                self.severity.as_str(),
                self.word
            ),
            self.severity.weight(),
        )
        .at(self.span)
    }
}

#[derive(Debug)]
pub struct ProfanityLexicon(Lexicon<Meta>);

impl ProfanityLexicon {
    pub fn shipped() -> Result<Self, String> {
        Self::from_toml(include_str!("lexicon/profanity.toml"))
    }

    pub fn from_toml(source: &str) -> Result<Self, String> {
        Lexicon::from_toml(source)
            .map(Self)
            .map_err(|e| format!("profanity lexicon: {e}"))
    }

    pub fn find(&self, original: &str, text: &NormalizedText) -> Vec<ProfanityHit> {
        self.0
            .find(text)
            .into_iter()
            .map(|h| ProfanityHit {
                severity: h.meta.severity,
                word: slice(original, h.span),
                span: h.span,
                term: h.term.to_string(),
                obfuscated: text.tokens[h.tokens.clone()]
                    .iter()
                    .any(|t| t.obfuscated || t.elongated),
            })
            .collect()
    }
}
