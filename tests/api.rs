//! The HTTP API end to end: the real app on port 0, a fresh register, requests over TCP.

mod common;

use common::{contract_example, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn contract_example_has_the_documented_shape() {
    let app = spawn_app().await;
    let (status, body) = app.score(&contract_example()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], "fb:post77:c42");
    assert_eq!(body["action"], "review");
    assert_eq!(body["priority"], "urgent");
    assert_eq!(body["route"], "customer_service");
    assert_eq!(body["language"], "fi");
    assert_eq!(body["sentiment"]["label"], "negative");
    for score in [
        "toxicity",
        "severe_toxicity",
        "insult",
        "threat",
        "identity_attack",
        "profanity",
        "spam",
        "urgency",
        "troll",
    ] {
        let p = body["scores"][score].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&p), "{score}: {p}");
    }
    for signal in [
        "shouting",
        "elongation",
        "exclamations",
        "repetition",
        "account_age_days",
        "has_photo",
        "few_connections",
        "name_suspicious",
        "writing_quality",
        "answers_with_question",
        "links",
    ] {
        assert!(
            body["signals"].get(signal).is_some(),
            "signals.{signal} missing"
        );
    }
    assert_eq!(body["signals"]["exclamations"], 4);
    let profanity = body["reasons"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["code"] == "profanity.lexicon"))
        .cloned();
    assert_eq!(profanity.map(|r| r["span"].clone()), Some(json!([23, 28])));
    let weights: Vec<f64> = body["reasons"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["weight"].as_f64()).collect())
        .unwrap_or_default();
    assert!(
        weights.windows(2).all(|w| w[0] >= w[1]),
        "reasons strongest first: {weights:?}"
    );
    assert!(body["case_id"].is_i64());
    // Urgent, posted at 12:00 in Helsinki: the 30-minute target.
    assert_eq!(body["respond_by"], "2026-11-22T10:30:00Z");
    assert_eq!(body["signals"]["personal_data"], json!([]));
    assert_eq!(body["recommendations"], json!([]));
    assert_eq!(body["policy"], json!({"name": "default", "version": 1}));
    assert!(body["model_version"].is_string() && body["took_ms"].is_f64());
}

#[tokio::test]
async fn bad_input_gets_its_json_error() {
    let app = spawn_app().await;
    let ok = || contract_example();
    let with = |path: &[&str], value: Value| {
        let mut v = ok();
        let (last, parents) = path.split_last().expect("path");
        let mut at = &mut v;
        for p in parents {
            at = &mut at[*p];
        }
        at[*last] = value;
        v.to_string()
    };
    let without = |field: &str| {
        let mut v = ok();
        v.as_object_mut().map(|o| o.remove(field));
        v.to_string()
    };
    let cases: Vec<(&str, String, StatusCode, &str, &str)> = vec![
        (
            "malformed JSON",
            "{\"id\": \"a\", \"text\": ".into(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "not valid JSON",
        ),
        (
            "not an object",
            "[1, 2]".into(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "must be a JSON object",
        ),
        (
            "missing id",
            without("id"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing field `id`",
        ),
        (
            "missing text",
            without("text"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing field `text`",
        ),
        (
            "text of wrong type",
            with(&["text"], json!(42)),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "text: invalid type",
        ),
        (
            "followers of wrong type",
            with(&["author", "followers"], json!("many")),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "author.followers: invalid type",
        ),
        (
            "empty text",
            with(&["text"], json!("")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "text: must not be empty",
        ),
        (
            "whitespace text",
            with(&["text"], json!(" \n\t ")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "text: must not be empty",
        ),
        (
            "text too long",
            with(&["text"], json!("a".repeat(20_001))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "at most 20000 characters",
        ),
        (
            "empty id",
            with(&["id"], json!("")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "id: must not be empty",
        ),
        (
            "id too long",
            with(&["id"], json!("x".repeat(257))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "id: must be at most 256",
        ),
        (
            "bad timestamp",
            with(&["created_at"], json!("yesterday")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "created_at: \"yesterday\" is not an RFC 3339",
        ),
        (
            "bad author timestamp",
            with(&["author", "created_at"], json!("2026-13-01")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "author.created_at",
        ),
        (
            "negative followers",
            with(&["author", "followers"], json!(-3)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "author.followers: must not be negative",
        ),
        (
            "negative age",
            with(&["author", "account_age_days"], json!(-1)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "author.account_age_days: must not be negative",
        ),
        (
            "negative posts",
            with(&["author", "posts"], json!(-10)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "author.posts: must not be negative",
        ),
        (
            "unknown language",
            with(&["language"], json!("klingon")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "language:",
        ),
    ];
    for (name, body, status, code, message) in cases {
        let (got, error) = app.post_raw("/v1/score", body).await;
        assert_eq!(got, status, "{name}: {error}");
        assert_eq!(error["error"]["code"], code, "{name}: {error}");
        let text = error["error"]["message"].as_str().unwrap_or_default();
        assert!(
            text.contains(message),
            "{name}: {text:?} should contain {message:?}"
        );
    }
    let (status, _) = app.score(&contract_example()).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the service still scores after bad input"
    );
}

#[tokio::test]
async fn text_of_exactly_the_limit_is_accepted() {
    let app = spawn_app().await;
    let (status, body) = app
        .score(&json!({"id": "long", "text": "ä".repeat(20_000)}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn body_over_one_mebibyte_is_413() {
    let app = spawn_app().await;
    let body = json!({"id": "big", "text": "a".repeat(1024 * 1024)}).to_string();
    let (status, error) = app.post_raw("/v1/score", body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn a_bad_batch_item_fails_alone() {
    let app = spawn_app().await;
    let items = vec![
        json!({"id": "b1", "text": "Kiitos nopeasta avusta!"}),
        json!({"id": "b2", "text": "   "}),
        json!({"id": "b3", "text": "Sovellus veloitti lipun kahdesti, haluan rahat takaisin"}),
        json!({"text": "no id"}),
        json!({"id": "b5", "text": "ok", "author": {"followers": -1}}),
    ];
    let (status, body) = app.score_batch(&items).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let out = body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(out.len(), 5);
    assert_eq!(
        (out[0]["id"].clone(), out[0]["action"].clone()),
        (json!("b1"), json!("allow"))
    );
    assert_eq!(
        (out[1]["id"].clone(), out[1]["error"]["code"].clone()),
        (json!("b2"), json!("invalid_request"))
    );
    assert_eq!(out[2]["action"], "prioritize");
    assert_eq!(
        (out[3]["id"].clone(), out[3]["error"]["code"].clone()),
        (Value::Null, json!("invalid_request"))
    );
    assert!(
        out[4]["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("author.followers")
    );
}

#[tokio::test]
async fn batch_shape_and_size_are_checked() {
    let app = spawn_app().await;
    let (status, error) = app
        .post_raw("/v1/score:batch", json!({"items": "nope"}).to_string())
        .await;
    assert_eq!(
        (status, error["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_request"))
    );
    let items: Vec<Value> = (0..257)
        .map(|i| json!({"id": format!("i{i}"), "text": "hei"}))
        .collect();
    let (status, error) = app.score_batch(&items).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("at most 256")
    );
    let items: Vec<Value> = (0..256)
        .map(|i| json!({"id": format!("i{i}"), "text": "hei"}))
        .collect();
    assert_eq!(app.score_batch(&items).await.0, StatusCode::OK);
}

#[tokio::test]
async fn scoring_the_same_comment_again_returns_the_same_case() {
    let app = spawn_app().await;
    let (_, first) = app.score(&contract_example()).await;
    let (_, second) = app.score(&contract_example()).await;
    assert!(first["case_id"].is_i64());
    assert_eq!(first["case_id"], second["case_id"]);
    assert_eq!(
        second["signals"]["repetition"]["same_author"], 0,
        "a comment does not repeat itself"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM moderation_case").await, 1);
    assert_eq!(
        app.count("SELECT cases FROM author WHERE id = 'fb:user:991'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE kind = 'scored'")
            .await,
        1
    );
}

#[tokio::test]
async fn allowed_comments_are_not_recorded() {
    let app = spawn_app().await;
    let (_, body) = app
        .score(&json!({"id": "ok1", "text": "Kiitos, nyt toimii taas!"}))
        .await;
    assert_eq!(
        (body["action"].clone(), body["case_id"].clone()),
        (json!("allow"), Value::Null)
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM moderation_case").await, 0);
}

#[tokio::test]
async fn repeat_offenders_escalate() {
    let app = spawn_app().await;
    let insult = |id: &str, text: &str| json!({"id": id, "text": text, "author": {"id": "x:troll", "name": "Troll"}, "created_at": "2026-11-22T10:00:00Z"});
    let texts = [
        "Olet täysi idiootti",
        "Sä oot ihan ääliö, painu pois",
        "Te ootte kaikki idiootteja ja pellejä",
    ];
    let mut actions = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let (_, body) = app.score(&insult(&format!("e{i}"), text)).await;
        actions.push(body["action"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(actions, ["hide", "hide", "block_author"]);
    assert_eq!(
        app.count("SELECT hidden * 10 + blocked FROM author WHERE id = 'x:troll'")
            .await,
        21
    );
}

#[tokio::test]
async fn health_readiness_metrics_and_unknown_paths() {
    let app = spawn_app().await;
    app.score(&contract_example()).await;
    let lead = json!({"id": "lead", "text": "Where can I buy the new Pro model? I would like to order two."});
    app.score(&lead).await;
    assert_eq!(
        app.get("/healthz").await,
        (StatusCode::OK, "ok".to_string())
    );
    assert_eq!(
        app.get("/readyz").await,
        (StatusCode::OK, "ready".to_string())
    );
    let (status, metrics) = app.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "seula_requests_total{endpoint=\"score\",status=\"200\"} 2",
        "seula_stage_duration_seconds_bucket{",
        "stage=\"normalize\"",
        "stage=\"register\"",
        "seula_actions_total{action=\"review\"} 1",
        "seula_intents_total{intent=\"purchase_intent\"} 1",
        "seula_routes_total{route=\"sales\"} 1",
        // The contract example was due on 2026-11-22 and nobody has answered it.
        "seula_cases_overdue 1",
    ] {
        assert!(
            metrics.contains(needle),
            "metrics lack {needle}:\n{metrics}"
        );
    }
    let (status, body) = app.get("/v1/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("not_found"));
}

#[tokio::test]
async fn shutdown_finishes_and_stops_serving() {
    let mut app = spawn_app().await;
    let (status, _) = app.score(&contract_example()).await;
    assert_eq!(status, StatusCode::OK);
    app.shutdown.take().map(|tx| tx.send(()));
    let served = tokio::time::timeout(std::time::Duration::from_secs(10), &mut app.server).await;
    assert!(
        matches!(served, Ok(Ok(Ok(())))),
        "server stops cleanly after the signal"
    );
    assert!(
        app.client.get(app.url("/healthz")).send().await.is_err(),
        "no longer listening"
    );
}
