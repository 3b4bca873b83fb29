//! The embedded SQLite backend of the register.

use std::str::FromStr;

use chrono::Utc;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use super::{NewCase, RegisterError};
use crate::domain::Action;
use crate::policy::AuthorHistory;

#[derive(Debug, Clone)]
pub struct Sqlite {
    pool: SqlitePool,
}

impl Sqlite {
    pub async fn connect(url: &str) -> Result<Self, RegisterError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { 4 })
            .connect_with(options)
            .await?;
        sqlx::migrate!("src/register/migrations/sqlite")
            .run(&pool)
            .await?;
        Ok(Self { pool })
    }

    pub async fn ping(&self) -> Result<(), RegisterError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn author_history(&self, author_id: &str) -> Result<AuthorHistory, RegisterError> {
        let removed: Option<i64> =
            sqlx::query_scalar("SELECT hidden + deleted + blocked FROM author WHERE id = ?")
                .bind(author_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(AuthorHistory {
            removed: removed.unwrap_or(0).clamp(0, u32::MAX.into()) as u32,
        })
    }

    pub async fn record(&self, case: &NewCase<'_>) -> Result<i64, RegisterError> {
        let now = Utc::now().to_rfc3339();
        let mut tx = self.pool.begin().await?;
        if let Some(author) = case.author_id {
            let seen = "INSERT INTO author (id, first_seen, last_seen) VALUES (?, ?, ?) \
                        ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen";
            sqlx::query(seen)
                .bind(author)
                .bind(&now)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
        }
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO moderation_case (comment_id, channel, thread_id, author_id, language, text, action, priority, \
             route, scores, sentiment, signals, reasons, policy_name, policy_version, model_version, created_at, recorded_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (comment_id) DO NOTHING RETURNING id",
        )
        .bind(case.comment_id)
        .bind(case.channel)
        .bind(case.thread_id)
        .bind(case.author_id)
        .bind(case.signals.language.as_str())
        .bind(case.text)
        .bind(case.action.as_str())
        .bind(case.priority.as_str())
        .bind(case.route.map(|r| r.as_str()))
        .bind(serde_json::to_string(case.scores)?)
        .bind(serde_json::to_string(case.sentiment)?)
        .bind(serde_json::to_string(case.signals)?)
        .bind(serde_json::to_string(case.reasons)?)
        .bind(case.policy_name)
        .bind(case.policy_version)
        .bind(case.model_version)
        .bind(case.created_at.to_rfc3339())
        .bind(&now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = inserted else {
            tx.rollback().await?;
            let existing =
                sqlx::query_scalar("SELECT id FROM moderation_case WHERE comment_id = ?")
                    .bind(case.comment_id)
                    .fetch_one(&self.pool)
                    .await?;
            return Ok(existing);
        };
        if let Some(author) = case.author_id {
            let count = match case.action {
                Action::Allow => "UPDATE author SET cases = cases + 1 WHERE id = ?",
                Action::Prioritize => {
                    "UPDATE author SET cases = cases + 1, prioritized = prioritized + 1 WHERE id = ?"
                }
                Action::Review => {
                    "UPDATE author SET cases = cases + 1, reviewed = reviewed + 1 WHERE id = ?"
                }
                Action::Hide => {
                    "UPDATE author SET cases = cases + 1, hidden = hidden + 1 WHERE id = ?"
                }
                Action::Delete => {
                    "UPDATE author SET cases = cases + 1, deleted = deleted + 1 WHERE id = ?"
                }
                Action::BlockAuthor => {
                    "UPDATE author SET cases = cases + 1, blocked = blocked + 1 WHERE id = ?"
                }
            };
            sqlx::query(count).bind(author).execute(&mut *tx).await?;
        }
        let detail = serde_json::json!({
            "action": case.action, "priority": case.priority, "route": case.route,
            "policy": {"name": case.policy_name, "version": case.policy_version},
            "model_version": case.model_version,
        });
        sqlx::query("INSERT INTO audit (case_id, kind, actor, at, detail) VALUES (?, 'scored', 'seula', ?, ?)")
            .bind(id)
            .bind(&now)
            .bind(detail.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }
}
