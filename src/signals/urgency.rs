//! Urgency cues in Finnish and English: outages, money, safety, legal, privacy, churn, time pressure.

use serde::{Deserialize, Serialize};

use crate::domain::{Reason, Span};
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
pub enum Category {
    Outage,
    Money,
    Safety,
    Legal,
    Privacy,
    Churn,
    TimePressure,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Outage,
        Category::Money,
        Category::Safety,
        Category::Legal,
        Category::Privacy,
        Category::Churn,
        Category::TimePressure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Outage => "outage",
            Category::Money => "money",
            Category::Safety => "safety",
            Category::Legal => "legal",
            Category::Privacy => "privacy",
            Category::Churn => "churn",
            Category::TimePressure => "time_pressure",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Category::Outage => "service not working",
            Category::Money => "money at stake",
            Category::Safety => "someone's safety",
            Category::Legal => "legal action",
            Category::Privacy => "personal data at risk",
            Category::Churn => "customer about to leave",
            Category::TimePressure => "deadline close",
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Meta {
    category: Category,
    weight: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    pub category: Category,
    pub weight: f32,
    pub span: Span,
    pub words: String,
}

impl Cue {
    pub fn reason(&self) -> Reason {
        let code = format!("urgency.{}", self.category.as_str());
        Reason::new(
            &code,
            format!("{}: \"{}\"", self.category.describe(), self.words),
            self.weight,
        )
        .at(self.span)
    }
}

#[derive(Debug)]
pub struct UrgencyLexicon(Lexicon<Meta>);

impl UrgencyLexicon {
    pub fn shipped() -> Result<Self, String> {
        Lexicon::from_toml(include_str!("lexicon/urgency.toml"))
            .map(Self)
            .map_err(|e| format!("urgency lexicon: {e}"))
    }

    pub fn find(&self, original: &str, text: &NormalizedText) -> Vec<Cue> {
        self.0
            .find(text)
            .into_iter()
            .map(|h| Cue {
                category: h.meta.category,
                weight: h.meta.weight,
                span: h.span,
                words: slice(original, h.span),
            })
            .collect()
    }
}
