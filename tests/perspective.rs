//! Perspective API's `comments:analyze` and `comments:suggestscore`, as Perspective's documented
//! examples and Coral Talk send them, answered in the shapes those clients read.

mod common;

use common::{spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post(app: &common::TestApp, path: &str, body: &Value) -> (StatusCode, Value) {
    app.post_raw(path, body.to_string()).await
}

const ANALYZE: &str = "/v1alpha1/comments:analyze";
const SUGGEST: &str = "/v1alpha1/comments:suggestscore";

#[tokio::test]
async fn coral_talks_request_gets_the_shape_coral_reads_and_stores_nothing() {
    let app = spawn_app().await;
    // Exactly what Coral Talk sends for a Finnish site: languages "en", doNotStore.
    let coral = json!({
        "comment": {"text": "Te ootte ihan vitun idiootteja, koko firma on kuralla eikä kukaan vastaa"},
        "doNotStore": true,
        "requestedAttributes": {"TOXICITY": {}},
        "languages": ["en"],
    });
    let (status, body) = post(&app, ANALYZE, &coral).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let toxicity = body["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
        .as_f64()
        .expect("Coral reads attributeScores.TOXICITY.summaryScore.value");
    assert!(toxicity > 0.8, "{body}");
    assert_eq!(
        body["attributeScores"]["TOXICITY"]["summaryScore"]["type"],
        "PROBABILITY"
    );
    assert_eq!(
        body["detectedLanguages"],
        json!(["fi"]),
        "Finnish, whatever the client said"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM moderation_case").await, 0);
    // doNotStore: not remembered for repetition either; without it, a repeat counts.
    let text = "Palauttakaa rahani heti tai teen rikosilmoituksen";
    let troll = |store: bool| json!({"comment": {"text": text}, "requestedAttributes": {"SEULA_TROLL": {}}, "doNotStore": !store});
    let value =
        |body: &Value| body["attributeScores"]["SEULA_TROLL"]["summaryScore"]["value"].as_f64();
    let (_, first) = post(&app, ANALYZE, &troll(false)).await;
    let (_, second) = post(&app, ANALYZE, &troll(false)).await;
    assert_eq!(value(&first), value(&second), "{first} {second}");
    post(&app, ANALYZE, &troll(true)).await;
    let (_, repeated) = post(&app, ANALYZE, &troll(true)).await;
    assert!(value(&repeated) > value(&first), "{first} {repeated}");
    let plain = json!({"comment": {"text": "Kiitos avusta!"}, "requestedAttributes": {"TOXICITY": {}}, "doNotStore": true});
    let (_, calm) = post(&app, ANALYZE, &plain).await;
    assert!(
        calm["attributeScores"]["TOXICITY"]["summaryScore"]["value"].as_f64() < Some(0.3),
        "{calm}"
    );
}

#[tokio::test]
async fn perspectives_documented_example_with_spans_thresholds_and_context() {
    let app = spawn_app().await;
    // From Perspective's documentation: several attributes, span annotations, a client token.
    let request = json!({
        "comment": {"text": "What kind of idiot name is foo?"},
        "context": {"entries": [{"text": "My name is foo", "type": "PLAIN_TEXT"}]},
        "languages": ["en"],
        "requestedAttributes": {"TOXICITY": {}, "INSULT": {"scoreType": "PROBABILITY"}, "THREAT": {"scoreThreshold": 0.9}},
        "spanAnnotations": true,
        "clientToken": "example-1",
        "sessionId": "s-1",
        "futureField": "ignored",
    });
    let (status, body) = post(&app, ANALYZE, &request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["clientToken"], "example-1");
    assert_eq!(body["languages"], json!(["en"]));
    let scores = &body["attributeScores"];
    assert!(
        scores["INSULT"]["summaryScore"]["value"].as_f64() > Some(0.5),
        "{body}"
    );
    assert!(
        scores.get("THREAT").is_none(),
        "under its threshold, left out: {body}"
    );
    let spans = scores["INSULT"]["spanScores"]
        .as_array()
        .expect("span scores");
    assert!(
        spans.iter().any(|s| s["begin"] == 13 && s["end"] == 18),
        "{body}"
    );
    // A recorded case (the insult is reviewed or hidden) is found by its client token.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM moderation_case WHERE comment_id = 'example-1'")
            .await,
        1
    );

    // HTML: scored as text, spans count characters of what was sent.
    let html = json!({
        "comment": {"text": "<p>you are an <b>idiot</b></p>", "type": "HTML"},
        "requestedAttributes": {"INSULT": {}}, "spanAnnotations": true, "doNotStore": true,
    });
    let (_, body) = post(&app, ANALYZE, &html).await;
    let spans = body["attributeScores"]["INSULT"]["spanScores"]
        .as_array()
        .expect("spans");
    assert!(
        spans.iter().any(|s| s["begin"] == 17 && s["end"] == 22),
        "{body}"
    );
}

#[tokio::test]
async fn an_unknown_attribute_or_a_bad_request_gets_perspectives_error_never_a_silent_drop() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"comment": {"text": "hei"}, "requestedAttributes": {"TOXICTY": {}}}),
            "Attribute TOXICTY does not exist",
        ),
        (
            json!({"comment": {"text": "hei"}, "requestedAttributes": {"TOXICITY": {"scoreType": "STD_DEV"}}}),
            "only PROBABILITY",
        ),
        (
            json!({"comment": {"text": "  "}, "requestedAttributes": {"TOXICITY": {}}}),
            "text",
        ),
        (json!({"requestedAttributes": {"TOXICITY": {}}}), "comment"),
        (
            json!({"comment": {"text": "hei", "type": "MARKDOWN"}, "requestedAttributes": {}}),
            "PLAIN_TEXT or HTML",
        ),
    ];
    for (request, says) in cases {
        let (status, body) = post(&app, ANALYZE, &request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            (&body["error"]["code"], &body["error"]["status"]),
            (&json!(400), &json!("INVALID_ARGUMENT")),
            "{body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(says),
            "{body}"
        );
    }
    // Every attribute of the table answers; none is dropped.
    let every = json!({"comment": {"text": "hei"}, "doNotStore": true, "requestedAttributes": {
        "PROFANITY": {}, "OBSCENE": {}, "SPAM": {}, "ATTACK_ON_AUTHOR": {}, "ATTACK_ON_COMMENTER": {},
        "INFLAMMATORY": {}, "TOXICITY_FAST": {}, "SEVERE_TOXICITY_EXPERIMENTAL": {}, "SEULA_URGENCY": {},
    }});
    let (status, body) = post(&app, ANALYZE, &every).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["attributeScores"].as_object().map(|o| o.len()),
        Some(9),
        "{body}"
    );
    // No attributes at all: Perspective's six.
    let (_, body) = post(
        &app,
        ANALYZE,
        &json!({"comment": {"text": "hei"}, "doNotStore": true}),
    )
    .await;
    assert_eq!(
        body["attributeScores"].as_object().map(|o| o.len()),
        Some(6),
        "{body}"
    );
}

#[tokio::test]
async fn a_key_in_the_query_works_and_suggestscore_becomes_a_decision_in_the_keys_name() {
    let keys = "scorer:coral:coral-key-0123456789,moderator:anna:anna-key-0123456789";
    let mut app = spawn_app_with(Some(keys)).await;
    let analyze = json!({"comment": {"text": "Olet säälittävä luuseri"}, "requestedAttributes": {"TOXICITY": {}}, "clientToken": "coral-c1", "communityId": "chat"});
    let (status, _) = post(&app, ANALYZE, &analyze).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = post(
        &app,
        &format!("{ANALYZE}?key=coral-key-0123456789"),
        &analyze,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = post(
        &app,
        &format!("{ANALYZE}?key=wrong-key-0123456789"),
        &analyze,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Coral: 1 for a comment its moderators rejected, 0 for one they approved.
    let rejected = json!({"comment": {"text": "Olet säälittävä luuseri"}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}}, "clientToken": "coral-c1", "communityId": "chat"});
    let (status, body) = post(
        &app,
        &format!("{SUGGEST}?key=coral-key-0123456789"),
        &rejected,
    )
    .await;
    assert_eq!(
        (status, &body),
        (StatusCode::OK, &json!({"clientToken": "coral-c1"}))
    );
    let approved = json!({"comment": {"text": "Kiitos nopeasta avusta"}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}}, "clientToken": "coral-c2"});
    let (status, _) = post(
        &app,
        &format!("{SUGGEST}?key=coral-key-0123456789"),
        &approved,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    app.token = Some("anna-key-0123456789".into());
    let (_, listed) = app.get("/v1/cases?status=decided").await;
    let listed: Value = serde_json::from_str(&listed).expect("JSON");
    let decided: Vec<(&str, &str)> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| {
            (
                c["comment_id"].as_str().unwrap_or_default(),
                c["outcome"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        decided.contains(&("coral-c1", "hide")) && decided.contains(&("coral-c2", "allow")),
        "{decided:?}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM decision WHERE moderator = 'coral' AND labels LIKE '%\"toxicity\":true%'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM moderation_case WHERE comment_id = 'coral-c1' AND channel = 'chat'").await, 1);

    let (status, body) = post(&app, &format!("{SUGGEST}?key=coral-key-0123456789"), &json!({"comment": {"text": "x"}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}
