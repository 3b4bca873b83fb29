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
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Postgres,
    QueryBuilder, Sqlite, Type,
};

use super::model::{
    Attempt, AuditEntry, AuthorDetail, AuthorExport, AuthorSummary, CaseDetail, CaseEvidence,
    CaseFilter, CaseSummary, Claim, Cursor, DecisionRecord, Delivery, DueDelivery, Erasure,
    Incident, IncidentChange, IncidentDetail, IncidentLink, LabelledCase, NewDecision, NewIncident,
    Page, PolicyVersion, QuotingRow, RecordedRow, Status, Then, TrendRow, Tried, Verdict,
};
use super::{NewCase, RegisterError};
use crate::domain::{Action, Route};
use crate::policy::notify::{self, Event, Notice};
use crate::policy::{AuthorHistory, DEFAULT, Policies, Source, Sources};

/// What the two backends spell differently, for the few queries that need it.
pub trait Dialect {
    /// `LIKE` that ignores case.
    const LIKE: &'static str;
    /// Begins a transaction that writes. SQLite must take its write lock at the start: a
    /// transaction that reads first and writes later fails with "database is locked" when
    /// another connection wrote in between.
    const BEGIN_WRITE: &'static str;
    /// Appended to a `SELECT` of the row a transaction will change: PostgreSQL's row lock, so
    /// that concurrent changes of one case queue behind each other. SQLite needs none: its
    /// write transactions already run one at a time.
    const LOCK_ROW: &'static str;
    /// Appended to the `SELECT` of rows to lease: PostgreSQL locks them and passes over rows
    /// another server is leasing, so two senders take different rows at once. SQLite's writes
    /// run one at a time and need none.
    const SKIP_LOCKED: &'static str;
    /// Run after texts were removed, outside any transaction, so that the removed bytes leave the
    /// database files: SQLite (which zeroes freed space, `secure_delete`) empties its
    /// write-ahead log; PostgreSQL vacuums the tables the texts were in.
    const COMPACT: &'static str;
    /// The number stored under `key` in the JSON column `column`; `key` is one of ours, never input.
    fn json_number(column: &str, key: &str) -> String;
}

impl Dialect for Sqlite {
    const LIKE: &'static str = "LIKE";
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const LOCK_ROW: &'static str = "";
    const SKIP_LOCKED: &'static str = "";
    const COMPACT: &'static str = "PRAGMA wal_checkpoint(TRUNCATE)";
    fn json_number(column: &str, key: &str) -> String {
        format!("json_extract({column}, '$.{key}')")
    }
}

impl Dialect for Postgres {
    const LIKE: &'static str = "ILIKE";
    const BEGIN_WRITE: &'static str = "BEGIN";
    const LOCK_ROW: &'static str = " FOR UPDATE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const COMPACT: &'static str = "VACUUM moderation_case, decision, audit";
    fn json_number(column: &str, key: &str) -> String {
        format!("({column}->>'{key}')::float8")
    }
}

/// The columns of a [`CaseSummary`].
const CASE: &str = "id, comment_id, channel, thread_id, author_id, language, text, action, \
    outcome, priority, route, status, scores, reasons, created_at, recorded_at, respond_by, \
    answered_at, claimed_by, claimed_until, text_removed, incident_id";

/// The columns of an [`Incident`], its count of cases included.
const INCIDENT: &str = "id, title, status, merged_into, category, words, channels, reports, \
    authors, first_seen, last_seen, opened_at, closed_at, \
    (SELECT COUNT(*) FROM moderation_case c WHERE c.incident_id = incident.id) AS cases";

/// The columns of a [`Delivery`].
const DELIVERY: &str = "id, case_id, event, target, origin, idempotency_key, status, attempts, \
    created_at, next_attempt_at, delivered_at";

/// The queue's order: overdue open cases first, then by priority, then oldest first. The late
/// flag needs the listing's `now` bound where it is marked `{now}`.
const LATE: &str = "CASE WHEN status = 'open' AND respond_by < {now} THEN 0 ELSE 1 END";
const RANK: &str =
    "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END";

/// One row of the append-only audit log, written in the transaction of what it records.
struct AuditRow<'a> {
    case_id: Option<i64>,
    /// `scored`, `claimed`, `decided`, `policy_version`, `policy_activated`.
    kind: &'a str,
    actor: &'a str,
    at: DateTime<Utc>,
    detail: serde_json::Value,
}

/// The outcomes that take a comment off the public page.
const REMOVED: &str = "('hide', 'delete', 'block_author')";

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
    DB: Database + Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB> + Default,
    for<'r> CaseSummary: FromRow<'r, DB::Row>,
    for<'r> CaseEvidence: FromRow<'r, DB::Row>,
    for<'r> DecisionRecord: FromRow<'r, DB::Row>,
    for<'r> AuthorSummary: FromRow<'r, DB::Row>,
    for<'r> AuditEntry: FromRow<'r, DB::Row>,
    for<'r> LabelledCase: FromRow<'r, DB::Row>,
    for<'r> PolicyVersion: FromRow<'r, DB::Row>,
    for<'r> RecordedRow: FromRow<'r, DB::Row>,
    for<'r> QuotingRow: FromRow<'r, DB::Row>,
    for<'r> Delivery: FromRow<'r, DB::Row>,
    for<'r> DueDelivery: FromRow<'r, DB::Row>,
    for<'r> Attempt: FromRow<'r, DB::Row>,
    for<'r> Incident: FromRow<'r, DB::Row>,
    for<'r> TrendRow: FromRow<'r, DB::Row>,
    for<'r> IncidentLink: FromRow<'r, DB::Row>,
    String: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    DateTime<Utc>: for<'r> Decode<'r, DB>,
    f64: for<'q> Encode<'q, DB> + Type<DB>,
    bool: for<'q> Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    i64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    DateTime<Utc>: for<'q> Encode<'q, DB> + Type<DB>,
    Option<DateTime<Utc>>: for<'q> Encode<'q, DB>,
    Option<i64>: for<'q> Encode<'q, DB>,
    JsonText: for<'q> Encode<'q, DB> + Type<DB>,
{
    async fn write_audit(
        tx: &mut sqlx::Transaction<'_, DB>,
        row: AuditRow<'_>,
    ) -> Result<(), RegisterError> {
        sqlx::query(
            "INSERT INTO audit (case_id, kind, actor, at, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(row.case_id)
        .bind(row.kind)
        .bind(row.actor)
        .bind(row.at)
        .bind(json(&row.detail)?)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Wraps a pool whose database is already migrated.
    pub fn new(pool: Pool<DB>) -> Self {
        Self { pool }
    }

    pub async fn ping(&self) -> Result<(), RegisterError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn author_history(&self, author_id: &str) -> Result<AuthorHistory, RegisterError> {
        let removed: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM moderation_case WHERE author_id = $1 \
             AND outcome IN {REMOVED} AND NOT protective"
        )))
        .bind(author_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(AuthorHistory {
            removed: removed.clamp(0, u32::MAX.into()) as u32,
        })
    }

    pub async fn record(&self, case: &NewCase<'_>) -> Result<(i64, Option<i64>), RegisterError> {
        let now = Utc::now();
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        match Self::record_in(&mut tx, case, case.incident, now).await? {
            Some(recorded) => {
                tx.commit().await?;
                Ok(recorded)
            }
            None => {
                tx.rollback().await?;
                Ok((self.case_of_comment(case.comment_id).await?, None))
            }
        }
    }

    async fn case_of_comment(&self, comment_id: &str) -> Result<i64, RegisterError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM moderation_case WHERE comment_id = $1")
                .bind(comment_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Records the case in `tx`, in `incident` if any: its author's counts, its audit row and
    /// its deliveries with it. Its id and the incident it joined (`incident`, or where a merge
    /// took it; none when closed), or `None` when the comment is recorded already.
    async fn record_in(
        tx: &mut sqlx::Transaction<'_, DB>,
        case: &NewCase<'_>,
        incident: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Option<(i64, Option<i64>)>, RegisterError> {
        // The incident it joins as the register has it now: merged ones forward to where they
        // went, a closed one takes no more reports. Locked, so joins count one after another.
        let incident = match incident {
            Some(id) => Self::open_target(tx, id).await?,
            None => None,
        };
        if let Some(author) = case.author_id {
            let seen = "INSERT INTO author (id, first_seen, last_seen) VALUES ($1, $2, $2) \
                        ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen";
            sqlx::query(seen)
                .bind(author)
                .bind(now)
                .execute(&mut **tx)
                .await?;
        }
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO moderation_case (comment_id, channel, thread_id, author_id, language, text, action, priority, \
             route, scores, sentiment, signals, reasons, policy_name, policy_version, model_version, created_at, recorded_at, \
             respond_by, outcome, protective, author_removed, recommendations, incident_id, intents) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $7, $20, $21, $22, $23, $24) \
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
        .bind(case.route.as_ref().map(Route::as_str))
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
        .bind(case.protective)
        .bind(i64::from(case.history.removed))
        .bind(json(case.recommendations)?)
        .bind(incident.as_ref().map(|i| i.id))
        .bind(json(&case.intents.iter().map(|i| i.intent).collect::<Vec<_>>())?)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(id) = inserted else {
            return Ok(None);
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
            sqlx::query(count).bind(author).execute(&mut **tx).await?;
        }
        let detail = serde_json::json!({
            "action": case.action, "priority": case.priority, "route": case.route,
            "policy": {"name": case.policy_name, "version": case.policy_version},
            "model_version": case.model_version,
        });
        let row = AuditRow {
            case_id: Some(id),
            kind: "scored",
            actor: "seula",
            at: now,
            detail,
        };
        Self::write_audit(tx, row).await?;
        Self::write_notices(tx, id, &format!("case-{id}"), case.notices, now).await?;
        if let Some(incident) = &incident {
            Self::joined(tx, incident, case.channel, case.created_at.max(now)).await?;
        }
        Ok(Some((id, incident.map(|i| i.id))))
    }

    /// The open incident a report of `incident` joins: itself, or where a merge took it;
    /// `None` when that is closed or gone. Its row is locked until the transaction ends.
    async fn open_target(
        tx: &mut sqlx::Transaction<'_, DB>,
        mut incident: i64,
    ) -> Result<Option<IncidentLink>, RegisterError> {
        // Merges point at an incident that was open when merged into; a few hops at most.
        for _ in 0..8 {
            let Some(link) = sqlx::query_as::<_, IncidentLink>(sqlx::AssertSqlSafe(format!(
                "SELECT id, status, merged_into, channels FROM incident WHERE id = $1{}",
                DB::LOCK_ROW
            )))
            .bind(incident)
            .fetch_optional(&mut **tx)
            .await?
            else {
                return Ok(None);
            };
            match (link.status.as_str(), link.merged_into) {
                ("open", _) => return Ok(Some(link)),
                ("merged", Some(into)) => incident = into,
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// A report joined the incident: its count, last sighting and channels.
    async fn joined(
        tx: &mut sqlx::Transaction<'_, DB>,
        incident: &IncidentLink,
        channel: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), RegisterError> {
        let mut channels = incident.channels.0.clone();
        if let Some(c) = channel.filter(|c| !channels.iter().any(|k| k == c)) {
            channels.push(c.to_string());
        }
        sqlx::query(
            "UPDATE incident SET reports = reports + 1, channels = $1, \
             last_seen = CASE WHEN last_seen < $2 THEN $2 ELSE last_seen END WHERE id = $3",
        )
        .bind(json(&channels)?)
        .bind(at)
        .bind(incident.id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The outbox rows of a case's notices, in the transaction that records what they tell
    /// of. The idempotency key names what raised them (`case-ID` or `decision-ID`), the event
    /// and the target, so writing it twice writes it once.
    async fn write_notices(
        tx: &mut sqlx::Transaction<'_, DB>,
        case_id: i64,
        origin: &str,
        notices: &[Notice],
        now: DateTime<Utc>,
    ) -> Result<(), RegisterError> {
        for notice in notices {
            let w = &notice.webhook;
            let key = format!("{origin}/{}/{}", notice.event.as_str(), w.name);
            sqlx::query(
                "INSERT INTO delivery (case_id, event, target, origin, idempotency_key, \
                 created_at, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (idempotency_key) DO NOTHING",
            )
            .bind(case_id)
            .bind(notice.event.as_str())
            .bind(w.name.as_str())
            .bind(w.origin())
            .bind(key)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    pub async fn open_incident(
        &self,
        case: &NewCase<'_>,
        incident: &NewIncident<'_>,
        notices: &[Notice],
    ) -> Result<(i64, i64), RegisterError> {
        let now = Utc::now();
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incident (title, category, words, channels, reports, authors, \
             first_seen, last_seen, opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             RETURNING id",
        )
        .bind(incident.title.as_str())
        .bind(incident.category)
        .bind(json(incident.words)?)
        .bind(json(incident.channels)?)
        .bind(i64::from(incident.reports.saturating_sub(1)))
        .bind(i64::from(incident.authors))
        .bind(incident.first_seen)
        .bind(incident.last_seen)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        // The tipping report is counted as it joins.
        let case_id = match Self::record_in(&mut tx, case, Some(id), now).await? {
            Some((case_id, _)) => case_id,
            None => {
                let existing: i64 =
                    sqlx::query_scalar("SELECT id FROM moderation_case WHERE comment_id = $1")
                        .bind(case.comment_id)
                        .fetch_one(&mut *tx)
                        .await?;
                if let Some(link) = Self::open_target(&mut tx, id).await? {
                    Self::joined(&mut tx, &link, case.channel, now).await?;
                }
                existing
            }
        };
        Self::link_in(&mut tx, id, &[incident.cases, &[case_id]].concat()).await?;
        Self::write_notices(&mut tx, case_id, &format!("incident-{id}"), notices, now).await?;
        let row = AuditRow {
            case_id: Some(case_id),
            kind: "incident_opened",
            actor: "seula",
            at: now,
            detail: serde_json::json!({
                "incident": id, "title": incident.title, "words": incident.words,
                "authors": incident.authors, "cases": incident.cases,
            }),
        };
        Self::write_audit(&mut tx, row).await?;
        tx.commit().await?;
        Ok((case_id, id))
    }

    pub async fn link_cases(&self, incident: i64, cases: &[i64]) -> Result<(), RegisterError> {
        if cases.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        // Reports of an incident merged meanwhile go where it went (a closed one keeps them).
        let mut target = incident;
        for _ in 0..8 {
            let into: Option<Option<i64>> =
                sqlx::query_scalar("SELECT merged_into FROM incident WHERE id = $1")
                    .bind(target)
                    .fetch_optional(&mut *tx)
                    .await?;
            match into.flatten() {
                Some(into) => target = into,
                None => break,
            }
        }
        Self::link_in(&mut tx, target, cases).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Links the cases that are in no incident yet.
    async fn link_in(
        tx: &mut sqlx::Transaction<'_, DB>,
        incident: i64,
        cases: &[i64],
    ) -> Result<(), RegisterError> {
        if cases.is_empty() {
            return Ok(());
        }
        let mut q = QueryBuilder::<DB>::new("UPDATE moderation_case SET incident_id = ");
        q.push_bind(incident)
            .push(" WHERE incident_id IS NULL AND id IN (");
        let mut ids = q.separated(", ");
        for id in cases {
            ids.push_bind(*id);
        }
        q.push(")");
        q.build().execute(&mut **tx).await?;
        Ok(())
    }

    pub async fn incidents(
        &self,
        status: Option<&str>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Page<Incident>, RegisterError> {
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {INCIDENT} FROM incident WHERE 1 = 1"));
        if let Some(status) = status {
            q.push(" AND status = ").push_bind(status.to_string());
        }
        if let Some(before) = before {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(
            i64::try_from(limit)
                .unwrap_or(i64::MAX - 1)
                .saturating_add(1),
        );
        let mut items = q.build_query_as::<Incident>().fetch_all(&self.pool).await?;
        let next = (items.len() > limit).then(|| {
            items.truncate(limit);
            items.last().map(|i| i.id.to_string())
        });
        for incident in &mut items {
            incident.sample_cases = sqlx::query_scalar(
                "SELECT id FROM moderation_case WHERE incident_id = $1 ORDER BY id LIMIT 5",
            )
            .bind(incident.id)
            .fetch_all(&self.pool)
            .await?;
        }
        Ok(Page {
            items,
            next: next.flatten(),
        })
    }

    pub async fn incident(&self, id: i64) -> Result<Option<IncidentDetail>, RegisterError> {
        let Some(mut incident) = sqlx::query_as::<_, Incident>(sqlx::AssertSqlSafe(format!(
            "SELECT {INCIDENT} FROM incident WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        incident.sample_cases = sqlx::query_scalar(
            "SELECT id FROM moderation_case WHERE incident_id = $1 ORDER BY id LIMIT 5",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let case_list = sqlx::query_as::<_, CaseSummary>(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE} FROM moderation_case WHERE incident_id = $1 ORDER BY id DESC LIMIT 200"
        )))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(IncidentDetail {
            incident,
            case_list,
        }))
    }

    pub async fn change_incident(
        &self,
        id: i64,
        change: &IncidentChange,
        who: &str,
    ) -> Result<bool, RegisterError> {
        let now = Utc::now();
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let closed_at = match change.status.as_deref() {
            Some("closed") => Some(now),
            _ => None,
        };
        let changed: Option<i64> = sqlx::query_scalar(
            "UPDATE incident SET title = COALESCE($1, title), status = COALESCE($2, status), \
             closed_at = CASE WHEN $2 IS NULL THEN closed_at ELSE $3 END \
             WHERE id = $4 AND status <> 'merged' RETURNING id",
        )
        .bind(change.title.as_deref().map(str::trim))
        .bind(change.status.as_deref())
        .bind(closed_at)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if changed.is_none() {
            return Ok(false);
        }
        let row = AuditRow {
            case_id: None,
            kind: "incident_changed",
            actor: who,
            at: now,
            detail: serde_json::json!({
                "incident": id, "title": change.title, "status": change.status,
            }),
        };
        Self::write_audit(&mut tx, row).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn merge_incident(
        &self,
        from: i64,
        into: i64,
        who: &str,
    ) -> Result<bool, RegisterError> {
        if from == into {
            return Ok(false);
        }
        let now = Utc::now();
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        // Both rows locked in id order, so a close or a crossing merge waits its turn.
        let statuses: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, status FROM incident WHERE id IN ($1, $2) ORDER BY id{}",
            DB::LOCK_ROW
        )))
        .bind(from)
        .bind(into)
        .fetch_all(&mut *tx)
        .await?;
        let status = |id: i64| {
            statuses
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, s)| s.as_str())
        };
        if !matches!(status(from), Some("open" | "closed")) || status(into) != Some("open") {
            return Ok(false);
        }
        let merged: Option<i64> = sqlx::query_scalar(
            "UPDATE incident SET status = 'merged', merged_into = $1, closed_at = $2 \
             WHERE id = $3 RETURNING reports",
        )
        .bind(into)
        .bind(now)
        .bind(from)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(reports) = merged else {
            return Ok(false);
        };
        sqlx::query("UPDATE moderation_case SET incident_id = $1 WHERE incident_id = $2")
            .bind(into)
            .bind(from)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE incident SET reports = reports + $1 WHERE id = $2")
            .bind(reports)
            .bind(into)
            .execute(&mut *tx)
            .await?;
        let row = AuditRow {
            case_id: None,
            kind: "incident_merged",
            actor: who,
            at: now,
            detail: serde_json::json!({ "incident": from, "into": into }),
        };
        Self::write_audit(&mut tx, row).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The newest `limit` cases recorded in `[since, until)`, and whether there were more;
    /// and the times incidents opened in it.
    pub async fn trend_rows(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<(Vec<TrendRow>, bool, Vec<DateTime<Utc>>), RegisterError> {
        let mut rows = sqlx::query_as::<_, TrendRow>(
            "SELECT recorded_at, action, priority, route, channel, sentiment, intents, \
             respond_by, answered_at FROM moderation_case \
             WHERE recorded_at >= $1 AND recorded_at < $2 \
             ORDER BY recorded_at DESC, id DESC LIMIT $3",
        )
        .bind(since)
        .bind(until)
        .bind(
            i64::try_from(limit)
                .unwrap_or(i64::MAX - 1)
                .saturating_add(1),
        )
        .fetch_all(&self.pool)
        .await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let opened = sqlx::query_scalar(
            "SELECT opened_at FROM incident WHERE opened_at >= $1 AND opened_at < $2",
        )
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        Ok((rows, more, opened))
    }

    pub async fn lease_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        token: i64,
        limit: usize,
    ) -> Result<Vec<DueDelivery>, RegisterError> {
        // The lease's condition stands in the outer `WHERE` too: PostgreSQL checks it again on a
        // row another server leased meanwhile, and skips it.
        let free = "status = 'pending' AND next_attempt_at <= $2 \
                    AND (leased_until IS NULL OR leased_until <= $2)";
        let leased: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "UPDATE delivery SET leased_until = $1, lease_token = $4 WHERE {free} AND id IN \
             (SELECT id FROM delivery WHERE {free} ORDER BY next_attempt_at, id LIMIT $3{}) \
             RETURNING id",
            DB::SKIP_LOCKED
        )))
        .bind(lease_until)
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(token)
        .fetch_all(&self.pool)
        .await?;
        if leased.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<DB>::new(
            "SELECT d.id, d.case_id, d.event, d.target, d.idempotency_key, d.attempts, \
             c.comment_id, c.channel, c.action, c.priority, c.route, c.text, c.respond_by, \
             c.reasons, c.incident_id, i.title AS incident_title \
             FROM delivery d JOIN moderation_case c ON c.id = d.case_id \
             LEFT JOIN incident i ON i.id = c.incident_id WHERE d.id IN (",
        );
        let mut ids = q.separated(", ");
        for id in leased {
            ids.push_bind(id);
        }
        q.push(") ORDER BY d.next_attempt_at, d.id");
        Ok(q.build_query_as::<DueDelivery>()
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn tried(
        &self,
        delivery_id: i64,
        token: i64,
        tried: &Tried,
    ) -> Result<bool, RegisterError> {
        let (status, next, delivered) = match tried.then {
            Then::Delivered => ("delivered", tried.at, Some(tried.at)),
            Then::RetryAt(at) => ("pending", at, None),
            Then::Failed => ("failed", tried.at, None),
        };
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        // Only the sender that still holds the lease says how it went: one whose lease ran
        // out while another sent the delivery again changes nothing. The check and the change
        // are one statement, so no other sender's lease can come between them.
        let held: Option<i64> = sqlx::query_scalar(
            "UPDATE delivery SET status = $1, attempts = attempts + 1, next_attempt_at = $2, \
             delivered_at = $3, leased_until = NULL, lease_token = NULL \
             WHERE id = $4 AND lease_token = $5 AND status = 'pending' RETURNING id",
        )
        .bind(status)
        .bind(next)
        .bind(delivered)
        .bind(delivery_id)
        .bind(token)
        .fetch_optional(&mut *tx)
        .await?;
        if held.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO delivery_attempt (delivery_id, at, http_status, error, millis) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(delivery_id)
        .bind(tried.at)
        .bind(tried.http_status)
        .bind(tried.error.as_deref())
        .bind(tried.millis)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn deliveries(
        &self,
        status: Option<&str>,
        case_id: Option<i64>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Page<Delivery>, RegisterError> {
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {DELIVERY} FROM delivery WHERE 1 = 1"));
        if let Some(status) = status {
            q.push(" AND status = ").push_bind(status.to_string());
        }
        if let Some(case_id) = case_id {
            q.push(" AND case_id = ").push_bind(case_id);
        }
        if let Some(before) = before {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1));
        let mut items = q.build_query_as::<Delivery>().fetch_all(&self.pool).await?;
        let next = (items.len() > limit).then(|| {
            items.truncate(limit);
            items.last().map(|d| d.id.to_string())
        });
        self.with_attempts(&mut items).await?;
        Ok(Page {
            items,
            next: next.flatten(),
        })
    }

    /// Fills each delivery's attempts.
    async fn with_attempts(&self, items: &mut [Delivery]) -> Result<(), RegisterError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut q = QueryBuilder::<DB>::new(
            "SELECT delivery_id, at, http_status, error, millis FROM delivery_attempt \
             WHERE delivery_id IN (",
        );
        let mut ids = q.separated(", ");
        for d in items.iter() {
            ids.push_bind(d.id);
        }
        q.push(") ORDER BY id");
        let attempts = q.build_query_as::<Attempt>().fetch_all(&self.pool).await?;
        for attempt in attempts {
            if let Some(d) = items.iter_mut().find(|d| d.id == attempt.delivery_id) {
                d.attempt_log.push(attempt);
            }
        }
        Ok(())
    }

    pub async fn retry_delivery(
        &self,
        id: i64,
        who: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>, RegisterError> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let retried: Option<i64> = sqlx::query_scalar(
            "UPDATE delivery SET status = 'pending', attempts = 0, next_attempt_at = $1, \
             leased_until = NULL, lease_token = NULL WHERE id = $2 AND status = 'failed' \
             RETURNING case_id",
        )
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(case_id) = retried else {
            return Ok(None);
        };
        let row = AuditRow {
            case_id: Some(case_id),
            kind: "delivery_retried",
            actor: who,
            at: now,
            detail: serde_json::json!({ "delivery": id }),
        };
        Self::write_audit(&mut tx, row).await?;
        tx.commit().await?;
        let mut found = sqlx::query_as::<_, Delivery>(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY} FROM delivery WHERE id = $1"
        )))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        self.with_attempts(&mut found).await?;
        Ok(found.pop())
    }

    pub async fn pending_deliveries(&self) -> Result<i64, RegisterError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM delivery WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// One page of the queue: filtered, overdue open cases first, then by priority, then oldest.
    pub async fn cases(
        &self,
        filter: &CaseFilter,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Page<CaseSummary>, RegisterError> {
        let now = after.map_or_else(Utc::now, |c| c.now);
        let mut q =
            QueryBuilder::<DB>::new(format!("SELECT {CASE} FROM moderation_case WHERE 1 = 1"));
        let mut eq = |column: &str, value: Option<String>| {
            if let Some(v) = value {
                q.push(format!(" AND {column} = ")).push_bind(v);
            }
        };
        eq("status", filter.status.map(|s| s.as_str().to_string()));
        eq("outcome", filter.action.map(|a| a.as_str().to_string()));
        eq("priority", filter.priority.map(|p| p.as_str().to_string()));
        eq("channel", filter.channel.clone());
        eq("route", filter.route.as_ref().map(Route::to_string));
        eq("author_id", filter.author.clone());
        if let Some(incident) = filter.incident {
            q.push(" AND incident_id = ").push_bind(incident);
        }
        if let Some(since) = filter.since {
            q.push(" AND recorded_at >= ").push_bind(since);
        }
        if let Some(until) = filter.until {
            q.push(" AND recorded_at < ").push_bind(until);
        }
        if let Some(text) = &filter.text {
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q.push(format!(" AND text {} ", DB::LIKE))
                .push_bind(format!("%{escaped}%"))
                .push(" ESCAPE '\\'");
        }
        for (score, min) in &filter.min_scores {
            q.push(format!(" AND {} >= ", DB::json_number("scores", score)))
                .push_bind(*min);
        }
        let late = |q: &mut QueryBuilder<DB>| {
            let (head, tail) = LATE.split_once("{now}").unwrap_or((LATE, ""));
            q.push(head).push_bind(now).push(tail);
        };
        if let Some(c) = after {
            q.push(" AND (");
            late(&mut q);
            q.push(format!(", {RANK}, recorded_at, id) > ("))
                .push_bind(c.late)
                .push(", ")
                .push_bind(c.rank)
                .push(", ")
                .push_bind(c.recorded_at)
                .push(", ")
                .push_bind(c.id)
                .push(")");
        }
        q.push(" ORDER BY ");
        late(&mut q);
        q.push(format!(", {RANK}, recorded_at, id LIMIT "))
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1));
        let mut items = q
            .build_query_as::<CaseSummary>()
            .fetch_all(&self.pool)
            .await?;
        let next = (items.len() > limit).then(|| {
            items.truncate(limit);
            items.last().map(|c| Cursor::after(c, now).encode())
        });
        Ok(Page {
            items,
            next: next.flatten(),
        })
    }

    /// A case with all its evidence, or `None`.
    pub async fn case(&self, id: i64) -> Result<Option<CaseDetail>, RegisterError> {
        let Some(case) = sqlx::query_as::<_, CaseSummary>(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE} FROM moderation_case WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let evidence = sqlx::query_as::<_, CaseEvidence>(
            "SELECT sentiment, signals, recommendations, policy_name, policy_version, \
             model_version, protective FROM moderation_case WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let decisions = sqlx::query_as::<_, DecisionRecord>(
            "SELECT id, case_id, decision, moderator, note, route, labels, decided_at \
             FROM decision WHERE case_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let thread = match &case.thread_id {
            Some(thread) => {
                sqlx::query_as::<_, CaseSummary>(sqlx::AssertSqlSafe(format!(
                    "SELECT {CASE} FROM moderation_case WHERE thread_id = $1 AND id <> $2 \
                     ORDER BY recorded_at, id LIMIT 50"
                )))
                .bind(thread.as_str())
                .bind(id)
                .fetch_all(&self.pool)
                .await?
            }
            None => Vec::new(),
        };
        let author = match &case.author_id {
            Some(author) => self.author_summary(author).await?,
            None => None,
        };
        let audit = sqlx::query_as::<_, AuditEntry>(
            "SELECT id, case_id, kind, actor, at, detail FROM audit WHERE case_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(CaseDetail {
            case,
            evidence,
            decisions,
            thread,
            author,
            audit,
        }))
    }

    /// Every case of an author, oldest first, whole, with no other author's case beside it.
    pub async fn export_author(&self, id: &str) -> Result<Option<AuthorExport>, RegisterError> {
        let Some(author) = self.author_summary(id).await? else {
            return Ok(None);
        };
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM moderation_case WHERE author_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        let mut cases = Vec::with_capacity(ids.len());
        for case in ids {
            if let Some(mut detail) = self.case(case).await? {
                detail.thread.clear();
                detail.author = None;
                cases.push(detail);
            }
        }
        Ok(Some(AuthorExport { author, cases }))
    }

    async fn author_summary(&self, id: &str) -> Result<Option<AuthorSummary>, RegisterError> {
        let summary = sqlx::query_as::<_, AuthorSummary>(
            "SELECT id, first_seen, last_seen, cases, prioritized, reviewed, hidden, deleted, \
             blocked AS blocked_cases, protected, EXISTS (SELECT 1 FROM moderation_case c \
             WHERE c.author_id = author.id AND c.outcome = 'block_author') AS blocked \
             FROM author WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(summary)
    }

    /// An author's counts, standing and cases (newest first, at most 200), or `None`.
    pub async fn author(&self, id: &str) -> Result<Option<AuthorDetail>, RegisterError> {
        let Some(author) = self.author_summary(id).await? else {
            return Ok(None);
        };
        let cases_list = sqlx::query_as::<_, CaseSummary>(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE} FROM moderation_case WHERE author_id = $1 \
             ORDER BY recorded_at DESC, id DESC LIMIT 200"
        )))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(AuthorDetail { author, cases_list }))
    }

    /// Claims a case for `who` until `until`, unless another moderator's claim is still running.
    pub async fn claim(
        &self,
        id: i64,
        who: &str,
        until: DateTime<Utc>,
    ) -> Result<Claim, RegisterError> {
        let now = Utc::now();
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let claimed: Option<i64> = sqlx::query_scalar(
            "UPDATE moderation_case SET claimed_by = $1, claimed_until = $2 WHERE id = $3 \
             AND (claimed_by IS NULL OR claimed_by = $1 OR claimed_until < $4) RETURNING id",
        )
        .bind(who)
        .bind(until)
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if claimed.is_none() {
            let holder: Option<(Option<String>, Option<DateTime<Utc>>)> = sqlx::query_as(
                "SELECT claimed_by, claimed_until FROM moderation_case WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            return Err(match holder {
                Some((Some(by), Some(until))) => RegisterError::Claimed(Claim {
                    case_id: id,
                    claimed_by: by,
                    claimed_until: until,
                }),
                _ => RegisterError::NoSuchCase(id),
            });
        }
        let detail = serde_json::json!({ "until": until });
        let row = AuditRow {
            case_id: Some(id),
            kind: "claimed",
            actor: who,
            at: now,
            detail,
        };
        Self::write_audit(&mut tx, row).await?;
        tx.commit().await?;
        Ok(Claim {
            case_id: id,
            claimed_by: who.to_string(),
            claimed_until: until,
        })
    }

    /// Records a moderator's decision: a new decision row, the case's outcome, status and
    /// route, the end of any claim, and an audit row, in one transaction. Another moderator's
    /// running claim refuses it.
    pub async fn decide(
        &self,
        id: i64,
        decision: &NewDecision,
        who: &str,
        policies: &Policies,
    ) -> Result<DecisionRecord, RegisterError> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        type Current = (
            String,
            Option<String>,
            Option<DateTime<Utc>>,
            Option<String>,
            Option<String>,
        );
        let current: Option<Current> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT outcome, claimed_by, claimed_until, channel, route FROM moderation_case \
             WHERE id = $1{}",
            DB::LOCK_ROW
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        // Read under the lock, so decisions are timed in the order they were made.
        let now = Utc::now();
        let Some((previous, claimed_by, claimed_until, channel, case_route)) = current else {
            return Err(RegisterError::NoSuchCase(id));
        };
        if let (Some(by), Some(until)) = (claimed_by, claimed_until)
            && by != who
            && until > now
        {
            return Err(RegisterError::Claimed(Claim {
                case_id: id,
                claimed_by: by,
                claimed_until: until,
            }));
        }
        let verdict = decision.decision;
        let route = decision.route.as_ref().map(Route::as_str);
        let record = sqlx::query_as::<_, DecisionRecord>(
            "INSERT INTO decision (case_id, decision, moderator, note, route, labels, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING id, case_id, decision, moderator, note, route, labels, decided_at",
        )
        .bind(id)
        .bind(verdict.as_str())
        .bind(who)
        .bind(decision.note.as_deref())
        .bind(route)
        .bind(json(&decision.labels)?)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let status = match verdict {
            Verdict::Escalate => Status::Open,
            _ => Status::Decided,
        };
        // Deleting or blocking is the moderator's judgement of an offence, whatever protected it.
        let keeps_protection = !matches!(verdict, Verdict::Delete | Verdict::BlockAuthor);
        sqlx::query(
            "UPDATE moderation_case SET outcome = COALESCE($1, outcome), status = $2, \
             route = COALESCE($3, route), claimed_by = NULL, claimed_until = NULL, \
             answered_at = COALESCE(answered_at, $4), protective = (protective AND $5) WHERE id = $6",
        )
        .bind(verdict.action().map(Action::as_str))
        .bind(status.as_str())
        .bind(route)
        .bind(now)
        .bind(keeps_protection)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let detail = serde_json::json!({
            "decision": verdict, "previous_outcome": previous, "note": decision.note,
            "route": decision.route, "labels": decision.labels,
        });
        let row = AuditRow {
            case_id: Some(id),
            kind: "decided",
            actor: who,
            at: now,
            detail,
        };
        Self::write_audit(&mut tx, row).await?;
        if verdict == Verdict::Escalate {
            // The team it goes to now hears of it, as the channel's policy says.
            let to = decision
                .route
                .clone()
                .or_else(|| case_route.and_then(|r| r.parse().ok()));
            let webhooks = &policies.for_channel(channel.as_deref()).webhooks;
            let notices = notify::notices(webhooks, &[Event::Escalation], to.as_ref());
            let origin = format!("decision-{}", record.id);
            Self::write_notices(&mut tx, id, &origin, &notices, now).await?;
        }
        tx.commit().await?;
        Ok(record)
    }

    /// Erases an author: their cases lose their text, the words quoted from it, the comment id
    /// and the author; decisions on them lose their notes (in the audit too); the author's row
    /// goes. Scores, actions, decisions and audit rows stay, and one audit row says that an
    /// erasure happened, by whom and when (not whose). `None` when the register has no trace of
    /// the author.
    pub async fn erase_author(
        &self,
        author_id: &str,
        who: &str,
    ) -> Result<Option<Erasure>, RegisterError> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let known: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM author WHERE id = $1{}",
            DB::LOCK_ROW
        )))
        .bind(author_id)
        .fetch_optional(&mut *tx)
        .await?;
        let cases = sqlx::query_as::<_, QuotingRow>(sqlx::AssertSqlSafe(format!(
            "SELECT id, channel, recorded_at, signals, reasons FROM moderation_case \
             WHERE author_id = $1 ORDER BY id{}",
            DB::LOCK_ROW
        )))
        .bind(author_id)
        .fetch_all(&mut *tx)
        .await?;
        if known.is_none() && cases.is_empty() {
            return Ok(None);
        }
        let now = Utc::now();
        let mut notes = 0;
        for case in &cases {
            Self::remove_text(&mut tx, case, "erasure").await?;
            sqlx::query(
                "UPDATE moderation_case SET author_id = NULL, comment_id = 'erased:' || \
                 CAST(id AS TEXT) WHERE id = $1",
            )
            .bind(case.id)
            .execute(&mut *tx)
            .await?;
            let noted: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM decision WHERE case_id = $1 AND note IS NOT NULL",
            )
            .bind(case.id)
            .fetch_one(&mut *tx)
            .await?;
            notes += usize::try_from(noted).unwrap_or_default();
            sqlx::query("UPDATE decision SET note = NULL WHERE case_id = $1")
                .bind(case.id)
                .execute(&mut *tx)
                .await?;
            let decided = sqlx::query_as::<_, AuditEntry>(
                "SELECT id, case_id, kind, actor, at, detail FROM audit \
                 WHERE case_id = $1 AND kind = 'decided'",
            )
            .bind(case.id)
            .fetch_all(&mut *tx)
            .await?;
            for mut entry in decided {
                if let Some(fields) = entry.detail.0.as_object_mut() {
                    fields.insert("note".into(), serde_json::Value::Null);
                }
                sqlx::query("UPDATE audit SET detail = $1 WHERE id = $2")
                    .bind(json(&entry.detail.0)?)
                    .bind(entry.id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("DELETE FROM author WHERE id = $1")
            .bind(author_id)
            .execute(&mut *tx)
            .await?;
        let erasure = Erasure {
            cases: cases.len(),
            notes,
            erased_by: who.to_string(),
            erased_at: now,
        };
        let detail = serde_json::json!({ "cases": erasure.cases, "notes": notes });
        let row = AuditRow {
            case_id: None,
            kind: "erased",
            actor: who,
            at: now,
            detail,
        };
        Self::write_audit(&mut tx, row).await?;
        tx.commit().await?;
        self.compact().await?;
        Ok(Some(erasure))
    }

    /// Removes the texts of cases recorded before the cut-off their channel's retention gives,
    /// keeping scores, decisions and audit. Reads only cases older than the shortest period.
    /// Returns how many cases lost their text.
    pub async fn purge_texts(
        &self,
        retention: &super::Retention,
        now: DateTime<Utc>,
    ) -> Result<usize, RegisterError> {
        const PAGE: i64 = 500;
        let before = |days: u32| now - chrono::TimeDelta::days(i64::from(days));
        let Some(shortest) = retention.shortest() else {
            return Ok(0);
        };
        let (mut after, mut purged) = (0_i64, 0);
        loop {
            let page = sqlx::query_as::<_, QuotingRow>(
                "SELECT id, channel, recorded_at, signals, reasons FROM moderation_case \
                 WHERE id > $1 AND text_removed IS NULL AND recorded_at < $2 ORDER BY id LIMIT $3",
            )
            .bind(after)
            .bind(before(shortest))
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            let expired = page.iter().filter(|case| {
                retention
                    .days(case.channel.as_deref())
                    .is_some_and(|days| case.recorded_at < before(days))
            });
            let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
            for case in expired {
                Self::remove_text(&mut tx, case, "retention").await?;
                purged += 1;
            }
            tx.commit().await?;
        }
        if purged > 0 {
            self.compact().await?;
        }
        Ok(purged)
    }

    /// Empties one case's text and the words its signals and reasons quote from it.
    async fn remove_text(
        tx: &mut sqlx::Transaction<'_, DB>,
        case: &QuotingRow,
        why: &str,
    ) -> Result<(), RegisterError> {
        let mut signals: crate::signals::Signals = serde_json::from_value(case.signals.0.clone())?;
        let mut reasons: Vec<crate::domain::Reason> =
            serde_json::from_value(case.reasons.0.clone())?;
        crate::signals::forget_text(&mut signals, &mut reasons);
        sqlx::query(
            "UPDATE moderation_case SET text = '', text_removed = $1, signals = $2, reasons = $3 \
             WHERE id = $4",
        )
        .bind(why)
        .bind(json(&signals)?)
        .bind(json(&reasons)?)
        .bind(case.id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn compact(&self) -> Result<(), RegisterError> {
        sqlx::raw_sql(DB::COMPACT).execute(&self.pool).await?;
        Ok(())
    }

    /// The audit log, newest first, optionally of one case or one actor; `before` is the id the
    /// previous page ended at.
    pub async fn audit(
        &self,
        case_id: Option<i64>,
        actor: Option<&str>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Page<AuditEntry>, RegisterError> {
        let mut q = QueryBuilder::<DB>::new(
            "SELECT id, case_id, kind, actor, at, detail FROM audit WHERE 1 = 1",
        );
        if let Some(case_id) = case_id {
            q.push(" AND case_id = ").push_bind(case_id);
        }
        if let Some(actor) = actor {
            q.push(" AND actor = ").push_bind(actor.to_string());
        }
        if let Some(before) = before {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1));
        let mut items = q
            .build_query_as::<AuditEntry>()
            .fetch_all(&self.pool)
            .await?;
        let next = (items.len() > limit).then(|| {
            items.truncate(limit);
            items.last().map(|a| a.id.to_string())
        });
        Ok(Page {
            items,
            next: next.flatten(),
        })
    }

    /// Every decided case with its latest decision, in the order recorded.
    pub async fn labelled(&self) -> Result<Vec<LabelledCase>, RegisterError> {
        let cases = sqlx::query_as::<_, LabelledCase>(
            "SELECT c.comment_id, c.text, c.language, c.channel, d.decision, d.labels, d.decided_at \
             FROM moderation_case c JOIN decision d ON d.case_id = c.id \
             WHERE c.status = 'decided' \
             AND d.id = (SELECT MAX(latest.id) FROM decision latest WHERE latest.case_id = c.id) \
             ORDER BY c.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(cases)
    }

    /// The policy sources in force, or `None` while the register holds no policy.
    pub async fn active_policies(&self) -> Result<Option<Sources>, RegisterError> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT a.name, a.version, v.source FROM policy_active a \
             JOIN policy_version v ON v.name = a.name AND v.version = a.version ORDER BY a.name",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut default = None;
        let mut channels = std::collections::BTreeMap::new();
        for (name, version, toml) in rows {
            let source = Source {
                version: u32::try_from(version).unwrap_or(u32::MAX),
                toml,
            };
            if name == DEFAULT {
                default = Some(source);
            } else {
                channels.insert(name, source);
            }
        }
        Ok(default.map(|default| Sources { default, channels }))
    }

    /// Stores and activates each policy of `sources` that the register has no version of yet,
    /// as made by `seula` for the reason `note`.
    pub async fn seed_policies(&self, sources: &Sources, note: &str) -> Result<(), RegisterError> {
        let now = Utc::now();
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        for (name, source) in sources.iter() {
            let known: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM policy_version WHERE name = $1")
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await?;
            if known > 0 {
                continue;
            }
            let version = i64::from(source.version);
            sqlx::query(
                "INSERT INTO policy_version (name, version, source, created_by, created_at, note) \
                 VALUES ($1, $2, $3, 'seula', $4, $5)",
            )
            .bind(name)
            .bind(version)
            .bind(source.toml.as_str())
            .bind(now)
            .bind(note)
            .execute(&mut *tx)
            .await?;
            self.set_active(&mut tx, name, version, "seula", now)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Makes `name` at `version` the policy in force and writes its audit row.
    async fn set_active(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        name: &str,
        version: i64,
        who: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RegisterError> {
        let previous: Option<i64> =
            sqlx::query_scalar("SELECT version FROM policy_active WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut **tx)
                .await?;
        sqlx::query(
            "INSERT INTO policy_active (name, version, activated_by, activated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET version = excluded.version, \
             activated_by = excluded.activated_by, activated_at = excluded.activated_at",
        )
        .bind(name)
        .bind(version)
        .bind(who)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let detail =
            serde_json::json!({ "policy": name, "version": version, "previous": previous });
        let row = AuditRow {
            case_id: None,
            kind: "policy_activated",
            actor: who,
            at: now,
            detail,
        };
        Self::write_audit(tx, row).await
    }

    /// Stores `toml` as the next version of the policy `name` (not yet in force).
    pub async fn add_policy_version(
        &self,
        name: &str,
        toml: &str,
        who: &str,
        note: Option<&str>,
    ) -> Result<PolicyVersion, RegisterError> {
        let now = Utc::now();
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM policy_version WHERE name = $1",
        )
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO policy_version (name, version, source, created_by, created_at, note) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(name)
        .bind(version)
        .bind(toml)
        .bind(who)
        .bind(now)
        .bind(note)
        .execute(&mut *tx)
        .await?;
        let detail = serde_json::json!({ "policy": name, "version": version, "note": note });
        let row = AuditRow {
            case_id: None,
            kind: "policy_version",
            actor: who,
            at: now,
            detail,
        };
        Self::write_audit(&mut tx, row).await?;
        tx.commit().await?;
        Ok(PolicyVersion {
            name: name.to_string(),
            version,
            created_by: who.to_string(),
            created_at: now,
            note: note.map(str::to_string),
            active: false,
        })
    }

    /// The text of one version of a policy, if it exists.
    pub async fn policy_source(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<String>, RegisterError> {
        let source = sqlx::query_scalar(
            "SELECT source FROM policy_version WHERE name = $1 AND version = $2",
        )
        .bind(name)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        Ok(source)
    }

    /// Puts a stored version in force.
    pub async fn activate_policy(
        &self,
        name: &str,
        version: i64,
        who: &str,
    ) -> Result<(), RegisterError> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        self.set_active(&mut tx, name, version, who, Utc::now())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every version of every policy, by name and version.
    pub async fn policy_versions(&self) -> Result<Vec<PolicyVersion>, RegisterError> {
        let versions = sqlx::query_as::<_, PolicyVersion>(
            "SELECT v.name, v.version, v.created_by, v.created_at, v.note, \
             EXISTS (SELECT 1 FROM policy_active a WHERE a.name = v.name AND a.version = v.version) AS active \
             FROM policy_version v ORDER BY v.name, v.version",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(versions)
    }

    /// The recorded cases of a time range (recorded at or after `since`, before `until`) as a
    /// replay needs them, in the order recorded; moderators' outcomes for decided cases.
    pub async fn recorded(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<RecordedRow>, RegisterError> {
        let mut q = QueryBuilder::<DB>::new(
            "SELECT id, channel, action, priority, route, scores, signals, author_removed, \
             CASE WHEN status = 'decided' THEN outcome END AS moderator \
             FROM moderation_case WHERE 1 = 1",
        );
        if let Some(since) = since {
            q.push(" AND recorded_at >= ").push_bind(since);
        }
        if let Some(until) = until {
            q.push(" AND recorded_at < ").push_bind(until);
        }
        q.push(" ORDER BY id");
        Ok(q.build_query_as::<RecordedRow>()
            .fetch_all(&self.pool)
            .await?)
    }

    /// Cases whose first decision came after their reply-time target.
    pub async fn answered_late(&self) -> Result<i64, RegisterError> {
        let count = sqlx::query_scalar(
            "SELECT COUNT(*) FROM moderation_case WHERE answered_at > respond_by",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(count)
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
