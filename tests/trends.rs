//! Trends: `GET /v1/stats` counts the register's cases by bucket and field, the incidents
//! opened, and the reply-time attainment; bad parameters are refused.

mod common;

use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{TestApp, spawn_app};

async fn stats(app: &TestApp, query: &str) -> (StatusCode, Value) {
    let (status, body) = app.get(&format!("/v1/stats?{query}")).await;
    (status, serde_json::from_str(&body).expect("JSON"))
}

fn series<'a>(trends: &'a Value, key: &str) -> &'a Value {
    trends["series"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["key"] == key))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn cases_are_counted_by_field_bucket_and_reply_time() {
    let app = spawn_app().await;
    let comments = [
        (
            "a",
            "Where can I buy the new Pro model? I would like to order two.",
        ),
        ("b", "Olet täysi idiootti ja vitun valehtelija"),
        (
            "c",
            "Junasovellus veloitti minulta kahdesti ja juna lähtee kymmenen minuutin päästä, auttakaa!",
        ),
        ("d", "Thanks, all good now."),
    ];
    let mut cases = Vec::new();
    for (id, text) in comments {
        let (status, body) = app
            .score(&json!({"id": id, "text": text, "channel": "facebook"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        cases.extend(body["case_id"].as_i64());
    }
    assert_eq!(
        cases.len(),
        2,
        "the lead and the thanks are allowed: not recorded"
    );
    // One answered now: within its reply-time target.
    let decided = app
        .post_raw(
            &format!("/v1/cases/{}/decisions", cases[0]),
            json!({"decision": "hide"}).to_string(),
        )
        .await;
    assert_eq!(decided.0, StatusCode::OK, "{}", decided.1);

    let (status, by_action) = stats(&app, "bucket=hour").await;
    assert_eq!(status, StatusCode::OK, "{by_action}");
    assert_eq!(by_action["cases"], 2);
    assert_eq!(by_action["by"], "action");
    let hours = by_action["buckets"].as_array().expect("buckets").len();
    assert!(
        (48..=49).contains(&hours),
        "{hours} hourly buckets by default"
    );
    let total: u64 = by_action["series"]
        .as_array()
        .expect("series")
        .iter()
        .filter_map(|s| s["total"].as_u64())
        .sum();
    assert_eq!(total, 2);
    let last = |s: &Value| s["counts"].as_array().and_then(|c| c.last()).cloned();
    for s in by_action["series"].as_array().expect("series") {
        assert_eq!(
            last(s),
            Some(s["total"].clone()),
            "this hour's bucket holds them: {by_action}"
        );
    }

    let (_, by_intent) = stats(&app, "by=intent").await;
    assert_eq!(
        series(&by_intent, "problem_report")["total"],
        1,
        "{by_intent}"
    );
    assert_eq!(by_intent["buckets"].as_array().map(Vec::len), Some(8));
    let (_, by_channel) = stats(&app, "by=channel").await;
    assert_eq!(series(&by_channel, "facebook")["total"], 2, "{by_channel}");
    let (_, by_sentiment) = stats(&app, "by=sentiment").await;
    assert!(
        series(&by_sentiment, "negative")["total"].as_u64() >= Some(1),
        "{by_sentiment}"
    );

    let reply = by_action["reply_times"].as_array().expect("reply times");
    let answered: u64 = reply
        .iter()
        .filter_map(|r| r["answered_in_time"].as_u64())
        .sum();
    assert_eq!(answered, 1, "{reply:?}");

    let since = "2020-01-01T00:00:00Z";
    for (query, want) in [
        ("by=colour", StatusCode::BAD_REQUEST),
        ("bucket=week", StatusCode::BAD_REQUEST),
        ("since=yesterday", StatusCode::BAD_REQUEST),
        ("limit=5", StatusCode::BAD_REQUEST),
        (
            &format!("bucket=hour&since={since}") as &str,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (status, body) = stats(&app, query).await;
        assert_eq!(status, want, "{query}: {body}");
    }
    let (status, old) = stats(
        &app,
        "since=2020-01-01T00:00:00Z&until=2020-01-02T00:00:00Z",
    )
    .await;
    assert_eq!((status, old["cases"].clone()), (StatusCode::OK, json!(0)));
}
