//! The customer-service practices over HTTP: personal data in public is hidden, moved to
//! private messages and stored masked; an attack on a named employee goes to a supervisor;
//! reply-time targets follow the service hours; what the writer wants goes to its team.

mod common;

use common::spawn_app;
use reqwest::StatusCode;
use serde_json::{Value, json};

const IDENTITY_CODE: &str = "131052-308T";
const IBAN: &str = "FI21 1234 5600 0007 85";

fn comment(id: &str, text: &str) -> Value {
    json!({"id": id, "text": text, "created_at": "2026-11-26T10:00:00Z", "author": {"id": "fb:user:7"}})
}

fn codes(body: &Value) -> Vec<String> {
    body["reasons"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|r| r["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Every byte the register left on disk: the database file and its write-ahead log.
fn register_bytes(dir: &std::path::Path) -> String {
    std::fs::read_dir(dir)
        .expect("register dir")
        .filter_map(|e| std::fs::read(e.expect("entry").path()).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect()
}

#[tokio::test]
async fn personal_data_is_hidden_routed_and_stored_masked() {
    let app = spawn_app().await;
    let text = format!(
        "Hei, palautus ei ole tullut! Hetuni on {IDENTITY_CODE} ja tilini {IBAN}, soittakaa 040 123 4567"
    );
    let (status, body) = app.score(&comment("pd1", &text)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["action"], &body["route"]),
        (&json!("hide"), &json!("customer_service"))
    );
    assert!(
        ["high", "urgent"].contains(&body["priority"].as_str().unwrap_or_default()),
        "{body}"
    );
    assert_eq!(body["recommendations"], json!(["move_to_private_messages"]));
    let kinds: Vec<&str> = body["signals"]["personal_data"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["identity_code", "iban", "phone"]);
    let span = &body["signals"]["personal_data"][0]["span"];
    let start = text.find(IDENTITY_CODE).map(|b| text[..b].chars().count());
    assert_eq!(span[0].as_u64(), start.map(|s| s as u64));
    assert!(codes(&body).iter().any(|c| c == "privacy.personal_data"));
    let (_, case) = app
        .get(&format!(
            "/v1/cases/{}",
            body["case_id"].as_i64().expect("recorded")
        ))
        .await;
    let case: Value = serde_json::from_str(&case).expect("case JSON");
    assert_eq!(
        case["recommendations"],
        json!(["move_to_private_messages"]),
        "{case}"
    );
    // Nothing the service answers, nor anything it stores, holds the raw values.
    let answer = body.to_string();
    let stored = register_bytes(app.dir.path());
    for raw in [IDENTITY_CODE, IBAN, "1234 5600", "040 123 4567", "308T"] {
        assert!(!answer.contains(raw), "response echoes {raw}");
        assert!(!stored.contains(raw), "register holds {raw}");
    }
    assert!(stored.contains("Hetuni on"), "the rest of the text is kept");
    // Hidden for the customer's sake, not held against them.
    assert_eq!(
        app.count("SELECT hidden * 10 + protected FROM author WHERE id = 'fb:user:7'")
            .await,
        1
    );
}

#[tokio::test]
async fn an_invalid_identity_code_is_not_personal_data() {
    let app = spawn_app().await;
    let (_, body) = app
        .score(&comment(
            "pd2",
            "Tilausnumero ei ole 131052-308U vaan jotain muuta, kiitos",
        ))
        .await;
    assert_eq!(body["signals"]["personal_data"], json!([]), "{body}");
    assert_eq!(body["action"], "allow");
}

#[tokio::test]
async fn an_insult_at_a_named_agent_goes_to_communications() {
    let app = spawn_app().await;
    let text = "Asiakaspalvelija Mikko on täysi idiootti, ei osannut auttaa yhtään";
    let (_, body) = app.score(&comment("st1", text)).await;
    assert_eq!(body["route"], "communications", "{body}");
    assert!(
        ["review", "hide", "delete"].contains(&body["action"].as_str().unwrap_or_default()),
        "{body}"
    );
    assert_eq!(body["recommendations"], json!(["supervisor_replies"]));
    assert_eq!(body["signals"]["staff_target"]["span"], json!([0, 22]));
    // Anger at the company alone is not an attack on staff.
    let (_, body) = app
        .score(&comment(
            "st2",
            "Teidän sovellus on ihan perseestä, taas kaatui",
        ))
        .await;
    assert_eq!(body["signals"]["staff_target"], Value::Null, "{body}");
    assert_eq!(body["recommendations"], json!([]));
}

#[tokio::test]
async fn urgent_comments_carry_a_respond_by_within_service_hours() {
    let app = spawn_app().await;
    let urgent = "Sovellus veloitti lipun kahdesti ja juna lähtee 10 minuutin päästä!";
    // 21:50 in Helsinki: 10 minutes tonight, the other 20 from 07:00.
    let (_, late) = app
        .score(&json!({"id": "r1", "text": urgent, "created_at": "2020-11-26T19:50:00Z"}))
        .await;
    assert_eq!(late["priority"], "urgent", "{late}");
    assert_eq!(late["respond_by"], "2020-11-27T05:20:00Z");
    let (_, current) = app
        .score(&json!({"id": "r3", "text": urgent, "created_at": chrono::Utc::now().to_rfc3339()}))
        .await;
    let due = current["respond_by"].as_str().unwrap_or_default();
    let due = chrono::DateTime::parse_from_rfc3339(due).expect("respond_by is RFC 3339");
    assert!(due > chrono::Utc::now(), "{current}");
    let (_, calm) = app
        .score(&json!({"id": "r2", "text": "Kiitos, hyvää päivänjatkoa!", "created_at": "2026-11-26T10:00:00Z"}))
        .await;
    assert_eq!(
        calm["respond_by"],
        Value::Null,
        "low priority has no target: {calm}"
    );
    // The case due in 2020 is overdue, the one just received is not.
    let (_, metrics) = app.get("/metrics").await;
    assert!(metrics.contains("seula_cases_overdue 1"), "{metrics}");
}

/// The intents of a response, strongest first.
fn intents(body: &Value) -> Vec<&str> {
    body["intents"]
        .as_array()
        .map(|i| i.iter().filter_map(|i| i["intent"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn each_intent_goes_to_the_team_the_policy_names() {
    let app = spawn_app().await;
    // (text, the intent it must carry, route, least priority). The most specific intent picks
    // the team: the first is a question too, and a stronger one, but a question about a price
    // is a sales lead.
    let cases = [
        (
            "Paljonko maksaa 200M liittymä?",
            "purchase_intent",
            "sales",
            "normal",
        ),
        (
            "Hi, I'm a journalist writing a piece on delivery delays",
            "press_or_influencer",
            "communications",
            "high",
        ),
        (
            "Poistakaa tietoni teidän rekisteristä",
            "personal_data_request",
            "legal",
            "high",
        ),
        (
            "Onko teillä kesätöitä tarjolla?",
            "job_inquiry",
            "hr",
            "low",
        ),
        (
            "please add dark mode to the app",
            "feature_request",
            "product",
            "low",
        ),
        (
            "Irtisanon liittymäni heti huomenna",
            "cancellation",
            "sales",
            "high",
        ),
    ];
    for (n, (text, intent, route, priority)) in cases.into_iter().enumerate() {
        let (status, body) = app.score(&comment(&format!("i{n}"), text)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(intents(&body).contains(&intent), "{text}: {body}");
        assert_eq!(body["route"], route, "{text}: {body}");
        let order = ["low", "normal", "high", "urgent"];
        let at = |p: &Value| order.iter().position(|o| p == o);
        assert!(
            at(&body["priority"]) >= at(&json!(priority)),
            "{text}: {body}"
        );
        // The reason names the intent, unless an urgent need already chose the same team.
        let codes = codes(&body);
        assert!(
            codes.contains(&format!("intent.{intent}"))
                || codes.iter().any(|c| c.starts_with("urgency.")),
            "{text}: {body}"
        );
    }
    // Chatter carries no intent and goes nowhere.
    let (_, calm) = app
        .score(&comment("i-calm", "Juhannuksena oltiin mökillä"))
        .await;
    assert!(intents(&calm).is_empty(), "{calm}");
    assert_eq!(calm["route"], Value::Null);
    // A flagged comment stays with moderation whatever it wants.
    let (_, flagged) = app
        .score(&comment(
            "i-flagged",
            "Paljonko maksaa teidän paska liittymä, senkin vitun idiootit?",
        ))
        .await;
    assert_ne!(flagged["action"], "allow", "{flagged}");
    assert_eq!(flagged["route"], "communications", "{flagged}");
}

#[tokio::test]
async fn a_channel_can_hand_an_intent_to_another_team() {
    let app = spawn_app().await;
    let overrides = "[intents]\npurchase_intent = { route = \"marketing\", priority = \"high\" }\n";
    let response = app
        .request(reqwest::Method::POST, "/v1/policies/instagram/versions")
        .header("content-type", "application/toml")
        .body(overrides)
        .send()
        .await
        .expect("new version");
    assert_eq!(response.status(), StatusCode::CREATED);
    let version: Value = response.json().await.expect("version");
    let activate = format!(
        "/v1/policies/instagram/versions/{}/activate",
        version["version"]
    );
    let (status, _) = app.post_raw(&activate, "{}").await;
    assert_eq!(status, StatusCode::OK);
    let lead = |id: &str, channel: &str| json!({"id": id, "text": "Paljonko maksaa 200M liittymä?", "channel": channel});
    let (_, instagram) = app.score(&lead("ig1", "instagram")).await;
    assert_eq!(
        (&instagram["route"], &instagram["priority"]),
        (&json!("marketing"), &json!("high"))
    );
    let (_, facebook) = app.score(&lead("fb1", "facebook")).await;
    assert_eq!(
        facebook["route"], "sales",
        "the default's other channels keep theirs"
    );
    // An intent the policy does not know is refused with its path.
    let response = app
        .request(reqwest::Method::POST, "/v1/policies/instagram/versions")
        .header("content-type", "application/toml")
        .body("[intents]\nsales_lead = { route = \"sales\" }\n")
        .send()
        .await
        .expect("bad version");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("error");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("sales_lead")),
        "{body}"
    );
}
