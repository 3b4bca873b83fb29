//! The register on every backend, through one `check` helper: SQLite in a temp file always,
//! PostgreSQL when `SEULA_TEST_POSTGRES_URL` is set, each test in a new schema of its own (a
//! random name, set through the connection's `search_path`, dropped afterwards).

use std::io::Write;
use std::sync::{LazyLock, Once};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use seula::domain::{Action, Author, Comment, Priority, Thread};
use seula::pipeline::{Outcome, Pipeline};
use seula::policy::notify::{Event, Notice, Webhook};
use seula::policy::{AuthorHistory, Sources};
use seula::register::{
    CaseFilter, Cursor, NewCase, NewDecision, Register, RegisterError, Then, Tried, Verdict,
};
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, PgPool, SqlitePool};

/// The shipped policies, as a decision takes them.
fn shipped() -> seula::policy::Policies {
    seula::policy::Policies::shipped().expect("shipped policy")
}

const POSTGRES_URL: &str = "SEULA_TEST_POSTGRES_URL";

/// A fresh register on one backend, with a side connection to read its tables.
struct Fresh {
    backend: &'static str,
    url: String,
    register: Register,
    tables: Tables,
}

enum Tables {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Fresh {
    async fn connect(backend: &'static str, url: String) -> Self {
        let register = Register::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("{backend}: connect: {e}"));
        let tables = match backend {
            "sqlite" => Tables::Sqlite(SqlitePool::connect(&url).await.expect("sqlite side")),
            _ => Tables::Postgres(one_connection(&url).await),
        };
        Self {
            backend,
            url,
            register,
            tables,
        }
    }

    /// The single integer `sql` selects, the same statement on either backend.
    async fn count(&self, sql: &str) -> i64 {
        let sql = AssertSqlSafe(sql.to_string());
        let n = match &self.tables {
            Tables::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Tables::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        };
        n.unwrap_or_else(|e| panic!("{}: {e}", self.backend))
    }

    /// Checks each `(sql, expected)` row with [`Fresh::count`].
    async fn counts(&self, table: &[(&str, i64)]) {
        for (sql, expected) in table {
            assert_eq!(self.count(sql).await, *expected, "{}: {sql}", self.backend);
        }
    }

    async fn record(&self, case: &NewCase<'_>) -> i64 {
        self.register
            .record(case)
            .await
            .unwrap_or_else(|e| panic!("{}: record: {e}", self.backend))
    }

    async fn removed(&self, author_id: &str) -> u32 {
        self.register
            .author_history(author_id)
            .await
            .unwrap_or_else(|e| panic!("{}: author_history: {e}", self.backend))
            .removed
    }
}

/// Runs `test` on a fresh register on every available backend.
async fn check<F, Fut>(test: F)
where
    F: Fn(Fresh) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("seula.db").display());
    test(Fresh::connect("sqlite", url).await).await;

    let Ok(base) = std::env::var(POSTGRES_URL) else {
        static SKIPPED: Once = Once::new();
        // Straight to stderr, past the test harness's capture, so a plain `cargo test` shows it.
        SKIPPED.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "register tests: PostgreSQL skipped ({POSTGRES_URL} not set)"
            );
        });
        return;
    };
    let admin = one_connection(&base).await;
    let schema: String =
        sqlx::query_scalar("SELECT 'seula_test_' || replace(gen_random_uuid()::text, '-', '')")
            .fetch_one(&admin)
            .await
            .expect("schema name");
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("create schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    // Spawned, so that a failing test still drops its schema before its panic goes on.
    let outcome = tokio::spawn(test(Fresh::connect("postgres", url).await)).await;
    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .expect("drop schema");
    admin.close().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn one_connection(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {POSTGRES_URL}: {e}"))
}

/// One comment and how the pipeline decides it; each test picks its own ids and action.
static COMMENT: LazyLock<Comment> = LazyLock::new(|| Comment {
    channel: Some("facebook".into()),
    created_at: Some(created_at()),
    thread: Some(Thread {
        id: Some("fb:post77".into()),
        parent_text: None,
    }),
    author: Some(Author::default()),
    ..Comment::new("c", "MIKSI TÄÄ EI TOIMI!!!! vitun operaattori")
});
static DECIDED: LazyLock<Outcome> = LazyLock::new(|| {
    Pipeline::shipped()
        .expect("pipeline")
        .decide(&COMMENT, AuthorHistory::default(), created_at())
});

fn created_at() -> DateTime<Utc> {
    "2026-11-22T10:00:00Z".parse().expect("time")
}

fn case<'a>(comment_id: &'a str, author_id: Option<&'a str>, action: Action) -> NewCase<'a> {
    NewCase {
        comment_id,
        author_id,
        action,
        priority: Priority::Urgent,
        ..DECIDED.case(&COMMENT)
    }
}

#[tokio::test]
async fn connecting_migrates_a_fresh_database_once() {
    check(|db| async move {
        db.counts(&[
            ("SELECT COUNT(*) FROM moderation_case", 0),
            ("SELECT COUNT(*) FROM author", 0),
            ("SELECT COUNT(*) FROM audit", 0),
        ])
        .await;
        let migrations = "SELECT COUNT(*) FROM _sqlx_migrations";
        let applied = db.count(migrations).await;
        assert!(applied > 0, "{}: no migration applied", db.backend);
        let again = Register::connect(&db.url).await.expect("connect again");
        again.ping().await.expect("ping");
        db.register.ping().await.expect("ping");
        assert_eq!(db.count(migrations).await, applied, "{}", db.backend);
    })
    .await;
}

#[tokio::test]
async fn record_returns_the_new_case_and_its_audit_row() {
    check(|db| async move {
        let id = db
            .record(&case("fb:post77:c42", Some("fb:user:991"), Action::Review))
            .await;
        let first = db.record(&case("fb:post77:c43", None, Action::Hide)).await;
        assert!(id > 0 && first != id, "{}: ids {id}, {first}", db.backend);
        db.counts(&[
            ("SELECT COUNT(*) FROM moderation_case", 2),
            (
                &format!("SELECT COUNT(*) FROM moderation_case WHERE id = {id} AND comment_id = 'fb:post77:c42' AND policy_version > 0"),
                1,
            ),
            (
                &format!("SELECT COUNT(*) FROM audit WHERE case_id = {id} AND kind = 'scored' AND actor = 'seula'"),
                1,
            ),
            // JSON is stored as JSON on both backends (`->>` is SQLite's and PostgreSQL's).
            (
                &format!("SELECT COUNT(*) FROM audit WHERE case_id = {id} AND detail ->> 'action' = 'review'"),
                1,
            ),
            ("SELECT COUNT(*) FROM moderation_case WHERE signals ->> 'language' = 'fi'", 2),
            ("SELECT COUNT(*) FROM author", 1),
        ])
        .await;
    })
    .await;
}

#[tokio::test]
async fn recording_a_comment_again_returns_its_case_and_writes_nothing() {
    check(|db| async move {
        let author = Some("fb:user:991");
        let id = db
            .record(&case("fb:post77:c42", author, Action::Hide))
            .await;
        for action in [Action::Hide, Action::BlockAuthor] {
            let again = db.record(&case("fb:post77:c42", author, action)).await;
            assert_eq!(again, id, "{}: {action:?}", db.backend);
        }
        db.counts(&[
            ("SELECT COUNT(*) FROM moderation_case", 1),
            ("SELECT COUNT(*) FROM audit", 1),
            ("SELECT cases FROM author WHERE id = 'fb:user:991'", 1),
            ("SELECT hidden FROM author WHERE id = 'fb:user:991'", 1),
            ("SELECT blocked FROM author WHERE id = 'fb:user:991'", 0),
        ])
        .await;
        assert_eq!(db.removed("fb:user:991").await, 1, "{}", db.backend);
    })
    .await;
}

#[tokio::test]
async fn author_counts_follow_each_action_and_make_the_history() {
    check(|db| async move {
        let author = Some("x:troll");
        assert_eq!(db.removed("x:troll").await, 0, "{}", db.backend);
        let mut table = Vec::new();
        for (i, (action, column)) in [
            (Action::Allow, None),
            (Action::Prioritize, Some("prioritized")),
            (Action::Review, Some("reviewed")),
            (Action::Hide, Some("hidden")),
            (Action::Delete, Some("deleted")),
            (Action::BlockAuthor, Some("blocked")),
        ]
        .into_iter()
        .enumerate()
        {
            db.record(&case(&format!("t{i}"), author, action)).await;
            if let Some(column) = column {
                table.push((
                    format!("SELECT {column} FROM author WHERE id = 'x:troll'"),
                    1,
                ));
            }
        }
        table.push(("SELECT cases FROM author WHERE id = 'x:troll'".into(), 6));
        table.push(("SELECT COUNT(*) FROM audit".into(), 6));
        let table: Vec<(&str, i64)> = table.iter().map(|(s, n)| (s.as_str(), *n)).collect();
        db.counts(&table).await;
        // Hidden, deleted and blocked count against the author; the rest does not.
        assert_eq!(db.removed("x:troll").await, 3, "{}", db.backend);
        assert_eq!(db.removed("x:nobody").await, 0, "{}", db.backend);
    })
    .await;
}

/// A case with its own priority, time and text, to see the queue's order.
fn queued<'a>(comment_id: &'a str, priority: Priority, respond_by: Option<&str>) -> NewCase<'a> {
    NewCase {
        priority,
        respond_by: respond_by.map(|t| t.parse().expect("time")),
        ..case(comment_id, Some("fb:user:5"), Action::Review)
    }
}

#[tokio::test]
async fn the_queue_puts_overdue_first_then_priority_then_age_and_pages_without_gaps() {
    check(|db| async move {
        let backend = db.backend;
        let normal = db.record(&queued("q1", Priority::Normal, None)).await;
        let urgent = db
            .record(&queued(
                "q2",
                Priority::Urgent,
                Some("2999-01-01T00:00:00Z"),
            ))
            .await;
        let overdue = db
            .record(&queued(
                "q3",
                Priority::Normal,
                Some("2020-01-01T00:00:00Z"),
            ))
            .await;
        let high = db.record(&queued("q4", Priority::High, None)).await;
        let r = &db.register;
        let all = r
            .cases(&CaseFilter::default(), None, 10)
            .await
            .expect("list");
        let ids: Vec<i64> = all.items.iter().map(|c| c.id).collect();
        assert_eq!(ids, [overdue, urgent, high, normal], "{backend}");
        assert_eq!(all.next, None, "{backend}");
        // Pages of one follow the same order, each case once.
        let (mut paged, mut after) = (Vec::new(), None);
        loop {
            let page = r
                .cases(&CaseFilter::default(), after, 1)
                .await
                .expect("page");
            paged.extend(page.items.iter().map(|c| c.id));
            match page.next {
                Some(next) => after = Some(Cursor::decode(&next).expect("our cursor")),
                None => break,
            }
        }
        assert_eq!(paged, ids, "{backend}");
        // Filters, including the two that each backend spells its own way.
        let only = |filter: CaseFilter| async move {
            let page = r.cases(&filter, None, 10).await.expect("filtered");
            page.items.iter().map(|c| c.id).collect::<Vec<i64>>()
        };
        let urgent_only = CaseFilter {
            priority: Some(Priority::Urgent),
            ..CaseFilter::default()
        };
        assert_eq!(only(urgent_only).await, [urgent], "{backend}");
        let text = CaseFilter {
            text: Some("vitun OPERAATTORI".into()),
            ..CaseFilter::default()
        };
        assert_eq!(
            only(text).await.len(),
            4,
            "{backend}: text search ignores case"
        );
        let wildcard = CaseFilter {
            text: Some("100%".into()),
            ..CaseFilter::default()
        };
        assert!(
            only(wildcard).await.is_empty(),
            "{backend}: % is a character, not a wildcard"
        );
        let score = DECIDED.assessment.scores.profanity;
        let above = CaseFilter {
            min_scores: vec![("profanity", f64::from(score) - 0.01)],
            ..CaseFilter::default()
        };
        assert_eq!(only(above).await.len(), 4, "{backend}");
        let beyond = CaseFilter {
            min_scores: vec![("profanity", f64::from(score) + 0.01)],
            ..CaseFilter::default()
        };
        assert!(only(beyond).await.is_empty(), "{backend}");
    })
    .await;
}

#[tokio::test]
async fn claims_expire_decisions_append_and_feed_the_author_history() {
    check(|db| async move {
        let backend = db.backend;
        let r = &db.register;
        let id = db.record(&case("d1", Some("x:user"), Action::Review)).await;
        let soon = Utc::now() + chrono::TimeDelta::minutes(10);
        r.claim(id, "aino", soon).await.expect("claim");
        let hide = NewDecision {
            decision: Verdict::Hide,
            note: Some("name-calling".into()),
            route: None,
            labels: serde_json::from_str(r#"{"insult": true}"#).expect("labels"),
        };
        assert!(
            matches!(
                r.claim(id, "bertta", soon).await,
                Err(RegisterError::Claimed(_))
            ),
            "{backend}"
        );
        assert!(
            matches!(
                r.decide(id, &hide, "bertta", &shipped()).await,
                Err(RegisterError::Claimed(_))
            ),
            "{backend}"
        );
        assert!(
            matches!(
                r.decide(9999, &hide, "aino", &shipped()).await,
                Err(RegisterError::NoSuchCase(9999))
            ),
            "{backend}"
        );
        assert_eq!(
            db.removed("x:user").await,
            0,
            "{backend}: a review removes nothing"
        );
        r.decide(id, &hide, "aino", &shipped())
            .await
            .expect("decide");
        assert_eq!(
            db.removed("x:user").await,
            1,
            "{backend}: the moderator's hide counts"
        );
        // An undo is a new decision; the claim ended with the first.
        let allow = NewDecision {
            decision: Verdict::Allow,
            ..hide.clone()
        };
        r.decide(id, &allow, "bertta", &shipped())
            .await
            .expect("undo");
        assert_eq!(db.removed("x:user").await, 0, "{backend}");
        let detail = r.case(id).await.expect("case").expect("exists");
        let verdicts: Vec<&str> = detail
            .decisions
            .iter()
            .map(|d| d.decision.as_str())
            .collect();
        assert_eq!(verdicts, ["hide", "allow"], "{backend}");
        assert_eq!(
            (detail.case.outcome.as_str(), detail.case.status.as_str()),
            ("allow", "decided"),
            "{backend}"
        );
        assert!(
            detail.case.answered_at.is_some() && detail.case.claimed_by.is_none(),
            "{backend}"
        );
        let kinds: Vec<&str> = detail.audit.iter().map(|a| a.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["scored", "claimed", "decided", "decided"],
            "{backend}"
        );
        assert_eq!(detail.audit[3].actor, "bertta", "{backend}");
        // An expired claim is anyone's.
        let past = Utc::now() - chrono::TimeDelta::minutes(1);
        r.claim(id, "aino", past).await.expect("claim");
        r.claim(id, "bertta", soon)
            .await
            .expect("expired claim taken over");
        // Blocking shows on the author; escalating keeps the case open.
        let block = NewDecision {
            decision: Verdict::BlockAuthor,
            ..hide.clone()
        };
        r.decide(id, &block, "bertta", &shipped())
            .await
            .expect("block");
        let author = r.author("x:user").await.expect("author").expect("exists");
        assert!(author.author.blocked, "{backend}");
        assert_eq!(author.cases_list.len(), 1, "{backend}");
        let escalate = NewDecision {
            decision: Verdict::Escalate,
            route: "legal".parse().ok(),
            ..hide
        };
        r.decide(id, &escalate, "bertta", &shipped())
            .await
            .expect("escalate");
        let detail = r.case(id).await.expect("case").expect("exists");
        assert_eq!(
            (
                detail.case.status.as_str(),
                detail.case.outcome.as_str(),
                detail.case.route.as_deref()
            ),
            ("open", "block_author", Some("legal")),
            "{backend}"
        );
        let log = r
            .audit(Some(id), Some("bertta"), None, 2)
            .await
            .expect("audit");
        assert_eq!(log.items.len(), 2, "{backend}");
        assert!(
            log.items[0].id > log.items[1].id && log.next.is_some(),
            "{backend}: newest first"
        );
    })
    .await;
}

#[tokio::test]
async fn policy_versions_are_seeded_once_stored_activated_and_kept() {
    check(|db| async move {
        let backend = db.backend;
        let file = Sources::from_file(include_str!("../src/policy/default.toml")).expect("file");
        let r = &db.register;
        assert_eq!(
            r.active_policies().await.expect("active"),
            None,
            "{backend}"
        );
        r.seed_policies(&file, "the shipped default")
            .await
            .expect("seed");
        r.seed_policies(&file, "again").await.expect("seed again");
        assert_eq!(
            r.active_policies().await.expect("active"),
            Some(file.clone()),
            "{backend}"
        );
        let stricter = file.default.toml.replace("insult = 0.7", "insult = 0.6");
        let v2 = r
            .add_policy_version("default", &stricter, "aino", Some("tighter"))
            .await
            .expect("add");
        assert_eq!((v2.version, v2.active), (2, false), "{backend}");
        r.activate_policy("default", 2, "aino")
            .await
            .expect("activate");
        // A new connection (a restart) finds version 2 in force and the channel at 1.
        let again = Register::connect(&db.url).await.expect("reconnect");
        let active = again
            .active_policies()
            .await
            .expect("active")
            .expect("some");
        assert_eq!(
            (active.default.version, active.default.toml.as_str()),
            (2, stricter.as_str()),
            "{backend}"
        );
        assert_eq!(active.channels["x"].version, 1, "{backend}");
        let versions = again.policy_versions().await.expect("versions");
        let listed: Vec<(&str, i64, bool)> = versions
            .iter()
            .map(|v| (v.name.as_str(), v.version, v.active))
            .collect();
        assert_eq!(
            listed,
            [("default", 1, false), ("default", 2, true), ("x", 1, true)],
            "{backend}"
        );
        db.counts(&[
            (
                "SELECT COUNT(*) FROM audit WHERE kind = 'policy_activated'",
                3,
            ),
            (
                "SELECT COUNT(*) FROM audit WHERE kind = 'policy_version' AND actor = 'aino'",
                1,
            ),
        ])
        .await;
    })
    .await;
}

fn verdict(decision: Verdict) -> NewDecision {
    NewDecision {
        decision,
        note: None,
        route: None,
        labels: serde_json::Map::new(),
    }
}

#[tokio::test]
async fn simultaneous_decisions_on_one_case_keep_its_outcome_and_audit_chain_exact() {
    check(|db| async move {
        let backend = db.backend;
        let verdicts = [Verdict::Allow, Verdict::Hide, Verdict::Delete];
        for round in 0..5 {
            let comment = format!("race{round}");
            let id = db
                .record(&case(&comment, Some("x:racer"), Action::Review))
                .await;
            let decisions: Vec<_> = (0..20)
                .map(|i| {
                    let register = db.register.clone();
                    let decision = verdict(verdicts[i % verdicts.len()]);
                    tokio::spawn(async move {
                        register
                            .decide(id, &decision, &format!("m{i}"), &shipped())
                            .await
                    })
                })
                .collect();
            for decision in decisions {
                decision
                    .await
                    .expect("task")
                    .unwrap_or_else(|e| panic!("{backend}: {e}"));
            }
            let audit = db
                .register
                .audit(Some(id), None, None, 100)
                .await
                .expect("audit");
            let mut decided: Vec<_> = audit.items.iter().filter(|e| e.kind == "decided").collect();
            decided.sort_by_key(|e| e.id);
            assert_eq!(decided.len(), 20, "{backend}");
            let mut outcome = "review".to_string();
            for entry in decided {
                assert_eq!(
                    entry.detail["previous_outcome"],
                    outcome.as_str(),
                    "{backend}: round {round}"
                );
                outcome = entry.detail["decision"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
            }
            let case = db.register.case(id).await.expect("case").expect("the case");
            assert_eq!(case.case.outcome, outcome, "{backend}: round {round}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_decision_racing_a_claim_goes_first_or_is_refused() {
    check(|db| async move {
        let backend = db.backend;
        let until = Utc::now() + chrono::TimeDelta::minutes(10);
        for round in 0..40 {
            let comment = format!("claim{round}");
            let id = db
                .record(&case(&comment, Some("x:racer"), Action::Review))
                .await;
            let (claimer, decider) = (db.register.clone(), db.register.clone());
            let claim = tokio::spawn(async move { claimer.claim(id, "aino", until).await });
            let decision = tokio::spawn(async move {
                decider
                    .decide(id, &verdict(Verdict::Hide), "bertta", &shipped())
                    .await
            });
            let claimed = claim.await.expect("task");
            let decided = decision.await.expect("task");
            assert!(claimed.is_ok(), "{backend}: a claim on a case nobody holds");
            let audit = db
                .register
                .audit(Some(id), None, None, 100)
                .await
                .expect("audit");
            let at = |kind: &str| audit.items.iter().find(|e| e.kind == kind).map(|e| e.id);
            match decided {
                // Granted only before the claim: a decision ends any claim, so the claim after it stands.
                Ok(_) => assert!(
                    at("decided") < at("claimed"),
                    "{backend}: round {round}: {:?}",
                    audit.items
                ),
                Err(RegisterError::Claimed(_)) => assert_eq!(at("decided"), None, "{backend}"),
                Err(e) => panic!("{backend}: {e}"),
            }
        }
    })
    .await;
}

/// Every file of the SQLite register (the database, its write-ahead log) as one byte string.
fn sqlite_bytes(url: &str) -> Vec<u8> {
    let path = url.trim_start_matches("sqlite://");
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::read(format!("{path}{suffix}")).ok())
        .flatten()
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

const SECRET: &str = "Kuutamokeiju-9731";

#[tokio::test]
async fn erasing_an_author_removes_their_texts_ids_and_notes_and_keeps_the_counts() {
    check(|db| async move {
        let backend = db.backend;
        let r = &db.register;
        let text = format!("{SECRET} here: vitun operaattori");
        let mine = |id| NewCase {
            text: text.clone(),
            ..case(id, Some("x:erased"), Action::Review)
        };
        let first = db.record(&mine("gone1")).await;
        db.record(&mine("gone2")).await;
        db.record(&case("keep1", Some("x:kept"), Action::Review))
            .await;
        let noted = NewDecision {
            note: Some(format!("{SECRET} again")),
            ..verdict(Verdict::Hide)
        };
        r.decide(first, &noted, "aino", &shipped())
            .await
            .expect("decide");

        let export = r
            .export_author("x:erased")
            .await
            .expect("export")
            .expect("held");
        assert_eq!(export.cases.len(), 2, "{backend}");
        assert!(export.cases.iter().all(|c| c.case.text.contains(SECRET)));
        assert_eq!(export.cases[0].decisions.len(), 1, "{backend}");

        let erasure = r
            .erase_author("x:erased", "dpo")
            .await
            .expect("erase")
            .expect("held");
        assert_eq!((erasure.cases, erasure.notes), (2, 1), "{backend}");
        db.counts(&[
            (
                &format!("SELECT COUNT(*) FROM moderation_case WHERE text LIKE '%{SECRET}%'"),
                0,
            ),
            (
                &format!("SELECT COUNT(*) FROM decision WHERE note LIKE '%{SECRET}%'"),
                0,
            ),
            (
                &format!("SELECT COUNT(*) FROM audit WHERE CAST(detail AS TEXT) LIKE '%{SECRET}%'"),
                0,
            ),
            (
                "SELECT COUNT(*) FROM moderation_case WHERE comment_id LIKE 'gone%'",
                0,
            ),
            (
                "SELECT COUNT(*) FROM moderation_case WHERE author_id = 'x:erased'",
                0,
            ),
            ("SELECT COUNT(*) FROM author WHERE id = 'x:erased'", 0),
            (
                "SELECT COUNT(*) FROM moderation_case WHERE text_removed = 'erasure'",
                2,
            ),
            (
                "SELECT COUNT(*) FROM moderation_case WHERE CAST(reasons AS TEXT) LIKE '%vitun%'",
                1,
            ),
            ("SELECT COUNT(*) FROM moderation_case", 3),
            ("SELECT COUNT(*) FROM decision", 1),
            (
                "SELECT COUNT(*) FROM audit WHERE kind = 'erased' AND actor = 'dpo'",
                1,
            ),
            ("SELECT COUNT(*) FROM audit WHERE kind = 'decided'", 1),
        ])
        .await;
        let erased = r.case(first).await.expect("case").expect("kept");
        let hit = &erased.evidence.signals.0["profanity"][0];
        assert_eq!(
            (&hit["word"], &hit["severity"]),
            (&json!(""), &json!("strong")),
            "{backend}"
        );
        assert!(
            r.export_author("x:erased").await.expect("export").is_none(),
            "{backend}"
        );
        assert!(
            r.erase_author("x:erased", "dpo")
                .await
                .expect("erase")
                .is_none(),
            "{backend}"
        );
        if backend == "sqlite" {
            assert!(
                !contains(&sqlite_bytes(&db.url), SECRET),
                "the text is still in the file"
            );
            assert!(
                !contains(&sqlite_bytes(&db.url), "x:erased"),
                "the id is still in the file"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn texts_past_their_channels_retention_are_removed_and_the_rest_kept() {
    check(|db| async move {
        let backend = db.backend;
        let r = &db.register;
        let on = |id, channel| NewCase {
            text: format!("{SECRET} {id}"),
            channel: Some(channel),
            ..case(id, Some("x:user"), Action::Review)
        };
        let chat = db.record(&on("r-chat", "chat")).await;
        db.record(&on("r-fb", "facebook")).await;
        r.decide(chat, &verdict(Verdict::Hide), "aino", &shipped()).await.expect("decide");
        let retention: seula::register::Retention = "chat=7".parse().expect("retention");
        let now = Utc::now();
        assert_eq!(r.purge_texts(&retention, now).await.expect("purge"), 0, "{backend}");
        let later = now + chrono::TimeDelta::days(8);
        assert_eq!(r.purge_texts(&retention, later).await.expect("purge"), 1, "{backend}");
        db.counts(&[
            (&format!("SELECT COUNT(*) FROM moderation_case WHERE text LIKE '%{SECRET} r-chat%'"), 0),
            (&format!("SELECT COUNT(*) FROM moderation_case WHERE text LIKE '%{SECRET} r-fb%'"), 1),
            ("SELECT COUNT(*) FROM moderation_case WHERE text_removed = 'retention' AND outcome = 'hide'", 1),
            ("SELECT COUNT(*) FROM decision", 1),
        ])
        .await;
        let everything: seula::register::Retention = "default=30,chat=7".parse().expect("retention");
        let much_later = now + chrono::TimeDelta::days(31);
        assert_eq!(r.purge_texts(&everything, much_later).await.expect("purge"), 1, "{backend}");
        db.counts(&[(&format!("SELECT COUNT(*) FROM moderation_case WHERE text LIKE '%{SECRET}%'"), 0)]).await;
        if backend == "sqlite" {
            assert!(!contains(&sqlite_bytes(&db.url), SECRET), "a removed text is still in the file");
        }
    })
    .await;
}

/// The outbox: deliveries written with their case once, leased so no second sender takes
/// them, retried when due, failed, sent again by hand with an audit row; on both backends.
#[tokio::test]
async fn the_outbox_leases_retries_fails_and_is_retried_by_hand() {
    check(|db| async move {
        let webhook: Webhook = toml::from_str(
            "name = \"duty\"\nurl = \"https://chat.example/hooks/T0/B0?token=x\"\n\
             secret = \"duty\"\nevents = [\"urgent_case\"]\n",
        )
        .expect("webhook");
        let notices = [Notice {
            event: Event::UrgentCase,
            webhook,
        }];
        let id = db
            .record(&NewCase {
                notices: &notices,
                ..case("fb:post77:c70", None, Action::Review)
            })
            .await;
        let again = db
            .record(&NewCase {
                notices: &notices,
                ..case("fb:post77:c70", None, Action::Review)
            })
            .await;
        assert_eq!(again, id, "{}", db.backend);
        db.counts(&[("SELECT COUNT(*) FROM delivery", 1)]).await;
        let r = &db.register;
        let now = Utc::now();
        let lease = now + TimeDelta::seconds(30);
        let due = r.lease_due(now, lease, 1, 16).await.expect("lease");
        assert_eq!(due.len(), 1, "{}", db.backend);
        let d = &due[0];
        let key = format!("case-{id}/urgent_case/duty");
        assert_eq!(
            (
                d.case_id,
                d.event.as_str(),
                &d.idempotency_key,
                d.target.as_str()
            ),
            (id, "urgent_case", &key, "duty"),
            "{}",
            db.backend
        );
        assert_eq!(d.text, "MIKSI TÄÄ EI TOIMI!!!! vitun operaattori");
        let leased = r.lease_due(now, lease, 2, 16).await.expect("lease again");
        assert!(leased.is_empty(), "{}: leased twice", db.backend);

        let tried = |then, status| Tried {
            at: now,
            http_status: status,
            error: (then != Then::Delivered).then(|| "HTTP 503".to_string()),
            millis: 3,
            then,
        };
        // A sender whose lease another took says nothing of the delivery.
        let stale = r.tried(d.id, 2, &tried(Then::Delivered, Some(200))).await;
        stale.expect("a stale sender");
        db.counts(&[("SELECT COUNT(*) FROM delivery_attempt", 0)])
            .await;
        let later = now + TimeDelta::seconds(10);
        r.tried(d.id, 1, &tried(Then::RetryAt(later), Some(503)))
            .await
            .expect("tried");
        assert!(
            r.lease_due(now, lease, 3, 16)
                .await
                .expect("lease")
                .is_empty()
        );
        let due = r
            .lease_due(later, later + TimeDelta::seconds(30), 4, 16)
            .await;
        assert_eq!(due.expect("due later").len(), 1, "{}", db.backend);
        r.tried(d.id, 4, &tried(Then::Failed, None))
            .await
            .expect("failed");
        assert_eq!(r.pending_deliveries().await.expect("pending"), 0);
        let failed = r.deliveries(Some("failed"), Some(id), None, 50).await;
        let failed = failed.expect("list").items;
        assert_eq!(failed.len(), 1, "{}", db.backend);
        assert_eq!(
            (failed[0].attempts, failed[0].attempt_log.len()),
            (2, 2),
            "{}",
            db.backend
        );
        assert_eq!(failed[0].origin, "https://chat.example", "{}", db.backend);
        assert_eq!(failed[0].attempt_log[0].http_status, Some(503));

        let retried = r.retry_delivery(d.id, "ops", later).await.expect("retry");
        let retried = retried.expect("a failed delivery");
        assert_eq!(
            (retried.status.as_str(), retried.attempts),
            ("pending", 0),
            "{}",
            db.backend
        );
        assert!(
            r.retry_delivery(d.id, "ops", later)
                .await
                .expect("again")
                .is_none()
        );
        assert_eq!(r.pending_deliveries().await.expect("pending"), 1);
        let due = r
            .lease_due(later, later + TimeDelta::seconds(30), 5, 16)
            .await;
        r.tried(
            due.expect("due")[0].id,
            5,
            &tried(Then::Delivered, Some(200)),
        )
        .await
        .expect("delivered");
        db.counts(&[
            (
                "SELECT COUNT(*) FROM delivery WHERE status = 'delivered'",
                1,
            ),
            ("SELECT COUNT(*) FROM delivery_attempt", 3),
            (
                "SELECT COUNT(*) FROM audit WHERE kind = 'delivery_retried'",
                1,
            ),
        ])
        .await;
    })
    .await;
}
