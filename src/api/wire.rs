//! The wire shapes of `/v1/score` (CONTRACT.md), their validation, and their conversion to domain types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::error::{ApiError, ErrorBody};
use crate::domain::{
    Action, Author, Comment, Language, Priority, Reason, Recommendation, Route, Span, Thread,
};
use crate::pipeline::Outcome;
use crate::scoring::{Scores, Sentiment};
use crate::signals::intents::IntentScore;
use crate::signals::personal_data::PersonalData;
use crate::signals::{Category, MAX_LISTED, Severity, Truncated};

pub const MAX_TEXT_CHARS: usize = 20_000;
pub const MAX_ID_CHARS: usize = 256;
/// The longest channel name.
pub const MAX_CHANNEL_CHARS: usize = 64;
/// The longest author name, handle or bio.
pub const MAX_PROFILE_CHARS: usize = 2_000;
/// How far in the future a client's `created_at` may be (clocks drift).
pub const MAX_CLOCK_SKEW_MINUTES: i64 = 5;
pub const MAX_BATCH: usize = 256;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ScoreRequest {
    /// The client's comment id; scoring the same id again gives the same `case_id`.
    #[schema(min_length = 1, max_length = 256)]
    pub id: String,
    /// 1–20,000 characters after trimming.
    #[schema(min_length = 1, pattern = r"\S")]
    pub text: String,
    /// Selects the channel's policy (the default policy when absent or unknown).
    #[schema(max_length = 64)]
    pub channel: Option<String>,
    /// `fi`, `en`, `sv` or `und`; detected when absent.
    pub language: Option<String>,
    /// When the comment was written (RFC 3339); at most 5 minutes ahead of the server's clock.
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    pub thread: Option<ThreadIn>,
    pub author: Option<AuthorIn>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ThreadIn {
    #[schema(max_length = 256)]
    pub id: Option<String>,
    /// The post or comment this one answers.
    #[schema(max_length = 20000)]
    pub parent_text: Option<String>,
}

/// What the client knows of the author; a missing signal is unknown, never counted against them.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AuthorIn {
    #[schema(max_length = 256)]
    pub id: Option<String>,
    #[schema(max_length = 2000)]
    pub name: Option<String>,
    #[schema(max_length = 2000)]
    pub handle: Option<String>,
    #[schema(minimum = 0, maximum = 4294967295_i64)]
    pub account_age_days: Option<i64>,
    /// When the account was made (RFC 3339), in place of `account_age_days`.
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    pub has_photo: Option<bool>,
    #[schema(minimum = 0)]
    pub followers: Option<i64>,
    #[schema(minimum = 0)]
    pub following: Option<i64>,
    #[schema(minimum = 0)]
    pub posts: Option<i64>,
    #[schema(max_length = 2000)]
    pub bio: Option<String>,
}

/// Parses raw bytes as JSON, telling malformed JSON from JSON of the wrong shape.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::MalformedJson(format!("body is not valid JSON: {e}")))
}

/// One score request from a JSON value: shape errors are 400, rule errors 422.
pub fn comment_from_value(value: Value) -> Result<Comment, ApiError> {
    if !value.is_object() {
        return Err(ApiError::InvalidRequest(
            "a score request must be a JSON object".into(),
        ));
    }
    let request: ScoreRequest = shaped(value)?;
    request.validate().map_err(ApiError::Unprocessable)
}

/// A JSON value as `T`; a wrong shape is a 400 that names the path of the bad field.
pub fn shaped<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ApiError::InvalidRequest(if path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        })
    })
}

/// The `id` of a request that failed, when it has a usable one, so a batch can say which item failed.
pub fn id_of(value: &Value) -> Value {
    value
        .get("id")
        .filter(|v| v.is_string())
        .cloned()
        .unwrap_or(Value::Null)
}

fn timestamp(path: &str, s: &Option<String>) -> Result<Option<DateTime<Utc>>, String> {
    s.as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    format!(
                        "{path}: {s:?} is not an RFC 3339 timestamp (e.g. 2026-11-22T10:00:00Z)"
                    )
                })
        })
        .transpose()
}

fn count(path: &str, n: Option<i64>) -> Result<Option<u64>, String> {
    n.map(|n| u64::try_from(n).map_err(|_| format!("{path}: must not be negative (got {n})")))
        .transpose()
}

/// A string field as it will be stored: at most `max` characters as sent (padding counts), and
/// no NUL, which PostgreSQL cannot store and no comment needs.
fn bounded(path: &str, value: Option<&str>, max: usize) -> Result<(), String> {
    let Some(value) = value else { return Ok(()) };
    if value.contains('\0') {
        return Err(format!("{path}: must not contain NUL (\\u0000)"));
    }
    let len = value.chars().count();
    if len > max {
        return Err(format!(
            "{path}: must be at most {max} characters (got {len})"
        ));
    }
    Ok(())
}

impl ScoreRequest {
    pub fn validate(self) -> Result<Comment, String> {
        if self.id.trim().is_empty() {
            return Err("id: must not be empty".into());
        }
        let thread = self.thread.as_ref();
        let author = self.author.as_ref();
        for (path, value, max) in [
            ("id", Some(self.id.as_str()), MAX_ID_CHARS),
            ("text", Some(self.text.as_str()), usize::MAX),
            ("channel", self.channel.as_deref(), MAX_CHANNEL_CHARS),
            (
                "thread.id",
                thread.and_then(|t| t.id.as_deref()),
                MAX_ID_CHARS,
            ),
            (
                "thread.parent_text",
                thread.and_then(|t| t.parent_text.as_deref()),
                MAX_TEXT_CHARS,
            ),
            (
                "author.id",
                author.and_then(|a| a.id.as_deref()),
                MAX_ID_CHARS,
            ),
            (
                "author.name",
                author.and_then(|a| a.name.as_deref()),
                MAX_PROFILE_CHARS,
            ),
            (
                "author.handle",
                author.and_then(|a| a.handle.as_deref()),
                MAX_PROFILE_CHARS,
            ),
            (
                "author.bio",
                author.and_then(|a| a.bio.as_deref()),
                MAX_PROFILE_CHARS,
            ),
        ] {
            bounded(path, value, max)?;
        }
        let text_len = self.text.trim().chars().count();
        if text_len == 0 {
            return Err("text: must not be empty".into());
        }
        if text_len > MAX_TEXT_CHARS {
            return Err(format!(
                "text: must be at most {MAX_TEXT_CHARS} characters (got {text_len})"
            ));
        }
        let language = self
            .language
            .as_deref()
            .map(|l| {
                Language::parse(l).ok_or(format!("language: {l:?} is not one of fi, en, sv, und"))
            })
            .transpose()?;
        let created_at = timestamp("created_at", &self.created_at)?;
        if let Some(at) = created_at
            && at > Utc::now() + chrono::TimeDelta::minutes(MAX_CLOCK_SKEW_MINUTES)
        {
            return Err(format!(
                "created_at: {at} is more than {MAX_CLOCK_SKEW_MINUTES} minutes in the future"
            ));
        }
        let author = self
            .author
            .map(|a| -> Result<Author, String> {
                let age = count("author.account_age_days", a.account_age_days)?;
                Ok(Author {
                    account_age_days: age
                        .map(|d| {
                            u32::try_from(d)
                                .map_err(|_| format!("author.account_age_days: {d} is too large"))
                        })
                        .transpose()?,
                    created_at: timestamp("author.created_at", &a.created_at)?,
                    followers: count("author.followers", a.followers)?,
                    following: count("author.following", a.following)?,
                    posts: count("author.posts", a.posts)?,
                    id: a.id,
                    name: a.name,
                    handle: a.handle,
                    has_photo: a.has_photo,
                    bio: a.bio,
                })
            })
            .transpose()?;
        Ok(Comment {
            id: self.id,
            text: self.text,
            channel: self.channel,
            language,
            created_at,
            thread: self.thread.map(|t| Thread {
                id: t.id,
                parent_text: t.parent_text,
            }),
            author,
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScoreResponse {
    pub id: String,
    pub action: Action,
    pub priority: Priority,
    pub route: Option<Route>,
    pub language: Language,
    pub sentiment: Sentiment,
    pub scores: Scores,
    pub signals: SignalsOut,
    pub reasons: Vec<Reason>,
    /// Advice beside the action: `move_to_private_messages`, `supervisor_replies`,
    /// `known_incident`.
    pub recommendations: Vec<Recommendation>,
    /// What the writer wants, strongest first: each intent scoring at least 0.5.
    pub intents: Vec<IntentScore>,
    /// When the first reply is due (RFC 3339), under the policy's targets and service hours.
    pub respond_by: Option<DateTime<Utc>>,
    /// Null, or how many reasons and spans were left out past the limit of each list.
    pub truncated: Option<Truncated>,
    pub case_id: Option<i64>,
    /// The incident the comment is a report of: many authors reporting one problem.
    pub incident_id: Option<i64>,
    pub policy: PolicyRef,
    /// Every model that decided: the fast path's version, then `+` and the transformer's when
    /// it scored the comment.
    pub model_version: String,
    /// Null, or how the transformer took part where the policy's cascade sent the comment to
    /// it (a server started with a transformer model).
    pub transformer: Option<TransformerOut>,
    pub took_ms: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TransformerOut {
    /// The model's name and the start of its checksum.
    pub model: String,
    /// `scored`; `busy` (its queue was full) or `failed`: then the fast path answered.
    pub status: crate::pipeline::ModelStatus,
    /// The text was longer than the model reads: it read the start.
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PolicyRef {
    pub name: String,
    pub version: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RepetitionOut {
    pub same_author: u32,
    pub other_authors: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProfanityOut {
    pub severity: Severity,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CueOut {
    pub category: Category,
    pub span: Span,
}

/// The contract's `signals`, plus the profanity and urgency spans behind the scores.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SignalsOut {
    pub shouting: f32,
    pub elongation: f32,
    pub exclamations: u32,
    pub questions: u32,
    pub repetition: RepetitionOut,
    pub account_age_days: Option<u32>,
    pub has_photo: Option<bool>,
    pub few_connections: Option<bool>,
    pub few_posts: Option<bool>,
    pub empty_bio: Option<bool>,
    pub name_suspicious: Option<f32>,
    pub writing_quality: f32,
    pub answers_with_question: bool,
    pub links: u32,
    pub profanity: Vec<ProfanityOut>,
    pub urgency_cues: Vec<CueOut>,
    /// Kinds and spans only: the values are never echoed.
    pub personal_data: Vec<PersonalData>,
    /// The employee or staff role a hostile comment is aimed at.
    pub staff_target: Option<StaffTargetOut>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffTargetOut {
    pub span: Span,
}

/// Three decimals are plenty for a probability and keep responses readable.
fn round(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0 + 0.0 // + 0.0 turns -0.0 into 0.0
}

impl ScoreResponse {
    pub fn new(id: String, o: Outcome) -> Self {
        let s = &o.signals;
        let sc = o.assessment.scores;
        Self {
            id,
            action: o.decision.action,
            priority: o.decision.priority,
            route: o.decision.route,
            language: s.language,
            sentiment: Sentiment {
                label: o.assessment.sentiment.label,
                score: round(o.assessment.sentiment.score),
            },
            scores: Scores {
                toxicity: round(sc.toxicity),
                severe_toxicity: round(sc.severe_toxicity),
                insult: round(sc.insult),
                threat: round(sc.threat),
                identity_attack: round(sc.identity_attack),
                profanity: round(sc.profanity),
                spam: round(sc.spam),
                urgency: round(sc.urgency),
                troll: round(sc.troll),
                fake_account: round(sc.fake_account),
            },
            signals: SignalsOut {
                shouting: round(s.style.shouting),
                elongation: s.style.elongation,
                exclamations: s.style.exclamations,
                questions: s.style.questions,
                repetition: RepetitionOut {
                    same_author: s.repetition.same_author,
                    other_authors: s.repetition.other_authors,
                },
                account_age_days: s.account.age_days,
                has_photo: s.account.has_photo,
                few_connections: s.account.few_connections,
                few_posts: s.account.few_posts,
                empty_bio: s.account.empty_bio,
                name_suspicious: s.account.name_suspicious.map(round),
                writing_quality: round(s.writing.quality),
                answers_with_question: s.writing.answers_with_question,
                links: s.writing.links,
                profanity: s
                    .profanity
                    .iter()
                    .map(|h| ProfanityOut {
                        severity: h.severity,
                        span: h.span,
                    })
                    .collect(),
                urgency_cues: s
                    .urgency
                    .iter()
                    .map(|c| CueOut {
                        category: c.category,
                        span: c.span,
                    })
                    .collect(),
                personal_data: s.personal_data.iter().take(MAX_LISTED).cloned().collect(),
                staff_target: s
                    .staff_target
                    .as_ref()
                    .map(|t| StaffTargetOut { span: t.span }),
            },
            reasons: o
                .decision
                .reasons
                .into_iter()
                .map(|r| Reason {
                    weight: round(r.weight),
                    ..r
                })
                .collect(),
            recommendations: o.decision.recommendations,
            incident_id: o.decision.incident,
            intents: o
                .decision
                .intents
                .into_iter()
                .map(|i| IntentScore {
                    score: round(i.score),
                    ..i
                })
                .collect(),
            respond_by: o.respond_by,
            truncated: o.truncated,
            case_id: o.case_id,
            policy: PolicyRef {
                name: o.policy_name,
                version: o.policy_version,
            },
            transformer: o.transformer.map(|t| TransformerOut {
                model: t.model,
                status: t.status,
                truncated: t.truncated,
            }),
            model_version: o.model_version,
            took_ms: (o.took.as_secs_f64() * 1e6).round() / 1e3,
        }
    }
}

/// `POST /v1/score:batch`: each item is checked alone, so one bad item fails alone.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BatchRequest {
    #[schema(value_type = Vec<ScoreRequest>, max_items = 256)]
    pub items: Vec<Value>,
}

/// The answers to a batch, in the order of its items.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResponse {
    pub items: Vec<BatchItem>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum BatchItem {
    Scored(Box<ScoreResponse>),
    Failed(ItemError),
}

/// A line or batch item that could not be scored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemError {
    /// The item's `id` when it had a usable one, else null.
    #[schema(value_type = Option<String>)]
    pub id: Value,
    pub error: ErrorBody,
}

impl ItemError {
    pub fn new(id: Value, error: &ApiError) -> Self {
        Self {
            id,
            error: error.body(),
        }
    }
}
