//! Incidents: 200 reports of one outage from 150 authors, mixed into 2,000 unrelated comments,
//! make one incident with all 200 linked and no other; later reports join it with
//! `known_incident`; moderators rename, close and merge; it is told once to the teams.

mod common;

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{TestApp, spawn_app};

/// One outage described the ways people describe it: Finnish and English, the bank's app and
/// its instant payment named in their inflected forms.
fn outage_reports() -> Vec<String> {
    let finnish = [
        "{app} ei toimi, {pay} ei mene läpi",
        "Miksi {pay} ei toimi {app_in}? Yritin kolme kertaa",
        "{pay} kaatuu {app_in} koko ajan, en saa maksettua vuokraa",
        "Onko {app} rikki? {pay} antaa virheen",
        "{app_in} {pay} ei toimi taaskaan, tosi kätevää",
        "Ei toimi {pay} {app_in}, tarvitsen rahat nyt",
        "{pay} virhe {app_in}, maksu jäi kesken",
    ];
    let english = [
        "{app} {pay} is down, my payment failed",
        "Is {pay} broken in the {app} app? It keeps failing",
        "{pay} not working in {app} again, urgent",
        "Can't send money, {app} {pay} shows an error",
    ];
    let apps = ["OmaPankki", "OmaPankki-sovellus", "omapankki"];
    let apps_in = ["OmaPankissa", "OmaPankki-sovelluksessa", "omapankissa"];
    let pays = ["Pikamaksu", "pikamaksu", "PIKAMAKSU"];
    let mut reports = Vec::new();
    for i in 0..200 {
        let template = if i % 4 == 3 {
            english[i % english.len()]
        } else {
            finnish[i % finnish.len()]
        };
        let text = template
            .replace("{app_in}", apps_in[i % 3])
            .replace("{app}", apps[(i / 3) % 3])
            .replace("{pay}", pays[(i / 7) % 3]);
        reports.push(format!("{text} #{i}"));
    }
    reports
}

/// 2,000 comments on other things: the project's own labelled sets, as written.
fn unrelated() -> Vec<String> {
    let lines = include_str!("../training/data/intents.jsonl")
        .lines()
        .chain(include_str!("../training/data/toxicity_fi_s24.jsonl").lines());
    lines
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(String::from))
        .filter(|t| !t.to_lowercase().contains("pikamaks"))
        .take(2000)
        .collect()
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

#[tokio::test]
async fn one_outage_among_two_thousand_comments_is_one_incident_with_every_report_linked() {
    let app = spawn_app().await;
    let reports = outage_reports();
    let others = unrelated();
    assert_eq!(others.len(), 2000);
    let mut items = Vec::new();
    let mut next_report = 0;
    for (i, text) in others.iter().enumerate() {
        items.push(json!({"id": format!("other-{i}"), "text": text, "author": {"id": format!("person-{i}")}}));
        if i % 10 == 9 && next_report < reports.len() {
            let author = format!("customer-{}", next_report % 150);
            items.push(json!({"id": format!("outage-{next_report}"), "text": reports[next_report], "channel": if next_report % 2 == 0 { "facebook" } else { "instagram" }, "author": {"id": author}}));
            next_report += 1;
        }
    }
    assert_eq!(next_report, 200);
    let mut outage_cases = BTreeSet::new();
    let mut answered_known = 0;
    for chunk in items.chunks(250) {
        let (status, answer) = app.score_batch(chunk).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        for (item, scored) in chunk.iter().zip(answer["items"].as_array().expect("items")) {
            let id = item["id"].as_str().unwrap_or_default();
            if id.starts_with("outage-") {
                let case = scored["case_id"].as_i64();
                assert!(case.is_some(), "an outage report is recorded: {scored}");
                outage_cases.extend(case);
                if scored["incident_id"].is_i64() {
                    answered_known += 1;
                    assert!(
                        scored["recommendations"]
                            .as_array()
                            .is_some_and(|r| r.contains(&json!("known_incident"))),
                        "{scored}"
                    );
                }
            }
        }
    }
    let listed = get_json(&app, "/v1/incidents").await;
    let incidents = listed["items"].as_array().expect("items");
    let titles: Vec<&Value> = incidents.iter().map(|i| &i["title"]).collect();
    assert_eq!(incidents.len(), 1, "one incident: {titles:?}");
    let incident = &incidents[0];
    let id = incident["id"].as_i64().expect("id");
    let mut linked = BTreeSet::new();
    let mut page = get_json(&app, &format!("/v1/cases?incident={id}&limit=200")).await;
    loop {
        let items = page["items"].as_array().expect("cases");
        linked.extend(items.iter().filter_map(|c| c["id"].as_i64()));
        let Some(next) = page["next"].as_str() else {
            break;
        };
        page = get_json(
            &app,
            &format!("/v1/cases?incident={id}&limit=200&cursor={next}"),
        )
        .await;
    }
    assert_eq!(incident["cases"], json!(linked.len()), "{incident}");
    let missing: Vec<_> = outage_cases.difference(&linked).collect();
    assert!(
        missing.is_empty(),
        "every report linked; missing {missing:?}"
    );
    let strays = linked.len() - outage_cases.len();
    assert!(strays <= 10, "{strays} unrelated cases linked");
    assert!(
        answered_known >= 190,
        "reports after the opening say so: {answered_known}"
    );
    let words = incident["words"].to_string().to_lowercase();
    assert!(
        words.contains("pikamaksu") && words.contains("omapank"),
        "{incident}"
    );
    assert_eq!(incident["channels"], json!(["facebook", "instagram"]));
    assert_eq!(incident["category"], "outage", "{incident}");
    println!(
        "incident {}: {} reports, {} cases ({} unrelated), answered known {answered_known}",
        incident["title"],
        incident["reports"],
        linked.len(),
        strays
    );
}

/// Scores each text as its own author's comment; the answers.
async fn reports(app: &TestApp, prefix: &str, texts: &[&str]) -> Vec<Value> {
    let items: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"id": format!("{prefix}-{i}"), "text": t, "author": {"id": format!("{prefix}-author-{i}")}}))
        .collect();
    let (status, answer) = app.score_batch(&items).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["items"].as_array().cloned().unwrap_or_default()
}

const PAYMENTS: [&str; 6] = [
    "Pikamaksu ei toimi OmaPankissa",
    "OmaPankki pikamaksu ei toimi taas",
    "pikamaksu OmaPankissa ei toimi vieläkään!!",
    "Miksi OmaPankki Pikamaksu ei toimi?",
    "OmaPankin pikamaksu ei toimi, apua",
    "Pikamaksu OmaPankki ei toimi nyt",
];
const LOGINS: [&str; 6] = [
    "Verkkopankkiin kirjautuminen ei toimi",
    "Kirjautuminen verkkopankkiin ei toimi taaskaan",
    "verkkopankki kirjautuminen ei toimi??",
    "Miksi verkkopankkiin kirjautuminen ei toimi",
    "Verkkopankki: kirjautuminen ei toimi ollenkaan",
    "kirjautuminen verkkopankkiin ei toimi nyt",
];

#[tokio::test]
async fn moderators_rename_merge_and_close_incidents() {
    let app = spawn_app().await;
    reports(&app, "pay", &PAYMENTS).await;
    reports(&app, "login", &LOGINS).await;
    let listed = get_json(&app, "/v1/incidents?status=open").await;
    let ids: Vec<i64> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");
    let (login, payments) = (ids[0], ids[1]);

    let rename = json!({"title": "Pikamaksu-katko 2.12."}).to_string();
    let (status, renamed) = app
        .post_raw(&format!("/v1/incidents/{payments}"), rename)
        .await;
    assert_eq!(
        (status, renamed["title"].as_str()),
        (StatusCode::OK, Some("Pikamaksu-katko 2.12.")),
        "{renamed}"
    );
    for (body, status) in [
        (
            json!({"status": "merged"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"title": "  "}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"colour": "red"}), StatusCode::BAD_REQUEST),
    ] {
        let (got, error) = app
            .post_raw(&format!("/v1/incidents/{payments}"), body.to_string())
            .await;
        assert_eq!(got, status, "{body}: {error}");
    }

    // The login incident goes into the payments one: its cases move, its later reports too.
    let into = json!({"into": payments}).to_string();
    let (status, merged) = app
        .post_raw(&format!("/v1/incidents/{login}/merge"), into.clone())
        .await;
    assert_eq!(
        (status, merged["id"].as_i64()),
        (StatusCode::OK, Some(payments)),
        "{merged}"
    );
    assert_eq!(merged["cases"], 12, "{merged}");
    let (status, again) = app
        .post_raw(&format!("/v1/incidents/{login}/merge"), into)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "merged already: {again}");
    let gone = get_json(&app, &format!("/v1/incidents/{login}")).await;
    assert_eq!(
        (gone["status"].as_str(), gone["merged_into"].as_i64()),
        (Some("merged"), Some(payments))
    );
    let late = reports(
        &app,
        "late-login",
        &["Verkkopankki kirjautuminen ei toimi vieläkään"],
    )
    .await;
    assert_eq!(
        late[0]["incident_id"].as_i64(),
        Some(payments),
        "{}",
        late[0]
    );

    // Closed, it takes no more reports.
    let close = json!({"status": "closed"}).to_string();
    let (status, closed) = app
        .post_raw(&format!("/v1/incidents/{payments}"), close)
        .await;
    assert_eq!(
        (status, closed["status"].as_str()),
        (StatusCode::OK, Some("closed")),
        "{closed}"
    );
    assert!(closed["closed_at"].is_string(), "{closed}");
    let after = reports(&app, "after", &["Pikamaksu OmaPankissa ei toimi taas"]).await;
    assert!(after[0]["incident_id"].is_null(), "{}", after[0]);
    let audit = get_json(&app, "/v1/audit?limit=200").await.to_string();
    for kind in ["incident_opened", "incident_changed", "incident_merged"] {
        assert!(audit.contains(kind), "{kind} audited");
    }
    let (status, _) = app.get("/v1/incidents/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get("/v1/incidents?status=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
