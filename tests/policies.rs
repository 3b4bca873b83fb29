//! Policies over HTTP: versions, validation, live activation while scoring runs, rollback.

mod common;

use common::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn get_json(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

async fn post_toml(app: &TestApp, path: &str, toml: &str) -> (StatusCode, Value) {
    let response = app
        .request(reqwest::Method::POST, path)
        .header("content-type", "application/toml")
        .body(toml.to_string())
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.expect("JSON body"))
}

/// Two words: too short to count as a repeat, so sending it often is never a copy-paste flood.
const THANKS: &str = "Kiitos avusta!";

/// The same thank-you, posted two days after the previous one.
fn thanks(i: u32, channel: Option<&str>) -> Value {
    let at = chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::days(20_000 + 2 * i64::from(i));
    json!({"id": format!("t{i}"), "text": THANKS, "channel": channel, "created_at": at.to_rfc3339()})
}

/// The default policy in force with review on any toxicity at all: a thank-you goes to review.
async fn stricter_default(app: &TestApp) -> i64 {
    let source = get_json(app, "/v1/policies/default").await["source"]
        .as_str()
        .expect("source")
        .to_string();
    let stricter = source.replacen("toxicity = 0.6", "toxicity = 0.0", 1);
    assert_ne!(stricter, source, "the default reviews toxicity from 0.6");
    let (status, created) = post_toml(
        app,
        "/v1/policies/default/versions?note=review%20everything",
        &stricter,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (&created["version"], &created["created_by"]),
        (&json!(2), &json!("local"))
    );
    2
}

async fn activate(app: &TestApp, version: i64) {
    let (status, body) = app
        .post_raw(
            &format!("/v1/policies/default/versions/{version}/activate"),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_policy_owner_tightens_activates_and_rolls_back() {
    let app = spawn_app().await;
    let listed = get_json(&app, "/v1/policies").await;
    assert_eq!(
        listed["active"],
        json!([{"name": "default", "version": 1}, {"name": "x", "version": 1}])
    );
    assert_eq!(listed["versions"][0]["created_by"], "seula");
    let score = |i: u32| {
        let app = &app;
        async move { app.score(&thanks(i, None)).await }
    };
    let (_, before) = score(1).await;
    assert_eq!(
        (&before["action"], &before["policy"]["version"]),
        (&json!("allow"), &json!(1))
    );

    let version = stricter_default(&app).await;
    let (_, stored) = score(2).await;
    assert_eq!(
        stored["action"], "allow",
        "a stored version is not in force until activated"
    );
    activate(&app, version).await;
    let (_, after) = score(3).await;
    assert_eq!(
        (&after["action"], &after["policy"]["version"]),
        (&json!("review"), &json!(2))
    );
    // The channel x inherits the new default and keeps its own version.
    let (_, on_x) = app
        .score(&json!({"id": "t4", "text": THANKS, "channel": "x"}))
        .await;
    assert_eq!(
        (&on_x["action"], &on_x["policy"]),
        (&json!("review"), &json!({"name": "x", "version": 1}))
    );

    activate(&app, 1).await;
    let (_, rolled_back) = score(5).await;
    assert_eq!(
        (&rolled_back["action"], &rolled_back["policy"]["version"]),
        (&json!("allow"), &json!(1))
    );
    let audit = get_json(&app, "/v1/audit?actor=local").await;
    let kinds: Vec<&str> = audit["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kinds,
        ["policy_activated", "policy_activated", "policy_version"]
    );
    assert_eq!(audit["items"][2]["detail"]["note"], "review everything");
}

#[tokio::test]
async fn invalid_candidates_get_422_with_every_bad_path() {
    let app = spawn_app().await;
    let (status, error) = app
        .post_raw(
            "/v1/policies/chat/versions",
            json!({"actions": {"hide": {"toxicity": 1.7, "troll": 0.9}}, "priority": {"high": 0.9}}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let message = error["error"]["message"].as_str().unwrap_or_default();
    for needle in [
        "channels.chat: actions.hide.toxicity: 1.7 is not in [0, 1]",
        "actions.hide.troll: account and writing signals may reach review at most",
        "priority.high: must not be above priority.urgent",
    ] {
        assert!(message.contains(needle), "{needle} missing from {message}");
    }
    let (status, _) = post_toml(
        &app,
        "/v1/policies/default/versions",
        "[actions.hide\nbroken",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = post_toml(&app, "/v1/policies/Bad%20Name/versions", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .post_raw("/v1/policies/default/versions/99/activate", "")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get("/v1/policies/nochannel").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A valid channel policy is stored and, once active, decides that channel only.
    let (status, created) = post_toml(
        &app,
        "/v1/policies/chat/versions",
        "[actions.review]\ntoxicity = 0.0\n",
    )
    .await;
    assert_eq!(
        (status, &created["version"]),
        (StatusCode::CREATED, &json!(1)),
        "{created}"
    );
    let (status, _) = app
        .post_raw("/v1/policies/chat/versions/1/activate", "")
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, chat) = app
        .score(&json!({"id": "c1", "text": THANKS, "channel": "chat"}))
        .await;
    let (_, web) = app
        .score(&json!({"id": "c2", "text": THANKS, "channel": "web"}))
        .await;
    assert_eq!(
        (&chat["action"], &web["action"]),
        (&json!("review"), &json!("allow"))
    );
}

#[tokio::test]
async fn no_request_sees_a_half_applied_policy() {
    let app = std::sync::Arc::new(spawn_app().await);
    let version = stricter_default(&app).await;
    let scoring = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            for i in 0..150 {
                let (_, body) = app.score(&thanks(i, None)).await;
                seen.push(body);
            }
            seen
        })
    };
    for round in 0..20 {
        activate(&app, if round % 2 == 0 { version } else { 1 }).await;
    }
    for body in scoring.await.expect("scoring task") {
        let want = match body["policy"]["version"].as_i64() {
            Some(2) => "review",
            _ => "allow",
        };
        assert_eq!(body["action"], want, "{body}");
    }
}

#[tokio::test]
async fn replay_reports_what_a_candidate_would_change_and_how_it_agrees() {
    let app = spawn_app().await;
    let texts = [
        "Olet täysi idiootti",
        "vitun paskafirma",
        "Netti ei toimi taaskaan ja palaveri alkaa nyt!",
        "Te ootte kaikki pellejä",
    ];
    let mut ids = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let (_, body) = app
            .score(&json!({"id": format!("r{i}"), "text": text}))
            .await;
        ids.push(body["case_id"].as_i64().expect("recorded"));
    }
    // A moderator hides the swearing the default only reviews.
    let (status, _) = app
        .post_raw(
            &format!("/v1/cases/{}/decisions", ids[1]),
            json!({"decision": "hide"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let source = get_json(&app, "/v1/policies/default").await["source"]
        .as_str()
        .expect("source")
        .to_string();
    // The candidate hides strong profanity: the swearing moves from review to hide.
    let candidate = source.replacen("[actions.hide]\n", "[actions.hide]\nprofanity = 0.9\n", 1);
    assert_ne!(candidate, source);
    let (status, replayed) = post_toml(&app, "/v1/policies/default/replay", &candidate).await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    let report = &replayed["report"];
    assert_eq!(report["cases"], 4, "{report}");
    assert_eq!(report["changed"]["action"], 1, "{report}");
    assert!(
        report["matrix"]["action"]
            .as_array()
            .is_some_and(|cells| cells
                .iter()
                .any(|c| c == &json!({"from": "review", "to": "hide", "count": 1}))),
        "{report}"
    );
    assert_eq!(
        report["examples"],
        json!([{"from": "review", "to": "hide", "ids": [ids[1]]}])
    );
    let hide = &report["agreement"]["hide"];
    assert_eq!(
        (
            report["agreement"]["support"].clone(),
            hide["recorded"]["recall"].clone(),
            hide["candidate"]["recall"].clone()
        ),
        (json!(1), json!(0.0), json!(1.0)),
        "{report}"
    );
    // Nothing was stored or changed.
    let (_, listed) = app.get("/v1/policies").await;
    assert!(!listed.contains("\"version\":2"), "{listed}");
    let (status, _) = post_toml(
        &app,
        "/v1/policies/default/replay",
        "[actions.hide]\ninsult = 2\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = post_toml(
        &app,
        "/v1/policies/default/replay?since=yesterday",
        &candidate,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let thresholds = get_json(&app, "/v1/thresholds").await;
    assert_eq!(
        thresholds.as_array().map(Vec::len),
        Some(10),
        "one per score"
    );
    let profanity = thresholds
        .as_array()
        .and_then(|t| t.iter().find(|s| s["score"] == "profanity"))
        .expect("profanity");
    assert_eq!(profanity["points"].as_array().map(Vec::len), Some(19));
    assert_eq!(profanity["support"], 1);
}

#[tokio::test]
async fn what_policy_show_prints_is_accepted_back_by_every_endpoint_that_takes_a_policy() {
    let app = spawn_app().await;
    let shown = std::process::Command::new(env!("CARGO_BIN_EXE_seula"))
        .args(["policy", "show"])
        .env("SEULA_LOG", "warn")
        .env_remove("SEULA_DATABASE_URL")
        .env_remove("SEULA_POLICY")
        .output()
        .expect("run seula policy show");
    let shown = String::from_utf8(shown.stdout).expect("UTF-8");
    assert!(
        shown.starts_with("name = \"default\"\nversion = 1\n"),
        "{shown}"
    );
    let tightened = shown.replacen("toxicity = 0.6", "toxicity = 0.5", 1);
    let (status, body) = post_toml(&app, "/v1/policies/default/replay", &tightened).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post_toml(
        &app,
        "/v1/policies/default/versions?note=from%20show",
        &tightened,
    )
    .await;
    assert_eq!(
        (status, &body["version"]),
        (StatusCode::CREATED, &json!(2)),
        "{body}"
    );
    // A channel's policy as shown (the whole resolved policy) is a valid set of overrides.
    let (status, body) = post_toml(
        &app,
        "/v1/policies/chat/versions",
        &shown.replacen("default", "chat", 1),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_channels_word_lists_change_decisions_live_and_are_audited() {
    let app = spawn_app().await;
    let on_chat = |id: &str, text: &str| json!({"id": id, "text": text, "channel": "chat"});
    // Before: a compound the shipped lexicons do not know, and a word they flag.
    let (_, before) = app
        .score(&on_chat("w1", "Tämä muistuttaa minua Sipsikissasta"))
        .await;
    assert_eq!(before["action"], "allow", "{before}");
    let (_, flagged) = app.score(&on_chat("w2", "Perkele, taas myöhässä")).await;
    assert!(
        flagged["signals"]["profanity"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{flagged}"
    );

    let lists =
        "[words]\nbanned = [\"sipsikis*\"]\nsuspect = [\"huijar*\"]\nallowed = [\"perkele*\"]\n";
    let (status, body) =
        post_toml(&app, "/v1/policies/chat/versions?note=word%20lists", lists).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let version = body["version"].as_i64().expect("version");
    let (status, body) = app
        .post_raw(
            &format!("/v1/policies/chat/versions/{version}/activate"),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_, banned) = app
        .score(&on_chat("w3", "Tämä muistuttaa minua Sipsikissasta"))
        .await;
    assert_eq!(banned["action"], "hide", "{banned}");
    assert_eq!(banned["reasons"][0]["code"], "wordlist.banned", "{banned}");
    assert_eq!(banned["reasons"][0]["span"], json!([22, 35]), "{banned}");
    let (_, suspect) = app.score(&on_chat("w4", "Olette huijareita kaikki")).await;
    assert_eq!(suspect["action"], "review", "{suspect}");
    let (_, allowed) = app.score(&on_chat("w5", "Perkele, taas myöhässä")).await;
    assert_eq!(allowed["signals"]["profanity"], json!([]), "{allowed}");
    // Other channels keep the default, which has no lists.
    let (_, elsewhere) = app
        .score(&json!({"id": "w6", "text": "Sipsikissa oli lapsena paras kirja"}))
        .await;
    let listed = elsewhere["reasons"].as_array().expect("reasons").iter();
    let codes: Vec<&str> = listed.filter_map(|r| r["code"].as_str()).collect();
    assert!(
        !codes.iter().any(|c| c.starts_with("wordlist.")),
        "{elsewhere}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE kind IN ('policy_version', 'policy_activated')")
            .await
            - app.count("SELECT COUNT(*) FROM audit WHERE actor = 'seula' AND kind IN ('policy_version', 'policy_activated')").await,
        2
    );

    let bad = "[words]\nbanned = [\"ok*\", \"\", \"Iso\"]\n";
    let (status, body) = post_toml(&app, "/v1/policies/chat/versions", bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("words.banned[1] \"\": empty entry"),
        "{message}"
    );
    assert!(
        message.contains("words.banned[2] \"Iso\": write entries in lowercase"),
        "{message}"
    );
}

#[tokio::test]
async fn replacing_word_lists_keeps_the_rest_of_the_policy_as_written() {
    let app = spawn_app().await;
    let put = |path: &'static str, body: Value| {
        let app = &app;
        async move {
            let response = app
                .request(reqwest::Method::PUT, path)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("request");
            let status = response.status();
            let body: Value = response.json().await.expect("JSON body");
            assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
            body["version"].as_i64().expect("version")
        }
    };
    // The owner's default, with a comment and deleting for banned words.
    let source = get_json(&app, "/v1/policies/default").await["source"]
        .as_str()
        .expect("source")
        .to_string();
    let owned = format!("# our own note\n{source}")
        .replace("banned_action = \"hide\"", "banned_action = \"delete\"");
    let (status, created) = post_toml(&app, "/v1/policies/default/versions", &owned).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    activate(&app, 2).await;

    // New lists without a banned action: the comment and the action stay.
    let version = put(
        "/v1/policies/default/words",
        json!({"banned": ["kurkkusalaatti*"]}),
    )
    .await;
    activate(&app, version).await;
    let default = get_json(&app, "/v1/policies/default").await;
    assert!(
        default["source"]
            .as_str()
            .is_some_and(|s| s.contains("# our own note")),
        "{default}"
    );
    let words = &default["policy"]["words"];
    assert_eq!(
        (&words["banned"], &words["banned_action"]),
        (&json!(["kurkkusalaatti*"]), &json!("delete"))
    );

    // A channel without a policy of its own gets one with its lists alone, and inherits the rest.
    let version = put(
        "/v1/policies/instagram/words",
        json!({"suspect": ["tomaatti"]}),
    )
    .await;
    let (status, body) = app
        .post_raw(
            &format!("/v1/policies/instagram/versions/{version}/activate"),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let instagram = get_json(&app, "/v1/policies/instagram").await;
    let source = instagram["source"].as_str().expect("source");
    assert!(source.trim_start().starts_with("[words]"), "{source}");
    let words = &instagram["policy"]["words"];
    assert_eq!(
        (&words["suspect"], &words["banned_action"]),
        (&json!(["tomaatti"]), &json!("delete"))
    );
    // Its lists replace the inherited ones whole: its suspect word is reviewed, the
    // default's banned word is not banned there.
    let on_instagram =
        |id: &str, text: &str| json!({"id": id, "text": text, "channel": "instagram"});
    let (_, suspect) = app.score(&on_instagram("ig1", "Tomaatti taas loppu")).await;
    assert_eq!(suspect["action"], "review", "{suspect}");
    let (_, salad) = app
        .score(&on_instagram("ig2", "Kurkkusalaattia taas"))
        .await;
    assert_eq!(salad["action"], "allow", "{salad}");
    let (_, elsewhere) = app
        .score(&json!({"id": "fb1", "text": "Kurkkusalaattia taas"}))
        .await;
    assert_eq!(elsewhere["action"], "delete", "{elsewhere}");
}
