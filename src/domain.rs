//! Domain types shared by every stage: the comment coming in, the decision going out.
//!
//! These are plain data with no I/O; the wire shapes in `api::wire` convert to and from them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A validated comment, ready for the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: String,
    pub text: String,
    pub channel: Option<String>,
    pub language: Option<Language>,
    pub created_at: Option<DateTime<Utc>>,
    pub thread: Option<Thread>,
    pub author: Option<Author>,
}

impl Comment {
    /// A comment with only its id and text known.
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            text: text.into(),
            channel: None,
            language: None,
            created_at: None,
            thread: None,
            author: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Thread {
    pub id: Option<String>,
    pub parent_text: Option<String>,
}

/// What the client knows of the author. Every field is optional: unknown is never held against anyone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Author {
    pub id: Option<String>,
    pub name: Option<String>,
    pub handle: Option<String>,
    pub account_age_days: Option<u32>,
    pub created_at: Option<DateTime<Utc>>,
    pub has_photo: Option<bool>,
    pub followers: Option<u64>,
    pub following: Option<u64>,
    pub posts: Option<u64>,
    pub bio: Option<String>,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Fi,
    En,
    Sv,
    #[default]
    Und,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fi => "fi",
            Self::En => "en",
            Self::Sv => "sv",
            Self::Und => "und",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code.to_ascii_lowercase().as_str() {
            "fi" | "fin" => Some(Self::Fi),
            "en" | "eng" => Some(Self::En),
            "sv" | "swe" => Some(Self::Sv),
            "und" => Some(Self::Und),
            _ => None,
        }
    }
}

/// A half-open `[start, end)` range in Unicode scalar values of the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "[usize; 2]", into = "[usize; 2]")]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// Whether the two share a character.
    pub fn overlaps(self, other: Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// The least span that covers both (tokens can stand in reverse order under a
    /// bidirectional override, so the first token's start is not always the least).
    pub fn cover(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// `[start, end]`: two character offsets.
impl utoipa::PartialSchema for Span {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        let offset = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0));
        ArrayBuilder::new()
            .items(offset)
            .min_items(Some(2))
            .max_items(Some(2))
            .description(Some(
                "`[start, end)` in Unicode scalar values (characters) of the text as sent",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Span {}

impl From<[usize; 2]> for Span {
    fn from([start, end]: [usize; 2]) -> Self {
        Self { start, end }
    }
}

impl From<Span> for [usize; 2] {
    fn from(s: Span) -> Self {
        [s.start, s.end]
    }
}

/// The recommended action, weakest first, so `Ord` ranks them.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allow,
    Prioritize,
    Review,
    Hide,
    Delete,
    BlockAuthor,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Allow,
        Action::Prioritize,
        Action::Review,
        Action::Hide,
        Action::Delete,
        Action::BlockAuthor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Prioritize => "prioritize",
            Action::Review => "review",
            Action::Hide => "hide",
            Action::Delete => "delete",
            Action::BlockAuthor => "block_author",
        }
    }

    /// Hidden, deleted or blocked: the comment was taken off the public page.
    pub fn removes(self) -> bool {
        self >= Action::Hide
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

/// The team a comment goes to: one of the names its policy lists in `teams`
/// (`customer_service`, `legal`, `sales`, …). A name is 1 to 40 lower-case ASCII letters,
/// digits and `_`, starting with a letter; which names exist is the policy's to say.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[a-z][a-z0-9_]{0,39}$", example = "customer_service")]
pub struct Route(std::sync::Arc<str>);

impl Route {
    pub const MAX_LEN: usize = 40;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not a route name.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a route name (1 to 40 of a-z, 0-9 and _, starting with a letter)")]
pub struct BadRoute(pub String);

impl TryFrom<String> for Route {
    type Error = BadRoute;

    fn try_from(name: String) -> Result<Self, BadRoute> {
        let well_formed = name.len() <= Self::MAX_LEN
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if well_formed {
            Ok(Self(name.into()))
        } else {
            Err(BadRoute(name))
        }
    }
}

impl std::str::FromStr for Route {
    type Err = BadRoute;

    fn from_str(name: &str) -> Result<Self, BadRoute> {
        Self::try_from(name.to_string())
    }
}

impl From<Route> for String {
    fn from(r: Route) -> Self {
        r.0.to_string()
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Advice to whoever answers the comment, beside the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    /// The comment holds the customer's personal data: answer in private messages, not in public.
    MoveToPrivateMessages,
    /// The comment attacks a named employee: a supervisor answers, not the person named.
    SupervisorReplies,
    /// The comment reports a problem already known as an incident: answer with its status.
    KnownIncident,
}

/// One explanation of the decision: a stable code, a human message, where in the text, how much it weighed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reason {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub span: Option<Span>,
    pub weight: f32,
}

impl Reason {
    pub fn new(code: &str, message: impl Into<String>, weight: f32) -> Self {
        Self {
            code: code.to_string(),
            message: message.into(),
            span: None,
            weight,
        }
    }

    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }
}
