//! What an attacker or a careless client sends gets a clear 4xx and changes nothing: input the
//! register could not store (NUL, unbounded ids and names, padded ids), a `created_at` from the
//! future, and, in open local mode, requests a web page could make (forms and plain text,
//! another origin, a DNS-rebound host name). Every answer says `nosniff`.

mod common;

use chrono::{TimeDelta, Utc};
use common::{contract_example, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn with(path: &[&str], value: Value) -> Value {
    let mut request = contract_example();
    let mut at = &mut request;
    for key in &path[..path.len() - 1] {
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = value;
    request
}

#[tokio::test]
async fn input_the_register_cannot_store_is_refused_before_anything_is_recorded() {
    let app = spawn_app().await;
    let cases = [
        (
            with(&["text"], json!("vitun\u{0}operaattori")),
            "text: must not contain NUL",
        ),
        (
            with(&["author", "id"], json!("fb:\u{0}")),
            "author.id: must not contain NUL",
        ),
        (
            with(&["author", "id"], json!("x".repeat(3_000))),
            "author.id: must be at most 256",
        ),
        (
            with(&["channel"], json!("c".repeat(65))),
            "channel: must be at most 64",
        ),
        (
            with(&["thread", "id"], json!("t".repeat(257))),
            "thread.id: must be at most 256",
        ),
        (
            with(&["author", "bio"], json!("b".repeat(2_001))),
            "author.bio: must be at most 2000",
        ),
        (
            with(&["id"], json!(format!("c1{}", " ".repeat(300)))),
            "id: must be at most 256 characters (got 302)",
        ),
        (
            with(&["created_at"], json!("9999-12-31T23:59:59Z")),
            "created_at: 9999-12-31 23:59:59 UTC is more than 5 minutes in the future",
        ),
        (
            with(
                &["created_at"],
                json!((Utc::now() + TimeDelta::hours(1)).to_rfc3339()),
            ),
            "minutes in the future",
        ),
    ];
    for (request, message) in cases {
        let (status, body) = app.score(&request).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{message}: {body}"
        );
        let said = body["error"]["message"].as_str().unwrap_or_default();
        assert!(said.contains(message), "{said:?} lacks {message:?}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM moderation_case").await, 0);

    // A bad item in a batch fails alone; the good one is recorded.
    let good = with(&["id"], json!("good"));
    let bad = with(&["id"], json!("bad\u{0}"));
    let (status, body) = app.score_batch(&[good, bad]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["id"], "good");
    assert_eq!(body["items"][1]["error"]["code"], "invalid_request");
    assert_eq!(app.count("SELECT COUNT(*) FROM moderation_case").await, 1);

    // A clock a minute fast is fine.
    let soon = (Utc::now() + TimeDelta::minutes(1)).to_rfc3339();
    let (status, body) = app.score(&with(&["created_at"], json!(soon)).clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn open_local_mode_refuses_what_a_web_page_could_send() {
    let app = spawn_app().await;
    let body = contract_example().to_string();
    let send = |content_type: &str, headers: &[(&str, String)]| {
        let mut request = app
            .request(reqwest::Method::POST, "/v1/score")
            .header("content-type", content_type)
            .body(body.clone());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send()
    };
    let own = format!("http://{}", app.addr);
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, StatusCode);
    let cases: [Case; 6] = [
        ("text/plain", vec![], StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (
            "application/x-www-form-urlencoded",
            vec![],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "application/json",
            vec![("origin", "http://evil.example".into())],
            StatusCode::FORBIDDEN,
        ),
        (
            "application/json",
            vec![("origin", "null".into())],
            StatusCode::FORBIDDEN,
        ),
        (
            "application/json",
            vec![("host", format!("evil.example:{}", app.addr.port()))],
            StatusCode::FORBIDDEN,
        ),
        (
            "application/json; charset=utf-8",
            vec![("origin", own)],
            StatusCode::OK,
        ),
    ];
    for (content_type, headers, want) in cases {
        let response = send(content_type, &headers).await.expect("request");
        assert_eq!(response.status(), want, "{content_type} {headers:?}");
        assert_eq!(
            response
                .headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().ok()),
            Some(Some("nosniff"))
        );
        let answer: Value = response.json().await.expect("JSON body");
        if want != StatusCode::OK {
            assert!(answer["error"]["message"].is_string(), "{answer}");
        }
    }
    // Reading stays open to any page of the server's own: the page itself loads.
    let (status, _) = app.get("/").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn erasing_an_author_over_http_forgets_them_in_the_register_and_the_repetition_memory() {
    let app = spawn_app().await;
    let post = |id: &str| json!({"id": id, "text": "vitun idiootit taas rikkoneet koko sovelluksen", "author": {"id": "x:erase-me"}});
    app.score(&post("p1")).await;
    let (_, again) = app.score(&post("p2")).await;
    assert_eq!(again["signals"]["repetition"]["same_author"], 1, "{again}");

    let response = app
        .request(reqwest::Method::DELETE, "/v1/authors/x:erase-me")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let erasure: Value = response.json().await.expect("JSON");
    assert_eq!(
        (&erasure["cases"], &erasure["erased_by"]),
        (&json!(2), &json!("local")),
        "{erasure}"
    );
    assert_eq!(
        app.get("/v1/authors/x:erase-me").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = app.get("/v1/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE kind = 'erased'")
            .await,
        1
    );

    // Posting again starts from nothing.
    let (_, fresh) = app.score(&post("p3")).await;
    assert_eq!(fresh["signals"]["repetition"]["same_author"], 0, "{fresh}");
    let response = app
        .request(reqwest::Method::DELETE, "/v1/authors/x:nobody")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn repetition_counts_arrivals_whatever_created_at_says() {
    let app = spawn_app().await;
    let text = "Palauttakaa rahani heti tai teen rikosilmoituksen";
    let at = |id: &str, created_at: &str| json!({"id": id, "text": text, "created_at": created_at, "author": {"id": "x:clock"}});
    app.score(&at("t1", "2026-11-30T10:00:00Z")).await;
    // Dated two days before the first: still the second arrival within the window.
    let (_, second) = app.score(&at("t2", "2026-11-28T10:00:00Z")).await;
    assert_eq!(
        second["signals"]["repetition"]["same_author"], 1,
        "{second}"
    );
}
