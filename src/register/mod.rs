//! The register of difficult cases: the only module that speaks SQL.
//!
//! Every non-`allow` decision and every `urgent` item becomes a case with its text, signals,
//! scores, reasons, and the policy and model versions it was decided on; its author's counts and
//! an audit row are written in the same transaction. A comment id is recorded once: scoring it
//! again returns the existing case. Callers see only [`Register`] and plain types; the backend
//! (embedded SQLite today) stays behind it, so PostgreSQL can be added here alone.

mod sqlite;

use chrono::{DateTime, Utc};

use crate::domain::{Action, Priority, Reason, Route};
use crate::policy::AuthorHistory;
use crate::scoring::{Scores, Sentiment};
use crate::signals::Signals;

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("unsupported register URL {0:?}: use sqlite://PATH (PostgreSQL is not built yet)")]
    UnsupportedUrl(String),
    #[error("register database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("register migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("register data: {0}")]
    Encoding(#[from] serde_json::Error),
}

/// Everything a case records about one decision.
#[derive(Debug, Clone)]
pub struct NewCase<'a> {
    pub comment_id: &'a str,
    pub channel: Option<&'a str>,
    pub thread_id: Option<&'a str>,
    pub author_id: Option<&'a str>,
    pub text: &'a str,
    pub action: Action,
    pub priority: Priority,
    pub route: Option<Route>,
    pub scores: &'a Scores,
    pub sentiment: &'a Sentiment,
    pub signals: &'a Signals,
    pub reasons: &'a [Reason],
    pub policy_name: &'a str,
    pub policy_version: u32,
    pub model_version: &'a str,
    pub created_at: DateTime<Utc>,
}

/// Whether a decision goes into the register.
pub fn is_recorded(action: Action, priority: Priority) -> bool {
    action != Action::Allow || priority == Priority::Urgent
}

#[derive(Debug, Clone)]
pub struct Register {
    backend: sqlite::Sqlite,
}

impl Register {
    /// Opens (creating if needed) and migrates the register at `url`.
    pub async fn connect(url: &str) -> Result<Self, RegisterError> {
        if url.starts_with("sqlite:") {
            Ok(Self {
                backend: sqlite::Sqlite::connect(url).await?,
            })
        } else {
            Err(RegisterError::UnsupportedUrl(url.to_string()))
        }
    }

    /// Records the case, or finds the one already recorded for this comment id. Returns its id.
    pub async fn record(&self, case: &NewCase<'_>) -> Result<i64, RegisterError> {
        self.backend.record(case).await
    }

    pub async fn author_history(&self, author_id: &str) -> Result<AuthorHistory, RegisterError> {
        self.backend.author_history(author_id).await
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), RegisterError> {
        self.backend.ping().await
    }
}
