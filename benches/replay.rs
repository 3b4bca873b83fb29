//! Criterion benches of replay over 100,000 recorded cases: the golden fixtures scored once
//! through the pipeline, cycled with distinct ids, a few authors with earlier removals, and a
//! deterministic mix of moderators' verdicts. The budget is 10 seconds for a replay.

use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use seula::api::wire;
use seula::domain::{Action, Comment};
use seula::pipeline::Pipeline;
use seula::policy::replay::{self, Recorded};
use seula::policy::{self, AuthorHistory, Policies};
use seula::signals;

const CASES: usize = 100_000;

fn fixtures() -> Vec<Comment> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/comments.jsonl"
    ))
    .expect("fixtures");
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("fixture line");
            wire::comment_from_value(v["request"].clone()).expect("valid fixture")
        })
        .collect()
}

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
    let pipeline =
        Pipeline::shipped(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
            .expect("pipeline");
    let policies = Policies::shipped().expect("shipped policy");
    let now = Utc::now();
    let scored: Vec<_> = fixtures()
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
    group.finish();
}

criterion_group!(replay_benches, benches);
criterion_main!(replay_benches);
