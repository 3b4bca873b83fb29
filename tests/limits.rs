//! What one client, one connection and one request may take of the server: header, body and
//! idle timeouts, a bounded number of connections and of requests in flight (refused before
//! the body is read), rates per address and per key with `Retry-After`, bounded answers, and
//! errors in the error shape for what the router or a defect would answer without one.

mod common;

use std::time::Duration;

use common::{contract_example, spawn_app, spawn_app_limited};
use reqwest::StatusCode;
use serde_json::{Value, json};
use seula::config::Limits;
use seula::domain::Reason;
use seula::normalize::NormalizedText;
use seula::pipeline::Pipeline;
use seula::scoring::{Assessment, Scorer};
use seula::signals::Signals;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn quick(limits: Limits) -> Limits {
    Limits {
        header_timeout_secs: 1,
        body_timeout_secs: 1,
        ..limits
    }
}

/// A scoring request sent as is, its answer unread.
async fn score_raw(app: &common::TestApp) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/v1/score")
        .header("content-type", "application/json")
        .body(contract_example().to_string())
        .send()
        .await
        .expect("request")
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut out)).await {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn slow_headers_slow_bodies_and_idle_connections_are_closed() {
    let app = spawn_app_limited(None, quick(Limits::default()), |_| {}).await;
    let host = format!("127.0.0.1:{}", app.addr.port());

    // Half a request line, then nothing: closed after the header timeout.
    let mut partial = TcpStream::connect(app.addr).await.expect("connect");
    partial
        .write_all(b"POST /v1/score HTTP/1.1\r\nHo")
        .await
        .expect("write");
    let said = read_to_close(&mut partial, Duration::from_secs(5)).await;
    assert!(
        said.is_some(),
        "a connection with partial headers stayed open"
    );

    // Headers, then a tenth of the body: 408 in the error shape after the body timeout.
    let mut slow = TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST /v1/score HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"id\":"
    );
    slow.write_all(head.as_bytes()).await.expect("write");
    let said = read_to_close(&mut slow, Duration::from_secs(5))
        .await
        .expect("an answer");
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("\"request_timeout\""), "{said}");

    // One whole request on a kept-alive connection, then idle: closed after the timeout.
    let mut idle = TcpStream::connect(app.addr).await.expect("connect");
    let get = format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\n\r\n");
    idle.write_all(get.as_bytes()).await.expect("write");
    let said = read_to_close(&mut idle, Duration::from_secs(5))
        .await
        .expect("closed");
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
}

#[tokio::test]
async fn connections_past_the_limit_wait_and_shutdown_does_not_wait_for_slow_clients() {
    let limits = Limits {
        max_connections: 2,
        header_timeout_secs: 2,
        shutdown_grace_secs: 1,
        ..Limits::default()
    };
    let mut app = spawn_app_limited(None, limits, |_| {}).await;
    let mut hogs = Vec::new();
    for _ in 0..2 {
        let mut hog = TcpStream::connect(app.addr).await.expect("connect");
        hog.write_all(b"GET /hea").await.expect("write");
        hogs.push(hog);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let quick_client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    let waiting = quick_client.get(app.url("/healthz")).send().await;
    assert!(
        waiting.is_err(),
        "a third connection was served past the limit of 2"
    );
    // The hogs time out and free their places.
    let (status, _) = app.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);

    // A client that never finishes its headers does not hold shutdown past the grace period.
    let mut hog = TcpStream::connect(app.addr).await.expect("connect");
    hog.write_all(b"GET /hea").await.expect("write");
    let _ = app.shutdown.take().expect("shutdown").send(());
    let server = tokio::time::timeout(Duration::from_secs(5), &mut app.server).await;
    assert!(matches!(server, Ok(Ok(Ok(())))), "{server:?}");
}

#[tokio::test]
async fn a_full_server_answers_429_before_reading_the_body() {
    let limits = Limits {
        max_in_flight: 1,
        ..quick(Limits::default())
    };
    let app = spawn_app_limited(None, limits, |_| {}).await;
    let host = format!("127.0.0.1:{}", app.addr.port());
    // One request holds the only place while its body trickles in.
    let mut holder = TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST /v1/score HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{"
    );
    holder.write_all(head.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let response = score_raw(&app).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "overloaded");
    // Reading is never refused for want of a place.
    let (status, _) = app.get("/v1/cases").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn each_address_and_each_key_gets_its_rate_and_is_told_when_to_retry() {
    let limits = Limits {
        rate_per_second: 1,
        rate_burst: 2,
        ..Limits::default()
    };
    let keys = "scorer:inbox:inbox-key-0123456789,scorer:chat:chat-key-01234567890";
    let mut app = spawn_app_limited(Some(keys), limits, |_| {}).await;
    app.token = Some("inbox-key-0123456789".into());
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(app.score(&contract_example()).await.0);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let response = score_raw(&app).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    // Health checks are not rate-limited.
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn answers_the_router_would_leave_empty_have_an_error_body() {
    let app = spawn_app().await;
    let response = app
        .request(reqwest::Method::GET, "/v1/score")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");

    let response = app
        .request(reqwest::Method::GET, "/v1/cases")
        .header("x-padding", "p".repeat(20_000))
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "headers_too_large", "{body}");
}

/// Scores like the shipped models, except that it panics on one word: a stand-in for a defect.
struct Defective(Box<dyn Scorer>);

impl Scorer for Defective {
    fn score(&self, original: &str, text: &NormalizedText, signals: &Signals) -> Assessment {
        assert!(!original.contains("DEFECT"), "a defect met on purpose");
        self.0.score(original, text, signals)
    }

    fn version(&self) -> &str {
        self.0.version()
    }
}

#[tokio::test]
async fn a_panic_fails_its_comment_alone_is_answered_500_and_counted() {
    let app = spawn_app_limited(None, Limits::default(), |state| {
        let scorer = seula::scoring::learned::LearnedScorer::load(None).expect("models");
        let sources = state.pipeline.policies().sources.clone();
        let policies = seula::pipeline::ActivePolicies::resolve(sources).expect("policies");
        let pipeline = Pipeline::new(
            policies,
            common::pipeline_config().repetition(),
            Box::new(Defective(Box::new(scorer))),
        );
        state.pipeline = std::sync::Arc::new(pipeline.expect("pipeline"));
    })
    .await;
    let defect = json!({"id": "d1", "text": "DEFECT here"});
    let (status, body) = app.score(&defect).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"]["code"], "internal", "{body}");
    assert_eq!(
        body["error"]["message"], "internal error",
        "the panic's text is logged, not sent"
    );

    let good = |id: &str| json!({"id": id, "text": "Kiitos avusta!"});
    let (status, body) = app.score_batch(&[good("g1"), defect, good("g2")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["action"], "allow");
    assert_eq!(body["items"][1]["error"]["code"], "internal");
    assert_eq!(body["items"][2]["action"], "allow");

    let (_, metrics) = app.get("/metrics").await;
    assert!(metrics.contains("seula_panics_total 2"), "{metrics}");
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_text_full_of_hits_gets_a_bounded_answer_that_says_what_it_left_out() {
    let app = spawn_app().await;
    // 20,000 characters of disguised insults and phone numbers: hundreds of hits.
    let chunk = "v\u{200b}i\u{200b}t\u{200b}u\u{200b}n idi\u{ad}ootti 040 123 4567 ";
    let text: String = chunk.repeat(20_000 / chunk.chars().count());
    let items: Vec<Value> = (0..10)
        .map(|i| json!({"id": format!("long{i}"), "text": text, "author": {"id": format!("a{i}")}}))
        .collect();
    let response = app
        .request(reqwest::Method::POST, "/v1/score:batch")
        .header("content-type", "application/json")
        .body(json!({ "items": items }).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().await.expect("body");
    assert!(
        bytes.len() < 10 * 40_000,
        "{} bytes for 10 items",
        bytes.len()
    );
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    let items = body["items"].as_array().expect("items");
    assert!(
        items.iter().all(|i| i["truncated"]["limit"] == 32),
        "{body}"
    );

    let (_, one) = app.score(&json!({"id": "one", "text": text})).await;
    let listed = |key: &str| one["signals"][key].as_array().map_or(0, Vec::len);
    assert_eq!(one["truncated"]["limit"], 32, "{}", one["truncated"]);
    assert!(
        one["truncated"]["spans"].as_u64().unwrap_or(0) > 100,
        "{}",
        one["truncated"]
    );
    assert!(one["reasons"].as_array().map_or(0, Vec::len) <= 32);
    assert!(listed("profanity") <= 32 && listed("personal_data") <= 32);
    let reasons: Vec<Reason> =
        serde_json::from_value(one["reasons"].clone()).expect("reasons in the contract's shape");
    assert!(
        reasons.windows(2).all(|w| w[0].weight >= w[1].weight),
        "strongest kept"
    );
    // The register keeps the capped answer, not every hit.
    let stored = app
        .count("SELECT MAX(LENGTH(reasons) + LENGTH(signals)) FROM moderation_case")
        .await;
    assert!(
        stored < 40_000,
        "{stored} bytes of reasons and signals in one case"
    );

    // An ordinary comment says nothing was left out.
    let (_, plain) = app.score(&contract_example()).await;
    assert_eq!(plain["truncated"], Value::Null);
}
