//! The register's queries, written once and run on either backend.
//!
//! [`Store`] is generic over the sqlx [`Database`], so `record`, `author_history` and `ping`
//! exist once and are compiled for SQLite and for PostgreSQL. This works because the SQL is
//! common to both: `$N` placeholders (SQLite binds `$N` by number as PostgreSQL does),
//! `ON CONFLICT … DO NOTHING/UPDATE` and `RETURNING`. Values are bound as Rust types, and each
//! driver stores them in its own column types: timestamps as RFC 3339 text in SQLite and
//! `TIMESTAMPTZ` in PostgreSQL, JSON as text and `JSONB`. The `where` clause below lists exactly
//! what the queries need from a driver.
//!
//! Two other designs were weighed. sqlx's `Any` driver would also share the SQL, but it can only
//! bind integers, floats, text and bytes, so PostgreSQL would have to store timestamps and JSON
//! as text. Two backend files sharing only the SQL strings would still repeat every `bind` chain
//! and the transaction logic. What differs between backends is only how they are opened:
//! `sqlite.rs` and `postgres.rs`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::{Json, JsonRawValue};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};

use super::{NewCase, RegisterError};
use crate::domain::Action;
use crate::policy::AuthorHistory;

/// A JSON value serialised once, bound as text (SQLite) or `JSONB` (PostgreSQL). Raw, not a
/// `serde_json::Value`, so fields keep their declared order in SQLite's text.
type JsonText = Json<Box<JsonRawValue>>;

fn json(value: &(impl Serialize + ?Sized)) -> Result<JsonText, serde_json::Error> {
    serde_json::value::to_raw_value(value).map(Json)
}

#[derive(Debug)]
pub struct Store<DB: Database> {
    pool: Pool<DB>,
}

// Not derived: the derive would ask `DB: Clone`, which the driver types are not.
impl<DB: Database> Clone for Store<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
        }
    }
}

impl<DB> Store<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    i64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    DateTime<Utc>: for<'q> Encode<'q, DB> + Type<DB>,
    Option<DateTime<Utc>>: for<'q> Encode<'q, DB>,
    JsonText: for<'q> Encode<'q, DB> + Type<DB>,
{
    /// Wraps a pool whose database is already migrated.
    pub fn new(pool: Pool<DB>) -> Self {
        Self { pool }
    }

    pub async fn ping(&self) -> Result<(), RegisterError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn author_history(&self, author_id: &str) -> Result<AuthorHistory, RegisterError> {
        let removed: Option<i64> =
            sqlx::query_scalar("SELECT hidden + deleted + blocked FROM author WHERE id = $1")
                .bind(author_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(AuthorHistory {
            removed: removed.unwrap_or(0).clamp(0, u32::MAX.into()) as u32,
        })
    }

    pub async fn record(&self, case: &NewCase<'_>) -> Result<i64, RegisterError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        if let Some(author) = case.author_id {
            let seen = "INSERT INTO author (id, first_seen, last_seen) VALUES ($1, $2, $2) \
                        ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen";
            sqlx::query(seen)
                .bind(author)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO moderation_case (comment_id, channel, thread_id, author_id, language, text, action, priority, \
             route, scores, sentiment, signals, reasons, policy_name, policy_version, model_version, created_at, recorded_at, \
             respond_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
             ON CONFLICT (comment_id) DO NOTHING RETURNING id",
        )
        .bind(case.comment_id)
        .bind(case.channel)
        .bind(case.thread_id)
        .bind(case.author_id)
        .bind(case.signals.language.as_str())
        .bind(case.text.as_str())
        .bind(case.action.as_str())
        .bind(case.priority.as_str())
        .bind(case.route.map(|r| r.as_str()))
        .bind(json(case.scores)?)
        .bind(json(case.sentiment)?)
        .bind(json(case.signals)?)
        .bind(json(case.reasons)?)
        .bind(case.policy_name)
        .bind(i64::from(case.policy_version))
        .bind(case.model_version)
        .bind(case.created_at)
        .bind(now)
        .bind(case.respond_by)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = inserted else {
            tx.rollback().await?;
            let existing =
                sqlx::query_scalar("SELECT id FROM moderation_case WHERE comment_id = $1")
                    .bind(case.comment_id)
                    .fetch_one(&self.pool)
                    .await?;
            return Ok(existing);
        };
        if let Some(author) = case.author_id {
            let count = match case.action {
                _ if case.protective => {
                    "UPDATE author SET cases = cases + 1, protected = protected + 1 WHERE id = $1"
                }
                Action::Allow => "UPDATE author SET cases = cases + 1 WHERE id = $1",
                Action::Prioritize => {
                    "UPDATE author SET cases = cases + 1, prioritized = prioritized + 1 WHERE id = $1"
                }
                Action::Review => {
                    "UPDATE author SET cases = cases + 1, reviewed = reviewed + 1 WHERE id = $1"
                }
                Action::Hide => {
                    "UPDATE author SET cases = cases + 1, hidden = hidden + 1 WHERE id = $1"
                }
                Action::Delete => {
                    "UPDATE author SET cases = cases + 1, deleted = deleted + 1 WHERE id = $1"
                }
                Action::BlockAuthor => {
                    "UPDATE author SET cases = cases + 1, blocked = blocked + 1 WHERE id = $1"
                }
            };
            sqlx::query(count).bind(author).execute(&mut *tx).await?;
        }
        let detail = serde_json::json!({
            "action": case.action, "priority": case.priority, "route": case.route,
            "policy": {"name": case.policy_name, "version": case.policy_version},
            "model_version": case.model_version,
        });
        sqlx::query("INSERT INTO audit (case_id, kind, actor, at, detail) VALUES ($1, 'scored', 'seula', $2, $3)")
            .bind(id)
            .bind(now)
            .bind(json(&detail)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Open cases whose reply was due before `now`.
    pub async fn overdue(&self, now: DateTime<Utc>) -> Result<i64, RegisterError> {
        let count = sqlx::query_scalar(
            "SELECT COUNT(*) FROM moderation_case WHERE status = 'open' AND respond_by < $1",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(count)
    }
}
