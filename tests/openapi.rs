//! The OpenAPI document against the code: `/openapi.json` is the document the code builds, every
//! documented operation is called here, and every answer matches the schema documented for its
//! status and content type, with no field the document does not name.

mod common;

use std::collections::BTreeSet;

use common::{contract_example, spawn_app_limited};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use seula::config::Limits;
use seula::notify::{Outbox, Settings};

/// The served document, made strict for checking answers, and the operations called so far.
struct Documented {
    document: Value,
    called: BTreeSet<(String, String)>,
}

impl Documented {
    /// The document with `unevaluatedProperties: false` on every object schema that names its
    /// properties, so an answer with a field the document lacks fails. A schema composed into
    /// another (`allOf`, as `#[serde(flatten)]` gives) gets it on the composition instead, where
    /// the parts' properties all count as evaluated.
    fn new(mut document: Value) -> Self {
        let schemas = document["components"]["schemas"]
            .as_object_mut()
            .expect("components.schemas");
        let composed: BTreeSet<String> = schemas
            .values()
            .filter_map(|s| s["allOf"].as_array())
            .flatten()
            .filter_map(|part| part["$ref"].as_str())
            .map(|r| r.trim_start_matches("#/components/schemas/").to_string())
            .collect();
        for (name, schema) in schemas.iter_mut() {
            if !composed.contains(name) {
                strict(schema);
            }
        }
        Self {
            document,
            called: BTreeSet::new(),
        }
    }

    /// The schema documented for this answer: the operation's response for `status`, in the
    /// answer's content type.
    fn schema(
        &self,
        method: &Method,
        template: &str,
        status: StatusCode,
        content_type: &str,
    ) -> Value {
        let operation = &self.document["paths"][template][method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not documented"
        );
        let response = &operation["responses"][status.as_str()];
        assert!(
            response.is_object(),
            "{method} {template} answered {status}, which is not documented"
        );
        let content = response["content"].as_object().expect("content");
        let (_, media) = content
            .iter()
            .find(|(documented, _)| content_type.starts_with(documented.as_str()))
            .unwrap_or_else(|| {
                panic!(
                    "{method} {template} {status}: content type {content_type} is not documented"
                )
            });
        media["schema"].clone()
    }

    /// Checks `body` against the schema, resolving references in the document.
    fn check(&self, what: &str, schema: Value, body: &Value) {
        let mut root = self.document.clone();
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        root["allOf"] = json!([schema]);
        let validator = jsonschema::validator_for(&root).expect("a valid JSON Schema");
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{what}: {errors:#?}\n{body:#}");
    }

    /// Sends the request, checks that it answers `expect` and that the answer matches the
    /// document, and returns the answer.
    async fn call(&mut self, app: &common::TestApp, call: Call<'_>, expect: StatusCode) -> Value {
        let Call {
            method,
            template,
            path,
            body,
        } = call;
        let mut request = app.request(method.clone(), path);
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = response.text().await.expect("body");
        let what = format!("{method} {path} → {status}");
        assert_eq!(status, expect, "{what}: {text}");
        let schema = self.schema(&method, template, status, &content_type);
        self.called
            .insert((method.as_str().to_lowercase(), template.to_string()));
        let body = if content_type.starts_with("application/json") {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"))
        } else {
            Value::String(text)
        };
        self.check(&what, schema, &body);
        body
    }

    /// Every operation in the document, as (method, path template).
    fn operations(&self) -> BTreeSet<(String, String)> {
        let paths = self.document["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                let item = item.as_object().expect("path item");
                item.keys()
                    .map(move |method| (method.clone(), path.clone()))
            })
            .collect()
    }
}

/// `unevaluatedProperties: false` on every object schema within `schema` that names properties
/// or composes parts, except on the inline parts of a composition.
fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            map.values_mut().for_each(strict);
            if map.contains_key("properties") || map.contains_key("allOf") {
                map.insert("unevaluatedProperties".into(), Value::Bool(false));
            }
            if let Some(Value::Array(parts)) = map.get_mut("allOf") {
                for part in parts.iter_mut().filter_map(Value::as_object_mut) {
                    part.remove("unevaluatedProperties");
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// One request: its method, the documented path it is an instance of, the path, the body.
struct Call<'a> {
    method: Method,
    template: &'a str,
    path: &'a str,
    body: Option<(&'static str, String)>,
}

fn get<'a>(template: &'a str, path: &'a str) -> Call<'a> {
    Call {
        method: Method::GET,
        template,
        path,
        body: None,
    }
}

fn send<'a>(method: Method, template: &'a str, path: &'a str, body: Value) -> Call<'a> {
    let body = Some(("application/json", body.to_string()));
    Call {
        method,
        template,
        path,
        body,
    }
}

fn post<'a>(template: &'a str, path: &'a str, body: Value) -> Call<'a> {
    send(Method::POST, template, path, body)
}

fn toml<'a>(template: &'a str, path: &'a str, source: &str) -> Call<'a> {
    let body = Some(("application/toml", source.to_string()));
    Call {
        method: Method::POST,
        template,
        path,
        body,
    }
}

/// A delivery that failed: the default policy tells a target where nothing listens of every
/// urgent case, and an urgent comment comes. Its id.
async fn a_failed_delivery(app: &common::TestApp) -> i64 {
    let (_, active) = app.get("/v1/policies/default").await;
    let active: Value = serde_json::from_str(&active).expect("JSON");
    let with_target = format!(
        "{}\n[[webhooks]]\nname = \"nowhere\"\nurl = \"http://127.0.0.1:9/\"\nsecret = \"ops\"\n\
         events = [\"urgent_case\"]\n",
        active["source"].as_str().expect("source")
    );
    let version: Value = app
        .request(Method::POST, "/v1/policies/default/versions")
        .header("content-type", "application/toml")
        .body(with_target)
        .send()
        .await
        .expect("new version")
        .json()
        .await
        .expect("JSON");
    let activate = format!(
        "/v1/policies/default/versions/{}/activate",
        version["version"]
    );
    let (status, _) = app.post_raw(&activate, "").await;
    assert_eq!(status, StatusCode::OK);
    let urgent = json!({"id": "urgent", "text": "Junasovellus veloitti minulta kahdesti ja juna lähtee kymmenen minuutin päästä, auttakaa!"});
    let (_, scored) = app.score(&urgent).await;
    assert_eq!(scored["priority"], "urgent", "{scored}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, listed) = app.get("/v1/notifications?status=failed").await;
        let listed: Value = serde_json::from_str(&listed).expect("JSON");
        if let Some(id) = listed["items"][0]["id"].as_i64() {
            return id;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never failed: {listed}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_served_document_is_the_codes_and_every_answer_matches_it() {
    let app = spawn_app_limited(None, Limits::default(), |state| {
        let once = Settings {
            attempts: 1,
            ..Settings::default()
        };
        let secrets = "ops:ops-secret-0123456789".parse().expect("secrets");
        state.outbox = std::sync::Arc::new(Outbox::new(once, secrets));
    })
    .await;
    let failed = a_failed_delivery(&app).await;
    let (status, served) = app.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let served: Value = serde_json::from_str(&served).expect("JSON");
    let built = serde_json::to_value(seula::api::openapi()).expect("document");
    assert_eq!(
        served, built,
        "/openapi.json is not the document the code builds"
    );
    assert_eq!(served["openapi"], "3.1.0");
    let mut doc = Documented::new(served);
    let (ok, created) = (StatusCode::OK, StatusCode::CREATED);

    // Scoring: one comment, its refusals, a batch with a bad item.
    let scored = doc
        .call(&app, post("/v1/score", "/v1/score", contract_example()), ok)
        .await;
    let case = scored["case_id"].as_i64().expect("the example is recorded");
    let blank = post("/v1/score", "/v1/score", json!({"id": "x", "text": " "}));
    doc.call(&app, blank, StatusCode::UNPROCESSABLE_ENTITY)
        .await;
    let mut malformed = post("/v1/score", "/v1/score", json!(null));
    malformed.body = Some(("application/json", "{".into()));
    doc.call(&app, malformed, StatusCode::BAD_REQUEST).await;
    let personal = json!({"id": "c2", "text": "Soita minulle 040 1234567, tilaus ei ole tullut", "author": {"id": "fb:user:991"}});
    let items = json!({"items": [personal, {"id": "c3", "text": ""}]});
    let batch = doc
        .call(&app, post("/v1/score:batch", "/v1/score:batch", items), ok)
        .await;
    assert!(batch["items"][1]["error"].is_object(), "{batch}");

    // Everything that only reads, and its refusals.
    let one = format!("/v1/cases/{case}");
    let audit = format!("/v1/audit?case={case}");
    let (claim_path, decide_path) = (format!("{one}/claim"), format!("{one}/decisions"));
    let author = "/v1/authors/fb:user:991";
    for (template, path, expect) in [
        ("/healthz", "/healthz", ok),
        ("/readyz", "/readyz", ok),
        ("/metrics", "/metrics", ok),
        ("/", "/", ok),
        ("/assets/page.js", "/assets/page.js", ok),
        ("/assets/page.css", "/assets/page.css", ok),
        ("/openapi.json", "/openapi.json", ok),
        (
            "/v1/cases",
            "/v1/cases?status=open&min_toxicity=0.1&limit=5",
            ok,
        ),
        ("/v1/cases/{id}", &one, ok),
        ("/v1/cases/{id}", "/v1/cases/999999", StatusCode::NOT_FOUND),
        ("/v1/authors/{id}", author, ok),
        ("/v1/audit", &audit, ok),
        ("/v1/policies", "/v1/policies", ok),
        ("/v1/thresholds", "/v1/thresholds", ok),
        ("/v1/notifications", "/v1/notifications?status=failed", ok),
        ("/v1/stats", "/v1/stats?bucket=hour&by=intent", ok),
        ("/v1/stats", "/v1/stats?by=colour", StatusCode::BAD_REQUEST),
    ] {
        doc.call(&app, get(template, path), expect).await;
    }
    // Incidents: five authors report one outage; renamed, merged, read.
    let items: Vec<Value> = (0..10)
        .map(|i| {
            let text = if i < 5 {
                "Pikamaksu ei toimi OmaPankissa"
            } else {
                "Verkkopankkiin kirjautuminen ei toimi"
            };
            json!({"id": format!("inc-{i}"), "text": text, "author": {"id": format!("inc-{i}")}})
        })
        .collect();
    let (status, _) = app.score_batch(&items).await;
    assert_eq!(status, ok);
    let incidents = doc
        .call(&app, get("/v1/incidents", "/v1/incidents?status=open"), ok)
        .await;
    let ids: Vec<i64> = incidents["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .collect();
    assert_eq!(ids.len(), 2, "{incidents}");
    let (first, second) = (
        format!("/v1/incidents/{}", ids[1]),
        format!("/v1/incidents/{}", ids[0]),
    );
    doc.call(&app, get("/v1/incidents/{id}", &first), ok).await;
    doc.call(
        &app,
        get("/v1/incidents/{id}", "/v1/incidents/999999"),
        StatusCode::NOT_FOUND,
    )
    .await;
    let rename = post(
        "/v1/incidents/{id}",
        &first,
        json!({"title": "Pikamaksu-katko"}),
    );
    doc.call(&app, rename, ok).await;
    let merge_path = format!("{second}/merge");
    let merge = post(
        "/v1/incidents/{id}/merge",
        &merge_path,
        json!({"into": ids[1]}),
    );
    doc.call(&app, merge, ok).await;

    let retry = "/v1/notifications/{id}/retry";
    let again = format!("/v1/notifications/{failed}/retry");
    doc.call(&app, post(retry, &again, json!({})), ok).await;
    let none = post(retry, "/v1/notifications/999999/retry", json!({}));
    doc.call(&app, none, StatusCode::NOT_FOUND).await;

    // The register's decisions.
    let claim = post("/v1/cases/{id}/claim", &claim_path, json!({"minutes": 5}));
    doc.call(&app, claim, ok).await;
    let decision = json!({"decision": "hide", "note": "abusive", "labels": {"toxicity": true}});
    let decide = post("/v1/cases/{id}/decisions", &decide_path, decision);
    doc.call(&app, decide, ok).await;
    let bulk = json!({"ids": [case, 999999], "decision": "delete"});
    let bulk = post(
        "/v1/cases/decisions:batch",
        "/v1/cases/decisions:batch",
        bulk,
    );
    let bulk = doc.call(&app, bulk, ok).await;
    assert!(bulk["items"][1]["error"].is_object(), "{bulk}");

    // Policies: a new version as TOML, word lists, activation, replay.
    let active = doc
        .call(&app, get("/v1/policies/{name}", "/v1/policies/default"), ok)
        .await;
    let source = active["source"].as_str().expect("source");
    let versions = "/v1/policies/{name}/versions";
    doc.call(
        &app,
        toml(versions, "/v1/policies/default/versions?note=same", source),
        created,
    )
    .await;
    let words_path = "/v1/policies/{name}/words";
    let words = json!({"banned": ["kurkkusalaatti*"], "suspect": ["tomaatti"], "allowed": [], "banned_action": "hide"});
    let put = |body| send(Method::PUT, words_path, "/v1/policies/facebook/words", body);
    let version = doc.call(&app, put(words), created).await;
    doc.call(
        &app,
        put(json!({"banned": [""]})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let activate = format!(
        "/v1/policies/facebook/versions/{}/activate",
        version["version"]
    );
    let template = "/v1/policies/{name}/versions/{version}/activate";
    doc.call(&app, post(template, &activate, json!({})), ok)
        .await;
    let replay = toml(
        "/v1/policies/{name}/replay",
        "/v1/policies/default/replay",
        source,
    );
    doc.call(&app, replay, ok).await;

    // Perspective's endpoints, in its shapes.
    let analyze = "/v1alpha1/comments:analyze";
    let request = json!({
        "comment": {"text": "Olet täysi idiootti ja vitun valehtelija"},
        "requestedAttributes": {"TOXICITY": {}, "INSULT": {"scoreThreshold": 0.1}, "SEULA_URGENCY": {}},
        "spanAnnotations": true, "clientToken": "coral:1", "communityId": "facebook",
    });
    let analysed = doc.call(&app, post(analyze, analyze, request), ok).await;
    assert!(
        analysed["attributeScores"]["INSULT"]["spanScores"].is_array(),
        "{analysed}"
    );
    let unknown = json!({"comment": {"text": "hei"}, "requestedAttributes": {"TOXICTY": {}}});
    doc.call(
        &app,
        post(analyze, analyze, unknown),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let suggest = "/v1alpha1/comments:suggestscore";
    let correction = json!({
        "comment": {"text": "Olet täysi idiootti ja vitun valehtelija"},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
        "clientToken": "coral:1", "communityId": "facebook",
    });
    doc.call(&app, post(suggest, suggest, correction), ok).await;

    // Erasure last: it takes the author's texts away.
    let erase = Call {
        method: Method::DELETE,
        ..get("/v1/authors/{id}", author)
    };
    doc.call(&app, erase, ok).await;

    let missed: Vec<_> = doc.operations().difference(&doc.called).cloned().collect();
    assert!(
        missed.is_empty(),
        "documented but never called here: {missed:?}"
    );
}

/// A field added to an answer without its schema fails the check above: the check itself can fail.
#[tokio::test]
async fn an_undocumented_field_fails_the_check() {
    let document = serde_json::to_value(seula::api::openapi()).expect("document");
    let doc = Documented::new(document);
    let schema = doc.schema(
        &Method::GET,
        "/v1/policies",
        StatusCode::OK,
        "application/json",
    );
    let listed =
        json!({"active": [{"name": "default", "version": 1}], "versions": [], "teams": ["legal"]});
    doc.check("as documented", schema.clone(), &listed);
    let mut extra = listed.clone();
    extra["active"][0]["secret"] = json!("x");
    let outcome = std::panic::catch_unwind(|| doc.check("with a field more", schema, &extra));
    assert!(outcome.is_err(), "an undocumented field passed");
}
