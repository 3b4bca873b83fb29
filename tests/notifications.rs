//! Notifications: the policy's webhook targets, deliveries written with their cases, signed,
//! retried until the receiver answers, listed with their attempts, sent again by hand once
//! failed; and none lost or repeated (beyond the idempotency key) when the server is killed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use common::{TestApp, spawn_app_limited};
use seula::config::Limits;
use seula::notify::{Outbox, Settings};

const DUTY_SECRET: &str = "duty-secret-0123456789";
const SALES_SECRET: &str = "sales-secret-0123456789";
const SECRETS: &str = "duty:duty-secret-0123456789,sales:sales-secret-0123456789";
const WAIT: Duration = Duration::from_secs(60);

/// How the receiver answers: fail a key's first attempts, then 200; or refuse everything; or
/// hold every request without answering.
const FAIL_FIRST: u8 = 0;
const DOWN: u8 = 1;
const HANG: u8 = 2;

#[derive(Debug, Clone)]
struct Received {
    path: String,
    key: String,
    event: String,
    timestamp: String,
    signature: String,
    body: String,
    answered: u16,
}

#[derive(Clone)]
struct Receiver {
    log: Arc<Mutex<Vec<Received>>>,
    mode: Arc<AtomicU8>,
    fail_first: usize,
}

impl Receiver {
    fn log(&self) -> Vec<Received> {
        self.log.lock().expect("log").clone()
    }

    /// The keys answered 200, each with how many times.
    fn delivered(&self) -> BTreeMap<String, usize> {
        let mut keys = BTreeMap::new();
        for r in self.log().into_iter().filter(|r| r.answered == 200) {
            *keys.entry(r.key).or_insert(0) += 1;
        }
        keys
    }
}

async fn hook(
    State(receiver): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let key = header("idempotency-key");
    let mode = receiver.mode.load(Ordering::SeqCst);
    if mode == HANG {
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
    let mut log = receiver.log.lock().expect("log");
    let earlier = log.iter().filter(|r| r.key == key).count();
    let status = if uri.path() == "/down" && mode == DOWN {
        StatusCode::SERVICE_UNAVAILABLE
    } else if uri.path() == "/hook" && earlier < receiver.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    log.push(Received {
        path: uri.path().to_string(),
        key,
        event: header("seula-event"),
        timestamp: header("seula-timestamp"),
        signature: header("seula-signature"),
        body,
        answered: status.as_u16(),
    });
    status
}

async fn start_receiver(fail_first: usize, mode: u8) -> (SocketAddr, Receiver) {
    let receiver = Receiver {
        log: Arc::default(),
        mode: Arc::new(AtomicU8::new(mode)),
        fail_first,
    };
    let app = axum::Router::new()
        .fallback(axum::routing::post(hook))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, receiver)
}

fn expected_signature(secret: &str, timestamp: &str, key: &str, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{timestamp}.{key}.{body}").as_bytes());
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn webhooks(receiver: SocketAddr) -> String {
    format!(
        r#"
[[webhooks]]
name = "sales-team"
url = "http://{receiver}/hook"
secret = "sales"
route = "sales"
events = ["sales_lead"]

[[webhooks]]
name = "duty"
url = "http://{receiver}/hook?token=kept-out-of-lists"
format = "slack"
secret = "duty"
events = ["urgent_case", "escalation"]

[[webhooks]]
name = "broken"
url = "http://{receiver}/down"
format = "teams"
secret = "sales"
events = ["sales_lead"]
"#
    )
}

/// The app sending with `settings` and the test's secrets, and the default policy's text.
async fn with_outbox(settings: Settings) -> (TestApp, String) {
    let app = spawn_app_limited(None, Limits::default(), |state| {
        state.outbox = Arc::new(Outbox::new(settings, SECRETS.parse().expect("secrets")));
    })
    .await;
    let source = get_json(&app, "/v1/policies/default").await["source"]
        .as_str()
        .expect("source")
        .to_string();
    (app, source)
}

async fn put_policy(app: &TestApp, toml: &str) -> (StatusCode, Value) {
    let response = app
        .request(reqwest::Method::POST, "/v1/policies/default/versions")
        .header("content-type", "application/toml")
        .body(toml.to_string())
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "waited too long for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn each_event_reaches_its_targets_once_signed_after_retries_and_a_failed_one_is_retried() {
    let (receiver_addr, receiver) = start_receiver(3, DOWN).await;
    let (app, source) = with_outbox(Settings {
        attempts: 4,
        backoff: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
        ..Settings::default()
    })
    .await;

    // A target that could never be delivered to is refused, with the path of its field.
    let bad = format!(
        "{source}\n[[webhooks]]\nname = \"x\"\nurl = \"ftp://example.com/\"\nroute = \"salse\"\n\
         events = [\"sales_lead\"]\n\n[[webhooks]]\nname = \"y\"\nurl = \"https://example.com/\"\n\
         secret = \"nobody\"\nevents = [\"sales_lead\"]\n"
    );
    let (status, error) = put_policy(&app, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let message = error["error"]["message"].as_str().unwrap_or_default();
    for want in [
        "webhooks[0].url: \"ftp://example.com/\" is not an http(s) URL",
        "webhooks[0].secret: name the secret",
        "webhooks[0].route: unknown route \"salse\"",
    ] {
        assert!(message.contains(want), "{want}: {message}");
    }
    let unknown_secret = bad
        .replacen(
            "url = \"ftp://example.com/\"",
            "url = \"https://e.com/\"\nsecret = \"sales\"",
            1,
        )
        .replacen("route = \"salse\"", "route = \"sales\"", 1);
    let (status, error) = put_policy(&app, &unknown_secret).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("webhooks[1].secret: no secret named \"nobody\"")),
        "{error}"
    );

    let (status, version) = put_policy(&app, &format!("{source}{}", webhooks(receiver_addr))).await;
    assert_eq!(status, StatusCode::CREATED, "{version}");
    let activate = format!(
        "/v1/policies/default/versions/{}/activate",
        version["version"]
    );
    let (status, activated) = app.post_raw(&activate, "").await;
    assert_eq!(status, StatusCode::OK, "{activated}");

    let (_, lead) = app
        .score(&json!({"id": "lead", "text": "Where can I buy the new Pro model? I would like to order two.", "channel": "facebook"}))
        .await;
    let (_, urgent) = app
        .score(&json!({"id": "urgent", "text": "Junasovellus veloitti minulta kahdesti ja juna lähtee kymmenen minuutin päästä, auttakaa!"}))
        .await;
    let (_, calm) = app
        .score(&json!({"id": "calm", "text": "Thanks, all good now."}))
        .await;
    assert_eq!(lead["route"], "sales", "{lead}");
    assert_eq!(urgent["priority"], "urgent", "{urgent}");
    assert!(
        calm["case_id"].is_null(),
        "nothing to tell of, nothing recorded: {calm}"
    );
    let (lead_case, urgent_case) = (lead["case_id"].clone(), urgent["case_id"].clone());
    assert!(
        lead_case.is_i64(),
        "a sales lead is recorded with its delivery: {lead}"
    );
    let (status, escalated) = app
        .post_raw(
            &format!("/v1/cases/{lead_case}/decisions"),
            json!({"decision": "escalate", "note": "a big order"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{escalated}");

    let wanted: BTreeSet<String> = [
        format!("case-{lead_case}/sales_lead/sales-team"),
        format!("case-{urgent_case}/urgent_case/duty"),
        format!("decision-{}/escalation/duty", escalated["id"]),
    ]
    .into();
    // Until the register says how each went: three delivered, the broken one failed.
    let listed = |status: &'static str| {
        let app = &app;
        async move {
            get_json(app, &format!("/v1/notifications?status={status}")).await["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        }
    };
    let deadline = Instant::now() + WAIT;
    let (delivered, failed) = loop {
        let (delivered, failed) = (listed("delivered").await, listed("failed").await);
        if delivered.len() == 3 && failed.len() == 1 {
            break (delivered, failed);
        }
        assert!(Instant::now() < deadline, "{delivered:?} {failed:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let broken_key = format!("case-{lead_case}/sales_lead/broken");
    let keys: BTreeSet<String> = delivered
        .iter()
        .filter_map(|d| d["idempotency_key"].as_str().map(String::from))
        .collect();
    assert_eq!(keys, wanted);

    for r in receiver.log() {
        let secret = if r.key.ends_with("/duty") {
            DUTY_SECRET
        } else {
            SALES_SECRET
        };
        assert_eq!(
            r.signature,
            expected_signature(secret, &r.timestamp, &r.key, &r.body),
            "{r:?}"
        );
        let sent = r.timestamp.parse::<i64>().expect("Unix seconds");
        assert!((chrono::Utc::now().timestamp() - sent).abs() < 120, "{r:?}");
        assert!(r.key.contains(&format!("/{}/", r.event)), "{r:?}");
    }
    let log = receiver.log();
    for key in &wanted {
        let answers: Vec<u16> = log
            .iter()
            .filter(|r| &r.key == key)
            .map(|r| r.answered)
            .collect();
        assert_eq!(
            answers,
            [500, 500, 500, 200],
            "{key}: three failures, one delivery"
        );
    }
    let lead_body: Value = log
        .iter()
        .find(|r| r.path == "/hook" && r.event == "sales_lead")
        .map(|r| serde_json::from_str(&r.body).expect("JSON body"))
        .expect("the lead's delivery");
    assert_eq!(lead_body["case"]["comment_id"], "lead");
    assert_eq!(lead_body["case"]["channel"], "facebook");
    let slack = log
        .iter()
        .find(|r| r.event == "urgent_case")
        .expect("urgent");
    let slack: Value = serde_json::from_str(&slack.body).expect("JSON");
    assert!(
        slack["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("*Urgent case: case")),
        "{slack}"
    );

    // Listed with their attempts; the address without its path or query, no secret.
    for item in &delivered {
        assert_eq!(item["attempts"], 4, "{item}");
        assert_eq!(
            item["attempt_log"].as_array().map(Vec::len),
            Some(4),
            "{item}"
        );
        assert_eq!(item["attempt_log"][0]["http_status"], 500, "{item}");
        assert_eq!(item["origin"], format!("http://{receiver_addr}"), "{item}");
    }
    let text = json!(delivered).to_string();
    for hidden in ["kept-out-of-lists", DUTY_SECRET, SALES_SECRET, "\"secret\""] {
        assert!(!text.contains(hidden), "{hidden} shown: {text}");
    }

    // The broken target failed after its four attempts; sent again by hand once it is up.
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["idempotency_key"], broken_key.as_str());
    assert_eq!(failed[0]["attempts"], 4);
    receiver.mode.store(FAIL_FIRST, Ordering::SeqCst);
    let id = &failed[0]["id"];
    let (status, retried) = app
        .post_raw(&format!("/v1/notifications/{id}/retry"), "")
        .await;
    assert_eq!(
        (status, retried["status"].as_str()),
        (StatusCode::OK, Some("pending")),
        "{retried}"
    );
    until("the retried delivery", || {
        receiver.delivered().contains_key(&broken_key)
    })
    .await;
    let (status, again) = app
        .post_raw(&format!("/v1/notifications/{id}/retry"), "")
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "only a failed delivery is retried: {again}"
    );
    let audit = get_json(&app, &format!("/v1/audit?case={lead_case}")).await;
    assert!(audit.to_string().contains("delivery_retried"), "{audit}");
    let (status, bad) = app.get("/v1/notifications?status=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(
        receiver.delivered().values().sum::<usize>(),
        4,
        "one delivery per event and target"
    );
}

/// A server process on `port` over the register at `database`, telling `receiver` of every
/// sales lead.
fn serve(port: u16, database: &str, policy: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_seula"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--database-url", database])
        .arg("--policy")
        .arg(policy)
        // Long enough that a loaded machine never times out a send the receiver answered (Seula
        // would rightly send it again: delivery is at least once), short enough that the killed
        // server's leases (three timeouts) end soon.
        .args(["--webhook-timeout", "4", "--webhook-backoff-ms", "20"])
        .env(
            "SEULA_MODELS",
            concat!(env!("CARGO_MANIFEST_DIR"), "/models"),
        )
        .env("SEULA_WEBHOOK_SECRETS", SECRETS)
        .env("SEULA_LOG", "warn")
        .env_remove("SEULA_API_KEYS")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start seula")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn ready(client: &reqwest::Client, port: u16) {
    let deadline = Instant::now() + WAIT;
    let url = format!("http://127.0.0.1:{port}/healthz");
    while !client
        .get(&url)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "the server never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn killing_the_server_with_a_thousand_deliveries_pending_loses_and_repeats_none() {
    seula::notify::install_tls();
    let (receiver_addr, receiver) = start_receiver(0, HANG).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("seula.db").display());
    let policy = dir.path().join("policy.toml");
    let hook = format!(
        "\n[[webhooks]]\nname = \"sales-team\"\nurl = \"http://{receiver_addr}/hook\"\n\
         secret = \"sales\"\nevents = [\"sales_lead\"]\n"
    );
    std::fs::write(
        &policy,
        format!("{}{hook}", include_str!("../src/policy/default.toml")),
    )
    .expect("policy file");
    let client = reqwest::Client::new();
    let port = free_port();
    let mut first = serve(port, &database, &policy);
    ready(&client, port).await;
    let mut cases = BTreeSet::new();
    for batch in 0..4 {
        let items: Vec<Value> = (0..250)
            .map(|i| {
                let n = batch * 250 + i;
                json!({"id": format!("lead-{n}"), "text": format!("Where can I buy the Pro {n} charger? I would like to order one."), "author": {"id": format!("a{n}")}})
            })
            .collect();
        let answer: Value = client
            .post(format!("http://127.0.0.1:{port}/v1/score:batch"))
            .json(&json!({ "items": items }))
            .send()
            .await
            .expect("batch")
            .json()
            .await
            .expect("JSON");
        for item in answer["items"].as_array().expect("items") {
            cases.insert(item["case_id"].as_i64().expect("each lead recorded"));
        }
    }
    assert_eq!(cases.len(), 1000);
    first.kill().expect("kill -9");
    first.wait().expect("reaped");
    assert!(
        receiver.delivered().is_empty(),
        "nothing was answered while it hung"
    );

    receiver.mode.store(FAIL_FIRST, Ordering::SeqCst);
    let port = free_port();
    let mut second = serve(port, &database, &policy);
    ready(&client, port).await;
    let wanted: BTreeSet<String> = cases
        .iter()
        .map(|id| format!("case-{id}/sales_lead/sales-team"))
        .collect();
    // Until the register has nothing left to send (each sent one recorded as delivered).
    let deadline = Instant::now() + WAIT;
    let pending = loop {
        let pending: Value = client
            .get(format!(
                "http://127.0.0.1:{port}/v1/notifications?status=pending"
            ))
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("JSON");
        if pending["items"] == json!([]) || Instant::now() > deadline {
            break pending;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let delivered = receiver.delivered();
    second.kill().expect("kill");
    second.wait().expect("reaped");
    let keys: BTreeSet<String> = delivered.keys().cloned().collect();
    assert_eq!(keys, wanted, "every acknowledged case's delivery, no other");
    let repeats: usize = delivered.values().map(|n| n - 1).sum();
    assert_eq!(repeats, 0, "a key delivered more than once");
    assert_eq!(pending["items"], json!([]), "{pending}");
}

#[tokio::test]
async fn an_incident_is_told_once_not_per_report() {
    let (receiver_addr, receiver) = start_receiver(0, FAIL_FIRST).await;
    let (app, source) = with_outbox(Settings {
        backoff: Duration::from_millis(10),
        ..Settings::default()
    })
    .await;
    let hook = format!(
        "\n[[webhooks]]\nname = \"duty\"\nurl = \"http://{receiver_addr}/hook\"\n\
         secret = \"duty\"\nevents = [\"incident_opened\"]\n"
    );
    let (status, version) = put_policy(&app, &format!("{source}{hook}")).await;
    assert_eq!(status, StatusCode::CREATED, "{version}");
    let activate = format!(
        "/v1/policies/default/versions/{}/activate",
        version["version"]
    );
    assert_eq!(app.post_raw(&activate, "").await.0, StatusCode::OK);
    let items: Vec<Value> = (0..12)
        .map(|i| json!({"id": format!("r{i}"), "text": format!("Pikamaksu ei toimi OmaPankissa ({i})"), "author": {"id": format!("a{i}")}}))
        .collect();
    let (status, answer) = app.score_batch(&items).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let incident = answer["items"][11]["incident_id"]
        .as_i64()
        .expect("an incident");
    until("the incident's delivery", || {
        !receiver.delivered().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = receiver.log();
    assert_eq!(log.len(), 1, "told once: {log:?}");
    assert_eq!(log[0].event, "incident_opened");
    assert!(
        log[0].key.starts_with(&format!("incident-{incident}/")),
        "{:?}",
        log[0]
    );
    let body: Value = serde_json::from_str(&log[0].body).expect("JSON");
    assert_eq!(body["case"]["incident_id"], incident, "{body}");
}
