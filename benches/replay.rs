//! Criterion benches of replay over 100,000 recorded cases: the golden fixtures scored once
//! through the pipeline, cycled with distinct ids, a few authors with earlier removals, and a
//! deterministic mix of moderators' verdicts. The budget is 10 seconds for a replay.
//! `from_register_100k` is the whole path a policy owner waits for: 100,000 cases read from an
//! embedded SQLite register (their scores and signals parsed from JSON), then replayed.

mod common;

use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use seula::domain::Action;
use seula::pipeline::Pipeline;
use seula::policy::replay::{self, Recorded};
use seula::policy::{self, AuthorHistory, Policies};
use seula::signals;
use seula::signals::intents::IntentScores;

const CASES: usize = 100_000;

/// A moderator's verdict on case `i`: most cases undecided, most verdicts agreeing with the
/// recorded action, some overruling it either way.
fn verdict(i: usize, recorded: Action) -> Option<Action> {
    let agree = match recorded {
        Action::Allow | Action::Prioritize => Action::Allow,
        Action::Review if i.is_multiple_of(2) => Action::Hide,
        Action::Review => Action::Allow,
        removed => removed,
    };
    match i % 10 {
        0..=4 => None,
        5..=7 => Some(agree),
        8 => Some(Action::Hide),
        _ => Some(Action::Allow),
    }
}

/// The recorded register: each fixture scored once, then recorded as its channel's shipped
/// policy decided it for the author history case `i` carries.
fn register() -> Vec<Recorded> {
    let pipeline = Pipeline::shipped().expect("pipeline");
    let policies = Policies::shipped().expect("shipped policy");
    let now = Utc::now();
    let scored: Vec<_> = common::fixtures()
        .into_iter()
        .map(|c| {
            let outcome = pipeline.decide(&c, AuthorHistory::default(), now);
            (c.channel, outcome.assessment.scores, outcome.signals)
        })
        .collect();
    (0..CASES)
        .map(|i| {
            let (channel, scores, signals) = &scored[i % scored.len()];
            let history = AuthorHistory {
                removed: match i % 13 {
                    0 => 2,
                    1 | 2 => 1,
                    _ => 0,
                },
            };
            let d = policy::decide(
                policies.for_channel(channel.as_deref()),
                scores,
                &IntentScores::default(),
                signals,
                history,
                signals::explain(signals),
            );
            Recorded {
                id: i as i64 + 1,
                channel: channel.clone(),
                action: d.action,
                priority: d.priority,
                route: d.route,
                scores: *scores,
                signals: signals.clone(),
                history,
                moderator: verdict(i, d.action),
            }
        })
        .collect()
}

/// A SQLite register in `dir` holding the golden fixtures as recorded by the server, copied to
/// at least 100,000 cases.
async fn stored_register(dir: &std::path::Path) -> seula::register::Register {
    let url = format!("sqlite://{}", dir.join("seula.db").display());
    let register = seula::register::Register::connect(&url)
        .await
        .expect("register");
    let pipeline = Pipeline::shipped().expect("pipeline");
    for comment in common::fixtures() {
        pipeline
            .run(&comment, Some(&register))
            .await
            .expect("record");
    }
    let pool = sqlx::SqlitePool::connect(&url)
        .await
        .expect("side connection");
    let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM moderation_case")
        .fetch_one(&pool)
        .await
        .expect("count");
    let copies = (CASES as u64).div_ceil(recorded.max(1) as u64);
    let columns = "channel, thread_id, author_id, language, text, action, priority, route, scores, \
        sentiment, signals, reasons, policy_name, policy_version, model_version, status, created_at, \
        recorded_at, respond_by, outcome, protective, author_removed";
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {copies}) \
         INSERT INTO moderation_case (comment_id, {columns}) \
         SELECT comment_id || '/' || n.i, {columns} FROM moderation_case, n"
    )))
    .execute(&pool)
    .await
    .expect("copies");
    pool.close().await;
    register
}

fn benches(c: &mut Criterion) {
    let cases = register();
    let mut candidate = Policies::shipped()
        .expect("shipped policy")
        .for_channel(None)
        .clone();
    candidate.actions.hide.insert("insult".into(), 0.5);
    let report = replay::replay(&candidate, &cases);
    assert_eq!(report.cases, CASES);
    assert!(report.changed.action > 0, "the candidate changes something");

    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    group.bench_function("replay_100k", |b| {
        b.iter(|| black_box(replay::replay(&candidate, &cases)))
    });
    group.bench_function("thresholds_100k", |b| {
        b.iter(|| black_box(replay::thresholds(&cases)))
    });
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let register = runtime.block_on(stored_register(dir.path()));
    let stored = runtime
        .block_on(register.recorded(None, None))
        .expect("recorded");
    assert!(stored.len() >= CASES, "{} cases stored", stored.len());
    group.bench_function("from_register_100k", |b| {
        b.iter(|| {
            let cases = runtime
                .block_on(register.recorded(None, None))
                .expect("recorded");
            black_box(replay::replay(&candidate, &cases))
        })
    });
    group.finish();
}

criterion_group!(replay_benches, benches);
criterion_main!(replay_benches);
