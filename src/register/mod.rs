//! The register of difficult cases: the only module that speaks SQL.
//!
//! Every non-`allow` decision, every `urgent` item and every comment a webhook is told of
//! becomes a case (its deliveries go to the outbox in the same transaction) with its text (personal data
//! masked), signals, scores, reasons, reply-time target, and the policy and model versions it was decided on; its author's counts and
//! an audit row are written in the same transaction. A comment id is recorded once: scoring it
//! again returns the existing case. Callers see only [`Register`] and plain types.
//!
//! Two backends sit behind it, chosen by the URL's scheme: embedded SQLite (`sqlite://PATH`,
//! `sqlite::memory:`) and PostgreSQL (`postgres://…`, `postgresql://…`). Each has its own
//! migration folder (`migrations/sqlite`, `migrations/postgres`) and its own way of opening
//! (`sqlite.rs`, `postgres.rs`); the queries are written once, in `store.rs`, generic over the
//! driver.

mod model;
mod postgres;
mod sqlite;
mod store;

pub use model::{
    Attempt, AuditEntry, AuthorDetail, AuthorExport, AuthorSummary, CaseDetail, CaseEvidence,
    CaseFilter, CaseSummary, Claim, Cursor, DecisionRecord, Delivery, DueDelivery, Erasure,
    Incident, IncidentChange, IncidentDetail, LabelledCase, NewDecision, NewIncident, Page,
    PolicyVersion, RecordedRow, Status, Then, Tried, Verdict,
};

use chrono::{DateTime, Utc};
use sqlx::{Database, Postgres, Sqlite};

use crate::domain::{Action, Priority, Reason, Recommendation, Route};
use crate::policy::notify::Notice;
use crate::policy::{AuthorHistory, Decision, Policies, Sources};
use crate::scoring::{Scores, Sentiment};
use crate::signals::Signals;
use store::Store;

/// How long each channel keeps case texts: `90` (every channel), or `default=90,facebook=30`
/// (a default and channels of their own; a channel without a number and no default keeps its
/// texts). Parsed from `--retention`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    pub default: Option<u32>,
    pub channels: std::collections::BTreeMap<String, u32>,
}

impl Retention {
    /// Days a case of `channel` keeps its text, or `None`: kept.
    pub fn days(&self, channel: Option<&str>) -> Option<u32> {
        channel
            .and_then(|c| self.channels.get(c).copied())
            .or(self.default)
    }

    pub fn is_empty(&self) -> bool {
        self.default.is_none() && self.channels.is_empty()
    }

    /// The fewest days any channel keeps its texts: no case recorded since can have expired.
    pub fn shortest(&self) -> Option<u32> {
        self.channels.values().copied().chain(self.default).min()
    }
}

impl std::str::FromStr for Retention {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let mut retention = Retention::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, days) = part.split_once('=').unwrap_or(("default", part));
            let days: u32 = days.trim().parse().map_err(|_| {
                format!("retention {part:?}: days must be a whole number, as in facebook=30")
            })?;
            if days == 0 {
                return Err(format!("retention {part:?}: at least 1 day"));
            }
            match name.trim() {
                "default" => retention.default = Some(days),
                channel => {
                    retention.channels.insert(channel.to_string(), days);
                }
            }
        }
        Ok(retention)
    }
}

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
    #[error("no case {0}")]
    NoSuchCase(i64),
    #[error("case {} is claimed by {} until {}", .0.case_id, .0.claimed_by, .0.claimed_until.to_rfc3339())]
    Claimed(Claim),
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
    pub recommendations: &'a [Recommendation],
    pub policy_name: &'a str,
    pub policy_version: u32,
    pub model_version: &'a str,
    pub created_at: DateTime<Utc>,
    pub respond_by: Option<DateTime<Utc>>,
    /// Hidden only to protect the author's personal data: not counted against them.
    pub protective: bool,
    /// The author's history as it was when scored, so a replay escalates the same way.
    pub history: AuthorHistory,
    /// The targets to tell of it: written to the outbox in the case's transaction.
    pub notices: &'a [Notice],
    /// The open incident it joins.
    pub incident: Option<i64>,
    /// The intents it carries, strongest first.
    pub intents: &'a [crate::signals::intents::IntentScore],
}

/// Whether a decision goes into the register: anything but `allow`, anything urgent, anything
/// a target is told of (its delivery is written with the case) and any report of an incident.
pub fn is_recorded(decision: &Decision) -> bool {
    decision.action != Action::Allow
        || decision.priority == Priority::Urgent
        || !decision.notices.is_empty()
        || decision.incident.is_some()
}

/// Runs the same query method on whichever backend the register has.
macro_rules! on_backend {
    ($register:ident, $store:ident => $call:expr) => {
        match &$register.backend {
            Backend::Sqlite($store) => $call.await,
            Backend::Postgres($store) => $call.await,
        }
    };
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
        Ok(self.record_report(case).await?.0)
    }

    /// [`Register::record`], and the incident the case joined: `case.incident`, or where a
    /// merge took it; none when that was closed (or the comment was recorded already).
    pub async fn record_report(
        &self,
        case: &NewCase<'_>,
    ) -> Result<(i64, Option<i64>), RegisterError> {
        on_backend!(self, store => store.record(case))
    }

    /// What the register knows of the author: their cases whose outcome removed the comment.
    pub async fn author_history(&self, author_id: &str) -> Result<AuthorHistory, RegisterError> {
        on_backend!(self, store => store.author_history(author_id))
    }

    /// One page of the queue (see [`store::Store::cases`] for the order).
    pub async fn cases(
        &self,
        filter: &CaseFilter,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Page<CaseSummary>, RegisterError> {
        on_backend!(self, store => store.cases(filter, after, limit))
    }

    pub async fn case(&self, id: i64) -> Result<Option<CaseDetail>, RegisterError> {
        on_backend!(self, store => store.case(id))
    }

    pub async fn author(&self, id: &str) -> Result<Option<AuthorDetail>, RegisterError> {
        on_backend!(self, store => store.author(id))
    }

    /// Everything held of one author, or `None` (see [`store::Store::export_author`]).
    pub async fn export_author(&self, id: &str) -> Result<Option<AuthorExport>, RegisterError> {
        on_backend!(self, store => store.export_author(id))
    }

    /// Erases an author's texts, names and ids, or `None` when nothing of them is held (see
    /// [`store::Store::erase_author`]).
    pub async fn erase_author(
        &self,
        id: &str,
        who: &str,
    ) -> Result<Option<Erasure>, RegisterError> {
        on_backend!(self, store => store.erase_author(id, who))
    }

    /// Removes the texts past their channel's retention (see [`store::Store::purge_texts`]).
    pub async fn purge_texts(
        &self,
        retention: &Retention,
        now: DateTime<Utc>,
    ) -> Result<usize, RegisterError> {
        on_backend!(self, store => store.purge_texts(retention, now))
    }

    pub async fn claim(
        &self,
        id: i64,
        who: &str,
        until: DateTime<Utc>,
    ) -> Result<Claim, RegisterError> {
        on_backend!(self, store => store.claim(id, who, until))
    }

    /// A moderator's decision, its audit row and the case's new outcome in one transaction;
    /// an escalation also writes the deliveries its team's webhooks want (by `policies`).
    pub async fn decide(
        &self,
        id: i64,
        decision: &NewDecision,
        who: &str,
        policies: &Policies,
    ) -> Result<DecisionRecord, RegisterError> {
        on_backend!(self, store => store.decide(id, decision, who, policies))
    }

    pub async fn audit(
        &self,
        case_id: Option<i64>,
        actor: Option<&str>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Page<AuditEntry>, RegisterError> {
        on_backend!(self, store => store.audit(case_id, actor, before, limit))
    }

    /// The policy sources in force, or `None` while the register holds no policy.
    pub async fn active_policies(&self) -> Result<Option<Sources>, RegisterError> {
        on_backend!(self, store => store.active_policies())
    }

    /// Stores and activates each policy of `sources` the register has no version of yet.
    pub async fn seed_policies(&self, sources: &Sources, note: &str) -> Result<(), RegisterError> {
        on_backend!(self, store => store.seed_policies(sources, note))
    }

    /// Stores the next version of a policy; it is not in force until activated.
    pub async fn add_policy_version(
        &self,
        name: &str,
        toml: &str,
        who: &str,
        note: Option<&str>,
    ) -> Result<PolicyVersion, RegisterError> {
        on_backend!(self, store => store.add_policy_version(name, toml, who, note))
    }

    pub async fn policy_source(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<String>, RegisterError> {
        on_backend!(self, store => store.policy_source(name, version))
    }

    /// Records that a stored version is in force, with an audit row. The caller has checked it resolves.
    pub async fn activate_policy(
        &self,
        name: &str,
        version: i64,
        who: &str,
    ) -> Result<(), RegisterError> {
        on_backend!(self, store => store.activate_policy(name, version, who))
    }

    pub async fn policy_versions(&self) -> Result<Vec<PolicyVersion>, RegisterError> {
        on_backend!(self, store => store.policy_versions())
    }

    /// The recorded cases of a time range as a replay needs them; a row whose stored words are
    /// not ours (written by a later version of Seula) is left out.
    pub async fn recorded(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<crate::policy::replay::Recorded>, RegisterError> {
        let rows = on_backend!(self, store => store.recorded(since, until))?;
        Ok(rows
            .into_iter()
            .filter_map(RecordedRow::into_recorded)
            .collect())
    }

    /// Every decided case with its latest decision, for `seula export-labels`.
    pub async fn labelled(&self) -> Result<Vec<LabelledCase>, RegisterError> {
        on_backend!(self, store => store.labelled())
    }

    /// How many cases had their first decision after their reply-time target.
    pub async fn answered_late(&self) -> Result<i64, RegisterError> {
        on_backend!(self, store => store.answered_late())
    }

    /// How many open cases are past their reply-time target at `now`.
    pub async fn overdue(&self, now: DateTime<Utc>) -> Result<i64, RegisterError> {
        on_backend!(self, store => store.overdue(now))
    }

    /// Leases up to `limit` pending deliveries due at `now` until `lease_until` under `token`,
    /// so that no other server sends them meanwhile, and returns them with their cases.
    pub async fn lease_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        token: i64,
        limit: usize,
    ) -> Result<Vec<DueDelivery>, RegisterError> {
        on_backend!(self, store => store.lease_due(now, lease_until, token, limit))
    }

    /// Records an attempt and what it made of its delivery, in one transaction, if the lease
    /// taken with `token` still holds it; whether it did.
    pub async fn tried(
        &self,
        delivery_id: i64,
        token: i64,
        tried: &Tried,
    ) -> Result<bool, RegisterError> {
        on_backend!(self, store => store.tried(delivery_id, token, tried))
    }

    /// One page of the outbox, newest first, each delivery with its attempts.
    pub async fn deliveries(
        &self,
        status: Option<&str>,
        case_id: Option<i64>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Page<Delivery>, RegisterError> {
        on_backend!(self, store => store.deliveries(status, case_id, before, limit))
    }

    /// Sends a failed delivery again from `now`, with a fresh count of attempts and an audit
    /// row; `None` when there is no failed delivery of that id.
    pub async fn retry_delivery(
        &self,
        id: i64,
        who: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>, RegisterError> {
        on_backend!(self, store => store.retry_delivery(id, who, now))
    }

    /// How many deliveries wait to be sent.
    pub async fn pending_deliveries(&self) -> Result<i64, RegisterError> {
        on_backend!(self, store => store.pending_deliveries())
    }

    /// Opens an incident with the case of the report that tipped it, linking the earlier
    /// reports' cases, and writes `notices` (its `incident_opened` deliveries), all in one
    /// transaction. Returns the case's id and the incident's.
    pub async fn open_incident(
        &self,
        case: &NewCase<'_>,
        incident: &NewIncident<'_>,
        notices: &[Notice],
    ) -> Result<(i64, i64), RegisterError> {
        on_backend!(self, store => store.open_incident(case, incident, notices))
    }

    /// Links cases to an incident (those recorded while it opened).
    pub async fn link_cases(&self, incident: i64, cases: &[i64]) -> Result<(), RegisterError> {
        on_backend!(self, store => store.link_cases(incident, cases))
    }

    /// The open incidents, to match later reports after a restart.
    pub async fn open_incidents(&self) -> Result<Vec<Incident>, RegisterError> {
        on_backend!(self, store => store.incidents(Some("open"), None, usize::MAX))
            .map(|page| page.items)
    }

    /// One page of incidents, newest first.
    pub async fn incidents(
        &self,
        status: Option<&str>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Page<Incident>, RegisterError> {
        on_backend!(self, store => store.incidents(status, before, limit))
    }

    pub async fn incident(&self, id: i64) -> Result<Option<IncidentDetail>, RegisterError> {
        on_backend!(self, store => store.incident(id))
    }

    /// Renames, closes or opens again an incident, with an audit row; `false` when there is
    /// no such incident (or it was merged).
    pub async fn change_incident(
        &self,
        id: i64,
        change: &IncidentChange,
        who: &str,
    ) -> Result<bool, RegisterError> {
        on_backend!(self, store => store.change_incident(id, change, who))
    }

    /// Merges incident `from` into the open incident `into`: its cases and reports move, it is
    /// `merged`, with an audit row. `false` when `from` is missing or merged already, `into`
    /// is not open, or they are the same.
    pub async fn merge_incident(
        &self,
        from: i64,
        into: i64,
        who: &str,
    ) -> Result<bool, RegisterError> {
        on_backend!(self, store => store.merge_incident(from, into, who))
    }

    /// The newest `limit` cases recorded in `[since, until)` as the trends read them, and
    /// whether there were more; and the times incidents opened in it.
    pub async fn trend_rows(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<(Vec<crate::stats::Row>, bool, Vec<DateTime<Utc>>), RegisterError> {
        let (rows, more, opened) =
            on_backend!(self, store => store.trend_rows(since, until, limit))?;
        Ok((rows.into_iter().map(Into::into).collect(), more, opened))
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), RegisterError> {
        on_backend!(self, store => store.ping())
    }
}

#[cfg(test)]
mod tests {
    use super::Retention;

    #[test]
    fn retention_reads_a_default_and_channels_of_their_own() {
        let everywhere: Retention = "90".parse().expect("parse");
        assert_eq!(
            (everywhere.days(None), everywhere.days(Some("chat"))),
            (Some(90), Some(90))
        );
        let mixed: Retention = "default=90, facebook=30".parse().expect("parse");
        assert_eq!(mixed.days(Some("facebook")), Some(30));
        assert_eq!(mixed.days(Some("x")), Some(90));
        assert_eq!(mixed.shortest(), Some(30));
        let only: Retention = "chat=7".parse().expect("parse");
        assert_eq!((only.days(Some("chat")), only.days(None)), (Some(7), None));
        let none = "".parse::<Retention>().expect("parse");
        assert!(none.is_empty() && none.shortest().is_none());
        for bad in ["chat=", "chat=-1", "chat=0", "x=seven"] {
            assert!(bad.parse::<Retention>().is_err(), "{bad}");
        }
    }
}
