//! The register of difficult cases: the only module that speaks SQL.
//!
//! Every non-`allow` decision and every `urgent` item becomes a case with its text (personal data
//! masked), signals, scores, reasons, reply-time target, and the policy and model versions it was decided on; its author's counts and
//! an audit row are written in the same transaction. A comment id is recorded once: scoring it
//! again returns the existing case. Callers see only [`Register`] and plain types.
//!
//! Two backends sit behind it, chosen by the URL's scheme: embedded SQLite (`sqlite://PATH`,
//! `sqlite::memory:`) and PostgreSQL (`postgres://…`, `postgresql://…`). Each has its own
//! migration folder (`migrations/sqlite`, `migrations/postgres`) and its own way of opening
//! (`sqlite.rs`, `postgres.rs`); the queries are written once, in `store.rs`, generic over the
//! driver.

mod postgres;
mod sqlite;
mod store;

use chrono::{DateTime, Utc};
use sqlx::{Database, Postgres, Sqlite};

use crate::domain::{Action, Priority, Reason, Route};
use crate::policy::AuthorHistory;
use crate::scoring::{Scores, Sentiment};
use crate::signals::Signals;
use store::Store;

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The URL's scheme (only the scheme: the rest may hold a password).
    #[error("unsupported register URL scheme {0:?}: use sqlite://PATH or postgres://…")]
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
    /// The comment's text with personal data masked: the register never holds the raw values.
    pub text: String,
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
    pub respond_by: Option<DateTime<Utc>>,
    /// Hidden only to protect the author's personal data: not counted against them.
    pub protective: bool,
}

/// Whether a decision goes into the register.
pub fn is_recorded(action: Action, priority: Priority) -> bool {
    action != Action::Allow || priority == Priority::Urgent
}

#[derive(Debug, Clone)]
pub struct Register {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(Store<Sqlite>),
    Postgres(Store<Postgres>),
}

impl Register {
    /// Opens (creating if needed) and migrates the register at `url`; its scheme picks the backend.
    pub async fn connect(url: &str) -> Result<Self, RegisterError> {
        let scheme = url.split(':').next().unwrap_or_default();
        let backend = if Sqlite::URL_SCHEMES.contains(&scheme) {
            Backend::Sqlite(sqlite::connect(url).await?)
        } else if Postgres::URL_SCHEMES.contains(&scheme) {
            Backend::Postgres(postgres::connect(url).await?)
        } else {
            return Err(RegisterError::UnsupportedUrl(scheme.to_string()));
        };
        Ok(Self { backend })
    }

    /// Records the case, or finds the one already recorded for this comment id. Returns its id.
    pub async fn record(&self, case: &NewCase<'_>) -> Result<i64, RegisterError> {
        match &self.backend {
            Backend::Sqlite(store) => store.record(case).await,
            Backend::Postgres(store) => store.record(case).await,
        }
    }

    /// What the register knows of the author: cases hidden, deleted or blocked so far.
    pub async fn author_history(&self, author_id: &str) -> Result<AuthorHistory, RegisterError> {
        match &self.backend {
            Backend::Sqlite(store) => store.author_history(author_id).await,
            Backend::Postgres(store) => store.author_history(author_id).await,
        }
    }

    /// How many open cases are past their reply-time target at `now`.
    pub async fn overdue(&self, now: DateTime<Utc>) -> Result<i64, RegisterError> {
        match &self.backend {
            Backend::Sqlite(store) => store.overdue(now).await,
            Backend::Postgres(store) => store.overdue(now).await,
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), RegisterError> {
        match &self.backend {
            Backend::Sqlite(store) => store.ping().await,
            Backend::Postgres(store) => store.ping().await,
        }
    }
}
