//! The golden fixtures: every comment in fixtures/comments.jsonl, in order, through one pipeline
//! with a fresh register. Prints the agreement with the labels and fails below the floor.

mod common;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use seula::api::wire;
use seula::register::Register;

/// The share of fixtures whose action, and whose key signal, must agree with the label.
const FLOOR: f64 = 0.9;

#[derive(Debug, Deserialize)]
struct Fixture {
    request: Value,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
struct Expect {
    action: String,
    signal: Option<String>,
    priority: Option<String>,
    route: Option<String>,
}

#[derive(Default)]
struct Tally {
    agree: usize,
    total: usize,
}

impl Tally {
    fn add(&mut self, ok: bool) {
        self.total += 1;
        self.agree += usize::from(ok);
    }

    fn share(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.agree as f64 / self.total as f64
        }
    }
}

#[tokio::test]
async fn golden_fixtures_agree_with_their_labels() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/comments.jsonl"
    ))
    .expect("fixtures");
    let fixtures: Vec<Fixture> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("fixture line"))
        .collect();
    assert!(
        fixtures.len() >= 200,
        "at least 200 fixtures, found {}",
        fixtures.len()
    );

    let config = common::pipeline_config();
    let sources = seula::policy_file(config.policy.as_deref()).expect("policy");
    let pipeline = seula::build_pipeline(&config, sources).expect("pipeline");
    let register = Register::connect("sqlite::memory:")
        .await
        .expect("register");
    let (mut action, mut signal, mut priority, mut route) = (
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
    );
    let mut by_action: BTreeMap<String, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    for f in &fixtures {
        let comment =
            wire::comment_from_value(f.request.clone()).expect("fixture request is valid");
        let out = pipeline
            .run(&comment, Some(&register))
            .await
            .expect("pipeline");
        let got = out.decision.action.as_str();
        let codes: Vec<&str> = out
            .decision
            .reasons
            .iter()
            .map(|r| r.code.as_str())
            .collect();
        let action_ok = got == f.expect.action;
        action.add(action_ok);
        by_action
            .entry(f.expect.action.clone())
            .or_default()
            .add(action_ok);
        let signal_ok = f
            .expect
            .signal
            .as_deref()
            .is_none_or(|s| codes.contains(&s));
        signal.add(signal_ok);
        if let Some(p) = &f.expect.priority {
            priority.add(out.decision.priority.as_str() == p);
        }
        if let Some(r) = &f.expect.route {
            route.add(out.decision.route.as_ref().map(|r| r.as_str()) == Some(r.as_str()));
        }
        if !action_ok || !signal_ok {
            misses.push(format!(
                "  {}: want {} {:?}, got {got} {codes:?}: {}",
                comment.id, f.expect.action, f.expect.signal, comment.text
            ));
        }
    }
    println!("golden fixtures: {} comments", fixtures.len());
    for (name, t) in [
        ("action", &action),
        ("key signal", &signal),
        ("priority", &priority),
        ("route", &route),
    ] {
        println!(
            "  {name:<10} {:>3}/{:<3} {:.1}%",
            t.agree,
            t.total,
            100.0 * t.share()
        );
    }
    for (name, t) in &by_action {
        println!(
            "  expected {name:<12} {:>3}/{:<3} {:.1}%",
            t.agree,
            t.total,
            100.0 * t.share()
        );
    }
    println!("disagreements:\n{}", misses.join("\n"));
    assert!(
        action.share() >= FLOOR && signal.share() >= FLOOR,
        "agreement below {FLOOR}"
    );
}
