//! The OpenAPI document against the code: `/openapi.json` is the document the code builds, every
//! documented operation is called here, and every answer matches the schema documented for its
//! status and content type, with no field the document does not name.

mod common;

use std::collections::BTreeSet;

use common::{contract_example, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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

    /// Sends the request, checks the answer against the document, and returns it.
    async fn call(
        &mut self,
        app: &common::TestApp,
        method: Method,
        template: &str,
        path: &str,
        body: Option<(&str, String)>,
    ) -> (StatusCode, Value) {
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
        let schema = self.schema(&method, template, status, &content_type);
        self.called
            .insert((method.as_str().to_lowercase(), template.to_string()));
        let what = format!("{method} {path} → {status}");
        let body = if content_type.starts_with("application/json") {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"))
        } else {
            Value::String(text)
        };
        self.check(&what, schema, &body);
        (status, body)
    }

    async fn json(
        &mut self,
        app: &common::TestApp,
        method: Method,
        template: &str,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let body = Some(("application/json", body.to_string()));
        self.call(app, method, template, path, body).await
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

#[tokio::test]
async fn the_served_document_is_the_codes_and_every_answer_matches_it() {
    let app = spawn_app().await;
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
    let get = Method::GET;
    let post = Method::POST;

    // The service and the page.
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/",
        "/assets/page.js",
        "/assets/page.css",
        "/openapi.json",
    ] {
        let (status, _) = doc.call(&app, get.clone(), path, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }

    // Scoring: one comment, its refusals, a batch with a bad item.
    let (status, scored) = doc
        .json(
            &app,
            post.clone(),
            "/v1/score",
            "/v1/score",
            contract_example(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let case = scored["case_id"].as_i64().expect("the example is recorded");
    let (status, _) = doc
        .json(
            &app,
            post.clone(),
            "/v1/score",
            "/v1/score",
            json!({"id": "x", "text": " "}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = doc
        .call(
            &app,
            post.clone(),
            "/v1/score",
            "/v1/score",
            Some(("application/json", "{".into())),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let personal = json!({"id": "c2", "text": "Soita minulle 040 1234567, tilaus ei ole tullut", "author": {"id": "fb:user:991"}});
    let (status, batch) = doc
        .json(
            &app,
            post.clone(),
            "/v1/score:batch",
            "/v1/score:batch",
            json!({"items": [personal, {"id": "c3", "text": ""}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(batch["items"][1]["error"].is_object(), "{batch}");

    // The register.
    let (status, page) = doc
        .call(
            &app,
            get.clone(),
            "/v1/cases",
            "/v1/cases?status=open&min_toxicity=0.1&limit=5",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page["items"].as_array().expect("items").is_empty());
    let one = format!("/v1/cases/{case}");
    let (status, _) = doc
        .call(&app, get.clone(), "/v1/cases/{id}", &one, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = doc
        .call(
            &app,
            get.clone(),
            "/v1/cases/{id}",
            "/v1/cases/999999",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = doc
        .json(
            &app,
            post.clone(),
            "/v1/cases/{id}/claim",
            &format!("{one}/claim"),
            json!({"minutes": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let decision = json!({"decision": "hide", "note": "abusive", "labels": {"toxicity": true}});
    let (status, _) = doc
        .json(
            &app,
            post.clone(),
            "/v1/cases/{id}/decisions",
            &format!("{one}/decisions"),
            decision,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, bulk) = doc
        .json(
            &app,
            post.clone(),
            "/v1/cases/decisions:batch",
            "/v1/cases/decisions:batch",
            json!({"ids": [case, 999999], "decision": "delete"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(bulk["items"][1]["error"].is_object(), "{bulk}");
    let author = "/v1/authors/fb:user:991";
    let (status, _) = doc
        .call(&app, get.clone(), "/v1/authors/{id}", author, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = doc
        .call(
            &app,
            get.clone(),
            "/v1/audit",
            &format!("/v1/audit?case={case}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Policies: read, a new version as TOML, word lists, activation, replay, thresholds.
    let (status, _) = doc
        .call(&app, get.clone(), "/v1/policies", "/v1/policies", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, active) = doc
        .call(
            &app,
            get.clone(),
            "/v1/policies/{name}",
            "/v1/policies/default",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let source = active["source"].as_str().expect("source").to_string();
    let (status, _) = doc
        .call(
            &app,
            post.clone(),
            "/v1/policies/{name}/versions",
            "/v1/policies/default/versions?note=same",
            Some(("application/toml", source.clone())),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let words = json!({"banned": ["kurkkusalaatti*"], "suspect": ["tomaatti"], "allowed": [], "banned_action": "hide"});
    let (status, version) = doc
        .json(
            &app,
            Method::PUT,
            "/v1/policies/{name}/words",
            "/v1/policies/facebook/words",
            words,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{version}");
    let (status, _) = doc
        .json(
            &app,
            Method::PUT,
            "/v1/policies/{name}/words",
            "/v1/policies/facebook/words",
            json!({"banned": [""]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let activate = format!(
        "/v1/policies/facebook/versions/{}/activate",
        version["version"]
    );
    let (status, _) = doc
        .call(
            &app,
            post.clone(),
            "/v1/policies/{name}/versions/{version}/activate",
            &activate,
            Some(("application/json", "{}".into())),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = doc
        .call(
            &app,
            post.clone(),
            "/v1/policies/{name}/replay",
            "/v1/policies/default/replay",
            Some(("application/toml", source)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = doc
        .call(&app, get.clone(), "/v1/thresholds", "/v1/thresholds", None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // Perspective's endpoints, in its shapes.
    let analyze = "/v1alpha1/comments:analyze";
    let request = json!({
        "comment": {"text": "Olet täysi idiootti ja vitun valehtelija"},
        "requestedAttributes": {"TOXICITY": {}, "INSULT": {"scoreThreshold": 0.1}, "SEULA_URGENCY": {}},
        "spanAnnotations": true, "clientToken": "coral:1", "communityId": "facebook",
    });
    let (status, analysed) = doc
        .json(&app, post.clone(), analyze, analyze, request)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        analysed["attributeScores"]["INSULT"]["spanScores"].is_array(),
        "{analysed}"
    );
    let unknown = json!({"comment": {"text": "hei"}, "requestedAttributes": {"TOXICTY": {}}});
    let (status, _) = doc
        .json(&app, post.clone(), analyze, analyze, unknown)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let suggest = "/v1alpha1/comments:suggestscore";
    let correction = json!({
        "comment": {"text": "Olet täysi idiootti ja vitun valehtelija"},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
        "clientToken": "coral:1", "communityId": "facebook",
    });
    let (status, _) = doc
        .json(&app, post.clone(), suggest, suggest, correction)
        .await;
    assert_eq!(status, StatusCode::OK);

    // Erasure last: it takes the author's texts away.
    let (status, _) = doc
        .call(&app, Method::DELETE, "/v1/authors/{id}", author, None)
        .await;
    assert_eq!(status, StatusCode::OK);

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
    let listed = json!({"active": [{"name": "default", "version": 1}], "versions": []});
    doc.check("as documented", schema.clone(), &listed);
    let mut extra = listed.clone();
    extra["active"][0]["secret"] = json!("x");
    let outcome = std::panic::catch_unwind(|| doc.check("with a field more", schema, &extra));
    assert!(outcome.is_err(), "an undocumented field passed");
}
