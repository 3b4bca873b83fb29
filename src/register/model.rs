//! What the register gives back: cases, decisions, authors and audit entries as stored, and the
//! filters and decisions it takes. The read shapes serialise as the register API's JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;

use crate::domain::{Action, Priority, Route};

/// A case as the queue lists it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CaseSummary {
    pub id: i64,
    pub comment_id: String,
    pub channel: Option<String>,
    pub thread_id: Option<String>,
    pub author_id: Option<String>,
    pub language: String,
    /// Personal data masked.
    pub text: String,
    /// The automated action the case was recorded with.
    pub action: String,
    /// The action in force: the automated one until a moderator decides.
    pub outcome: String,
    pub priority: String,
    pub route: Option<String>,
    /// `open` or `decided`.
    pub status: String,
    #[schema(value_type = crate::scoring::Scores)]
    pub scores: Json<Value>,
    #[schema(value_type = Vec<crate::domain::Reason>)]
    pub reasons: Json<Value>,
    pub created_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub respond_by: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTime<Utc>>,
    /// Null, or why the text is gone: `erasure` (the author's data erased) or `retention`
    /// (older than its channel keeps texts).
    pub text_removed: Option<String>,
    /// The incident it is part of.
    pub incident_id: Option<i64>,
}

/// The fields of a case beyond its summary: the evidence a moderator decides on.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CaseEvidence {
    #[schema(value_type = crate::scoring::Sentiment)]
    pub sentiment: Json<Value>,
    /// The signals behind the scores, as the pipeline found them.
    #[schema(value_type = Object)]
    pub signals: Json<Value>,
    /// Advice recorded with the decision: `move_to_private_messages`, `supervisor_replies`.
    #[schema(value_type = Vec<crate::domain::Recommendation>)]
    pub recommendations: Json<Value>,
    pub policy_name: String,
    pub policy_version: i64,
    pub model_version: String,
    pub protective: bool,
}

/// One case with all its evidence, its decisions, its thread and its author.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseSummary,
    #[serde(flatten)]
    pub evidence: CaseEvidence,
    /// Every decision so far, oldest first.
    pub decisions: Vec<DecisionRecord>,
    /// Other recorded cases of the same thread, oldest first.
    pub thread: Vec<CaseSummary>,
    pub author: Option<AuthorSummary>,
    /// The case's audit entries, oldest first.
    pub audit: Vec<AuditEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DecisionRecord {
    pub id: i64,
    pub case_id: i64,
    pub decision: String,
    pub moderator: String,
    pub note: Option<String>,
    pub route: Option<String>,
    #[schema(value_type = Object)]
    pub labels: Json<Value>,
    pub decided_at: DateTime<Utc>,
}

/// An author's counts and standing.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuthorSummary {
    pub id: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub cases: i64,
    pub prioritized: i64,
    pub reviewed: i64,
    pub hidden: i64,
    pub deleted: i64,
    /// Cases whose automated action was `block_author`.
    pub blocked_cases: i64,
    /// Cases hidden only to protect the author's own personal data.
    pub protected: i64,
    /// Whether any of the author's cases has the outcome `block_author`.
    pub blocked: bool,
}

/// An author with every case of theirs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuthorDetail {
    #[serde(flatten)]
    pub author: AuthorSummary,
    pub cases_list: Vec<CaseSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub case_id: Option<i64>,
    /// `scored`, `claimed`, `decided`.
    pub kind: String,
    /// `seula` for automated actions, otherwise the API key's name.
    pub actor: String,
    pub at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub detail: Json<Value>,
}

/// A moderator's verdict on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    Hide,
    Delete,
    BlockAuthor,
    /// Hand the case on (to its route or another): it stays open.
    Escalate,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Hide => "hide",
            Verdict::Delete => "delete",
            Verdict::BlockAuthor => "block_author",
            Verdict::Escalate => "escalate",
        }
    }

    /// The action a verdict puts in force; escalating keeps the one there is.
    pub fn action(self) -> Option<Action> {
        match self {
            Verdict::Allow => Some(Action::Allow),
            Verdict::Hide => Some(Action::Hide),
            Verdict::Delete => Some(Action::Delete),
            Verdict::BlockAuthor => Some(Action::BlockAuthor),
            Verdict::Escalate => None,
        }
    }
}

/// A decision as a moderator sends it.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDecision {
    pub decision: Verdict,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub route: Option<Route>,
    /// Labels for retraining, in the training data's names (`toxicity: true`, `label: "negative"`).
    #[serde(default)]
    pub labels: serde_json::Map<String, Value>,
}

/// Which cases to list; every field narrows the list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    pub status: Option<Status>,
    pub action: Option<Action>,
    pub priority: Option<Priority>,
    pub channel: Option<String>,
    pub route: Option<Route>,
    pub author: Option<String>,
    /// Cases of this incident.
    pub incident: Option<i64>,
    /// Recorded at or after.
    pub since: Option<DateTime<Utc>>,
    /// Recorded before.
    pub until: Option<DateTime<Utc>>,
    /// Text containing this (case-insensitive for ASCII letters on SQLite, all letters on PostgreSQL).
    pub text: Option<String>,
    /// Minimum scores: (score name from `Scores::NAMES`, threshold).
    pub min_scores: Vec<(&'static str, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Decided,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Decided => "decided",
        }
    }
}

/// Where a page of the queue starts: after this position in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The moment the listing started: which cases are overdue is judged at it on every page.
    pub now: DateTime<Utc>,
    pub late: i64,
    pub rank: i64,
    pub recorded_at: DateTime<Utc>,
    pub id: i64,
}

/// One page of the queue and the cursor of the next, if there is more.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl Cursor {
    /// An opaque token: the position as nanosecond timestamps and integers.
    pub fn encode(&self) -> String {
        let nanos = |t: DateTime<Utc>| t.timestamp_nanos_opt().unwrap_or_default();
        format!(
            "{}.{}.{}.{}.{}",
            nanos(self.now),
            self.late,
            self.rank,
            nanos(self.recorded_at),
            self.id
        )
    }

    /// The position of `case` in the queue ordered at `now`.
    pub fn after(case: &CaseSummary, now: DateTime<Utc>) -> Self {
        Self {
            now,
            late: i64::from(!is_late(case, now)),
            rank: priority_rank(&case.priority),
            recorded_at: case.recorded_at,
            id: case.id,
        }
    }

    pub fn decode(token: &str) -> Option<Self> {
        let parts: Vec<i64> = token
            .split('.')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        let [now, late, rank, recorded_at, id] = parts[..] else {
            return None;
        };
        Some(Self {
            now: DateTime::from_timestamp_nanos(now),
            late,
            rank,
            recorded_at: DateTime::from_timestamp_nanos(recorded_at),
            id,
        })
    }
}

/// An open case past its reply-time target at `now`.
pub fn is_late(case: &CaseSummary, now: DateTime<Utc>) -> bool {
    case.status == Status::Open.as_str() && case.respond_by.is_some_and(|t| t < now)
}

/// The queue's order of priorities, most pressing first; the SQL in `store.rs` says the same.
pub fn priority_rank(priority: &str) -> i64 {
    match priority {
        "urgent" => 0,
        "high" => 1,
        "normal" => 2,
        _ => 3,
    }
}

/// A claim that another moderator holds.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Claim {
    pub case_id: i64,
    pub claimed_by: String,
    pub claimed_until: DateTime<Utc>,
}

/// A decided case with its latest decision, as `seula export-labels` writes it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LabelledCase {
    pub comment_id: String,
    /// Personal data masked.
    pub text: String,
    pub language: String,
    pub channel: Option<String>,
    pub decision: String,
    pub labels: Json<serde_json::Map<String, Value>>,
    pub decided_at: DateTime<Utc>,
}

/// One stored version of a policy.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PolicyVersion {
    pub name: String,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Why it was made.
    pub note: Option<String>,
    /// Whether this is the version in force.
    pub active: bool,
}

/// A recorded case as a replay reads it; [`RecordedRow::into_recorded`] checks its words.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordedRow {
    pub id: i64,
    pub channel: Option<String>,
    pub action: String,
    pub priority: String,
    pub route: Option<String>,
    pub scores: Json<crate::scoring::Scores>,
    pub signals: Json<crate::signals::Signals>,
    pub author_removed: i64,
    /// The outcome moderators decided, for decided cases.
    pub moderator: Option<String>,
}

impl RecordedRow {
    /// The case for replay, or `None` if a stored word is not one of ours.
    pub fn into_recorded(self) -> Option<crate::policy::replay::Recorded> {
        fn word<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
            serde_json::from_value(Value::String(s.to_string())).ok()
        }
        Some(crate::policy::replay::Recorded {
            id: self.id,
            channel: self.channel,
            action: word(&self.action)?,
            priority: word(&self.priority)?,
            route: match self.route {
                Some(r) => Some(word(&r)?),
                None => None,
            },
            scores: self.scores.0,
            signals: self.signals.0,
            history: crate::policy::AuthorHistory {
                removed: u32::try_from(self.author_removed).unwrap_or(u32::MAX),
            },
            moderator: match self.moderator {
                Some(m) => Some(word(&m)?),
                None => None,
            },
        })
    }
}

/// The parts of a case that quote its text, for erasure and retention.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuotingRow {
    pub id: i64,
    pub channel: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub signals: Json<Value>,
    pub reasons: Json<Value>,
}

/// What erasing an author removed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    /// Cases whose text, quoted words, comment id and author were removed.
    pub cases: usize,
    /// Decisions on those cases whose note was removed.
    pub notes: usize,
    pub erased_by: String,
    pub erased_at: DateTime<Utc>,
}

/// Everything the register holds of one author (`seula export-author`): their counts and each of
/// their cases with its evidence, decisions and audit; other authors' cases in the same thread
/// are left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthorExport {
    pub author: AuthorSummary,
    pub cases: Vec<CaseDetail>,
}

/// One notification in the outbox, as `GET /v1/notifications` lists it. The target's secret is
/// never shown, nor the path and query of its address (a chat webhook's address is its key).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub case_id: i64,
    /// What happened: `urgent_case`, `escalation`, `legal`, `security`, `churn`,
    /// `sales_lead`, `product_idea`.
    pub event: String,
    /// The policy's name for the target.
    pub target: String,
    /// The target's scheme, host and port when the delivery was written.
    pub origin: String,
    /// Sent as the `Idempotency-Key` header: the same on every attempt, so a receiver drops repeats.
    pub idempotency_key: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts since it was queued (a retry by hand starts again at 0); `attempt_log` keeps
    /// every one.
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    /// When a pending delivery is next tried.
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Every attempt, oldest first.
    #[sqlx(skip)]
    pub attempt_log: Vec<Attempt>,
}

/// One try at sending a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Attempt {
    #[serde(skip)]
    pub delivery_id: i64,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status; none when no answer came.
    pub http_status: Option<i64>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    pub millis: i64,
}

/// A delivery due to be sent, with what its body is made of: the case as recorded (text
/// masked, or removed by erasure or retention).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueDelivery {
    pub id: i64,
    pub case_id: i64,
    pub event: String,
    /// The target's name: its address, format and secret are the policy's in force.
    pub target: String,
    pub idempotency_key: String,
    pub attempts: i64,
    pub comment_id: String,
    pub channel: Option<String>,
    pub action: String,
    pub priority: String,
    pub route: Option<String>,
    pub text: String,
    pub respond_by: Option<DateTime<Utc>>,
    pub reasons: Json<Value>,
    pub incident_id: Option<i64>,
    pub incident_title: Option<String>,
}

/// One attempt as it went, and so what becomes of its delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Tried {
    pub at: DateTime<Utc>,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub millis: i64,
    pub then: Then,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Then {
    Delivered,
    RetryAt(DateTime<Utc>),
    /// No attempts left.
    Failed,
}

/// An incident: many authors reporting one problem within a window.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Incident {
    pub id: i64,
    /// The category and tying words until a moderator renames it.
    pub title: String,
    /// `open`, `closed`, or `merged` into `merged_into`.
    pub status: String,
    pub merged_into: Option<i64>,
    /// The urgency category of its reports: `outage`, `money`, …
    pub category: Option<String>,
    /// The words that tie its reports together, the most carried first.
    #[schema(value_type = Vec<String>)]
    pub words: Json<Vec<String>>,
    #[schema(value_type = Vec<String>)]
    pub channels: Json<Vec<String>>,
    /// Comments that made or joined it.
    pub reports: i64,
    /// Different authors when it opened.
    pub authors: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Cases linked to it.
    pub cases: i64,
    /// A few of its cases, the first linked first.
    #[sqlx(skip)]
    pub sample_cases: Vec<i64>,
}

/// An incident with its cases, newest first (at most 200).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub incident: Incident,
    pub case_list: Vec<CaseSummary>,
}

/// An incident as it opens: what its reports share, from the memory that found it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIncident<'a> {
    pub title: String,
    pub category: Option<&'a str>,
    pub words: &'a [String],
    pub channels: &'a [String],
    pub reports: u32,
    pub authors: u32,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Earlier reports' cases, linked to it as it opens.
    pub cases: &'a [i64],
}

/// A moderator's change of an incident: a new title, closing it or opening it again.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentChange {
    #[serde(default)]
    pub title: Option<String>,
    /// `open` or `closed`.
    #[serde(default)]
    pub status: Option<String>,
}

/// A case as the trends read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrendRow {
    pub recorded_at: DateTime<Utc>,
    pub action: String,
    pub priority: String,
    pub route: Option<String>,
    pub channel: Option<String>,
    pub sentiment: Json<Value>,
    pub intents: Option<Json<Vec<String>>>,
    pub respond_by: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
}

impl From<TrendRow> for crate::stats::Row {
    fn from(r: TrendRow) -> Self {
        Self {
            recorded_at: r.recorded_at,
            action: r.action,
            priority: r.priority,
            route: r.route,
            channel: r.channel,
            sentiment: r.sentiment.0["label"].as_str().map(String::from),
            intents: r.intents.map(|i| i.0),
            respond_by: r.respond_by,
            answered_at: r.answered_at,
        }
    }
}

/// What a report joining an incident needs of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncidentLink {
    pub id: i64,
    pub status: String,
    pub merged_into: Option<i64>,
    pub channels: Json<Vec<String>>,
}
