//! The register API over HTTP: the queue with filters and pages, a case's evidence, claims,
//! decisions one and many, authors, the audit log, and their errors.

mod common;

use common::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn get_json(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let (status, body) = app.get(path).await;
    let value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("non-JSON {status}: {body}"));
    (status, value)
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|c| c["id"].as_i64()).collect())
        .unwrap_or_default()
}

/// Scores a comment by `author` and returns its case id.
async fn case(app: &TestApp, id: &str, text: &str, author: &str) -> i64 {
    let request = json!({"id": id, "text": text, "channel": "facebook", "author": {"id": author},
                         "created_at": "2026-11-26T10:00:00Z"});
    let (status, body) = app.score(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["case_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("not recorded: {body}"))
}

#[tokio::test]
async fn the_queue_filters_and_pages() {
    let app = spawn_app().await;
    let outage = case(
        &app,
        "c1",
        "Netti ei toimi taaskaan ja etätyöpalaveri alkaa nyt!",
        "a1",
    )
    .await;
    let insult = case(&app, "c2", "Olet täysi idiootti", "a2").await;
    let swear = case(&app, "c3", "vitun paskafirma", "a3").await;
    let (status, all) = get_json(&app, "/v1/cases").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(ids(&all).first(), Some(&outage), "urgent first: {all}");
    assert_eq!(ids(&all).len(), 3);
    let (_, hidden) = get_json(&app, "/v1/cases?action=hide").await;
    assert_eq!(ids(&hidden), [insult]);
    let (_, found) = get_json(&app, "/v1/cases?q=PASKAFIRMA&status=open").await;
    assert_eq!(ids(&found), [swear]);
    let (_, by_author) = get_json(&app, "/v1/cases?author=a2&min_insult=0.5").await;
    assert_eq!(ids(&by_author), [insult]);
    let (_, none) = get_json(&app, "/v1/cases?since=2999-01-01T00:00:00Z").await;
    assert_eq!(ids(&none), Vec::<i64>::new());
    // Two pages of two and one, the same cases in the same order.
    let (_, first) = get_json(&app, "/v1/cases?limit=2").await;
    let cursor = first["next"].as_str().expect("a next page").to_string();
    let (_, second) = get_json(&app, &format!("/v1/cases?limit=2&cursor={cursor}")).await;
    assert_eq!([ids(&first), ids(&second)].concat(), ids(&all));
    assert_eq!(second["next"], Value::Null);
    for (bad, needle) in [
        ("/v1/cases?min_rudeness=0.5", "unknown score"),
        ("/v1/cases?min_toxicity=2", "not in [0, 1]"),
        ("/v1/cases?limit=0", "limit"),
        ("/v1/cases?status=closed", "status"),
        ("/v1/cases?cursor=nonsense", "cursor"),
        ("/v1/cases?sort=age", "unknown parameter"),
        ("/v1/cases?since=yesterday", "RFC 3339"),
    ] {
        let (status, body) = get_json(&app, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{bad}: {message}");
    }
}

#[tokio::test]
async fn a_moderator_claims_decides_undoes_and_it_is_all_on_record() {
    let app = spawn_app().await;
    let id = case(&app, "d1", "Olet täysi idiootti", "troll").await;
    let (status, detail) = get_json(&app, &format!("/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["text"], "Olet täysi idiootti");
    assert!(detail["reasons"].as_array().is_some_and(|r| !r.is_empty()));
    assert!(detail["signals"].is_object() && detail["scores"].is_object());
    assert_eq!(detail["author"]["id"], "troll");
    assert_eq!(
        (detail["policy_name"].clone(), detail["decisions"].clone()),
        (json!("default"), json!([]))
    );

    let (status, claim) = app
        .post_raw(&format!("/v1/cases/{id}/claim"), "{\"minutes\": 5}")
        .await;
    assert_eq!(status, StatusCode::OK, "{claim}");
    assert_eq!(claim["claimed_by"], "local");
    let decide = |body: Value| {
        let app = &app;
        async move {
            app.post_raw(&format!("/v1/cases/{id}/decisions"), body.to_string())
                .await
        }
    };
    let (status, decided) = decide(json!({"decision": "hide", "note": "name-calling", "labels": {"insult": true, "label": "negative"}})).await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(
        (decided["decision"].clone(), decided["moderator"].clone()),
        (json!("hide"), json!("local"))
    );
    let (status, _) =
        decide(json!({"decision": "allow", "note": "it was a joke between friends"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, detail) = get_json(&app, &format!("/v1/cases/{id}")).await;
    assert_eq!(
        (detail["outcome"].clone(), detail["status"].clone()),
        (json!("allow"), json!("decided"))
    );
    assert_eq!(
        detail["decisions"].as_array().map(Vec::len),
        Some(2),
        "an undo is a new decision"
    );
    let (_, log) = get_json(&app, &format!("/v1/audit?case={id}")).await;
    let kinds: Vec<&str> = log["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kinds,
        ["decided", "decided", "claimed", "scored"],
        "newest first"
    );

    for (body, status, code) in [
        (
            json!({"decision": "ban"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"decision": "hide", "labels": {"insult": "very"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            json!({"decision": "hide", "mood": "grumpy"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        // A hand-off names a team of a policy in force, in the form of a route name.
        (
            json!({"decision": "escalate", "route": "marketting"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            json!({"decision": "escalate", "route": "Legal Team"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ] {
        let (got, error) = decide(body.clone()).await;
        assert_eq!(
            (got, error["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {error}"
        );
    }
    let (status, handed) = decide(json!({"decision": "escalate", "route": "product"})).await;
    assert_eq!(
        (status, handed["route"].as_str()),
        (StatusCode::OK, Some("product")),
        "{handed}"
    );
    let (status, error) = app
        .post_raw(
            "/v1/cases/424242/decisions",
            json!({"decision": "hide"}).to_string(),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
    let (status, _) = get_json(&app, "/v1/cases/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post_raw(&format!("/v1/cases/{id}/claim"), "{\"minutes\": 600}")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn bulk_decisions_answer_each_id_and_moderators_feed_later_scoring() {
    let app = spawn_app().await;
    let first = case(&app, "b1", "vitun paskafirma", "angry").await;
    let second = case(
        &app,
        "b2",
        "paskat teidän tarjouksista, vitun huijarit",
        "angry",
    )
    .await;
    let (status, bulk) = app
        .post_raw(
            "/v1/cases/decisions:batch",
            json!({"ids": [first, 9999, second], "decision": "delete"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bulk}");
    assert_eq!(bulk["items"][0]["decision"]["decision"], "delete");
    assert_eq!(bulk["items"][1]["error"]["code"], "not_found");
    assert_eq!(bulk["items"][2]["id"], second);
    let (status, _) = app
        .post_raw(
            "/v1/cases/decisions:batch",
            json!({"ids": [], "decision": "hide"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, author) = get_json(&app, "/v1/authors/angry").await;
    assert_eq!(status, StatusCode::OK, "{author}");
    assert_eq!(author["cases_list"].as_array().map(Vec::len), Some(2));
    assert_eq!(author["blocked"], false);
    let (status, _) = get_json(&app, "/v1/authors/nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Two deletions by moderators: the author's next swearing is no longer only reviewed.
    let (_, later) = app
        .score(&json!({"id": "b3", "text": "vitun paskafirma taas", "author": {"id": "angry"}}))
        .await;
    assert_eq!(later["action"], "hide", "{later}");
    assert!(
        later["reasons"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["code"] == "author.history"))
    );
}

#[tokio::test]
async fn a_case_claimed_by_one_moderator_is_not_decided_by_another() {
    let (aino, bertta) = ("aino-key-0123456789abcdef", "bertta-key-0123456789abcdef");
    let keys = format!(
        "scorer:inbox:inbox-key-0123456789abcdef, moderator:aino:{aino}, moderator:bertta:{bertta}"
    );
    let mut app = common::spawn_app_with(Some(&keys)).await;
    app.token = Some(aino.into());
    let id = case(&app, "k1", "Olet täysi idiootti", "troll").await;
    let (status, _) = app.post_raw(&format!("/v1/cases/{id}/claim"), "").await;
    assert_eq!(status, StatusCode::OK);
    app.token = Some(bertta.into());
    let (status, error) = app.post_raw(&format!("/v1/cases/{id}/claim"), "").await;
    assert_eq!(
        (status, error["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("conflict"))
    );
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("aino")),
        "{error}"
    );
    let hide = json!({"decision": "hide"}).to_string();
    let (status, _) = app
        .post_raw(&format!("/v1/cases/{id}/decisions"), hide.clone())
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    app.token = Some(aino.into());
    let (status, decided) = app
        .post_raw(&format!("/v1/cases/{id}/decisions"), hide)
        .await;
    assert_eq!(
        (status, decided["moderator"].clone()),
        (StatusCode::OK, json!("aino"))
    );
    let (_, log) = get_json(&app, "/v1/audit?actor=aino").await;
    assert_eq!(
        log["items"].as_array().map(Vec::len),
        Some(2),
        "claimed and decided: {log}"
    );
}
