//! API keys and roles over HTTP: 401 without a valid key, 403 for a role too low, open local
//! mode without keys, and no key in any response or log line.

mod common;

use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{TestApp, contract_example, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};
use serde_json::{Value, json};

const SCORER: &str = "scorer-key-0123456789abcdef";
const MODERATOR: &str = "moderator-key-0123456789abcdef";
const ADMIN: &str = "admin-key-0123456789abcdef";
const WRONG: &str = "wrong-key-0123456789abcdef";

fn keys() -> String {
    format!("scorer:inbox:{SCORER}, moderator:anna:{MODERATOR}, admin:ops:{ADMIN}")
}

/// One request with an optional `Authorization` header value; the body fits the path.
async fn call(
    app: &TestApp,
    authorization: Option<&str>,
    method: &str,
    path: &str,
) -> (StatusCode, HeaderMap, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let body = match path {
        "/v1/score" => contract_example(),
        "/v1/score:batch" => json!({ "items": [contract_example()] }),
        _ => json!({}),
    };
    let mut request = app.client.request(method.clone(), app.url(path));
    if method != reqwest::Method::GET {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

fn error_code(body: &str) -> Value {
    serde_json::from_str::<Value>(body)
        .map(|v| v["error"]["code"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn without_a_valid_key_every_path_is_401() {
    let app = spawn_app_with(Some(&keys())).await;
    let paths = [
        ("POST", "/v1/score"),
        ("POST", "/v1/score:batch"),
        ("GET", "/healthz"),
        ("GET", "/metrics"),
        ("GET", "/v1/cases"),
        ("POST", "/v1/policies/default/versions"),
        ("GET", "/v1/nothing"),
    ];
    let scorer_basic = format!("Basic {SCORER}");
    let presented = [
        None,
        Some(bearer(WRONG)),
        Some(scorer_basic),
        Some(SCORER.to_string()),
        Some("Bearer".to_string()),
    ];
    for (method, path) in paths {
        for authorization in &presented {
            let (status, headers, body) = call(&app, authorization.as_deref(), method, path).await;
            let case = format!("{method} {path} with {authorization:?}");
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
            assert_eq!(error_code(&body), "unauthorized", "{case}: {body}");
            let challenge = headers
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(challenge.starts_with("Bearer"), "{case}: {challenge:?}");
        }
    }
}

/// What a request must not get: refused for its key or role.
#[derive(Debug)]
enum Want {
    Status(StatusCode),
    NotRefused,
}

#[tokio::test]
async fn each_role_reaches_what_the_matrix_allows() {
    use Want::{NotRefused, Status};
    let app = spawn_app_with(Some(&keys())).await;
    let forbidden = || Status(StatusCode::FORBIDDEN);
    let cases = [
        (SCORER, "POST", "/v1/score", Status(StatusCode::OK)),
        (SCORER, "POST", "/v1/score:batch", Status(StatusCode::OK)),
        (SCORER, "GET", "/healthz", Status(StatusCode::OK)),
        (SCORER, "GET", "/readyz", Status(StatusCode::OK)),
        (SCORER, "GET", "/metrics", Status(StatusCode::OK)),
        (SCORER, "GET", "/v1/cases", forbidden()),
        (SCORER, "GET", "/v1/authors/fb:user:991", forbidden()),
        (SCORER, "GET", "/v1/audit", forbidden()),
        (SCORER, "GET", "/", Status(StatusCode::OK)),
        (SCORER, "GET", "/assets/page.js", Status(StatusCode::OK)),
        (SCORER, "GET", "/v1/nothing", forbidden()),
        (SCORER, "POST", "/v1/policies/default/versions", forbidden()),
        (MODERATOR, "POST", "/v1/score", Status(StatusCode::OK)),
        (MODERATOR, "GET", "/metrics", Status(StatusCode::OK)),
        (MODERATOR, "GET", "/v1/cases", NotRefused),
        (MODERATOR, "GET", "/v1/authors/fb:user:991", NotRefused),
        (MODERATOR, "GET", "/v1/audit", NotRefused),
        (MODERATOR, "GET", "/v1/policies", NotRefused),
        (
            MODERATOR,
            "POST",
            "/v1/policies/default/versions",
            forbidden(),
        ),
        (
            MODERATOR,
            "GET",
            "/v1/nothing",
            Status(StatusCode::NOT_FOUND),
        ),
        (ADMIN, "POST", "/v1/score", Status(StatusCode::OK)),
        (ADMIN, "GET", "/healthz", Status(StatusCode::OK)),
        (ADMIN, "GET", "/v1/cases", NotRefused),
        (ADMIN, "POST", "/v1/policies/default/versions", NotRefused),
    ];
    for (key, method, path, want) in cases {
        let (status, _, body) = call(&app, Some(&bearer(key)), method, path).await;
        let case = format!("{} {method} {path}: {status} {body}", &key[..5]);
        match want {
            Status(want) => assert_eq!(status, want, "{case}"),
            NotRefused => assert!(
                status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                "{case}"
            ),
        }
        if status == StatusCode::FORBIDDEN {
            assert_eq!(error_code(&body), "forbidden", "{case}");
        }
    }
}

#[tokio::test]
async fn refusals_explain_themselves_and_are_counted() {
    let app = spawn_app_with(Some(&keys())).await;
    let (status, _, body) = call(&app, Some(&bearer(SCORER)), "GET", "/v1/cases").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let message: Value = serde_json::from_str(&body).expect("JSON error");
    assert_eq!(
        message["error"]["message"],
        "inbox (role scorer) may not GET /v1/cases: it needs role moderator"
    );
    call(&app, None, "POST", "/v1/score").await;
    call(&app, Some(&bearer(WRONG)), "POST", "/v1/score").await;
    let (status, _, metrics) = call(&app, Some(&bearer(SCORER)), "GET", "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "seula_requests_total{endpoint=\"auth\",status=\"401\"} 2",
        "seula_requests_total{endpoint=\"auth\",status=\"403\"} 1",
    ] {
        assert!(
            metrics.contains(needle),
            "metrics lack {needle}:\n{metrics}"
        );
    }
}

/// The page and its assets hold no data and a browser sends no bearer key when it navigates:
/// they load without one. Everything else about the page goes through the JSON API.
#[tokio::test]
async fn the_page_and_its_assets_need_no_key() {
    let app = spawn_app_with(Some(&keys())).await;
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/assets/page.js", "text/javascript; charset=utf-8"),
        ("/assets/page.css", "text/css; charset=utf-8"),
    ] {
        for authorization in [None, Some(bearer(WRONG)), Some(bearer(SCORER))] {
            let (status, headers, body) = call(&app, authorization.as_deref(), "GET", path).await;
            let case = format!("GET {path} with {authorization:?}");
            assert_eq!(status, StatusCode::OK, "{case}: {body}");
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            assert_eq!(header("content-type"), content_type, "{case}");
            assert_eq!(header("cache-control"), "no-cache", "{case}");
            assert!(
                header("content-security-policy").contains("script-src 'self'"),
                "{case}"
            );
            assert!(!body.is_empty(), "{case}");
        }
    }
    let (status, _, _) = call(&app, None, "GET", "/assets/nothing.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a missing asset is missing");
    for (method, path) in [("POST", "/"), ("GET", "/v1/cases"), ("GET", "/index.html")] {
        let (status, _, body) = call(&app, None, method, path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
    }
}

#[tokio::test]
async fn open_local_mode_needs_no_key() {
    let app = spawn_app().await;
    for (method, path, want) in [
        ("POST", "/v1/score", StatusCode::OK),
        ("GET", "/healthz", StatusCode::OK),
        ("GET", "/metrics", StatusCode::OK),
        ("GET", "/v1/nothing", StatusCode::NOT_FOUND),
    ] {
        for authorization in [None, Some(bearer(WRONG))] {
            let (status, _, body) = call(&app, authorization.as_deref(), method, path).await;
            assert_eq!(status, want, "{method} {path} {authorization:?}: {body}");
        }
    }
}

#[tokio::test]
async fn a_key_set_on_the_test_app_is_sent_by_every_helper() {
    let mut app = spawn_app_with(Some(&keys())).await;
    assert_eq!(
        app.score(&contract_example()).await.0,
        StatusCode::UNAUTHORIZED
    );
    app.token = Some(SCORER.into());
    let (status, body) = app.score(&contract_example()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.get("/healthz").await, (StatusCode::OK, "ok".into()));
}

/// Log lines written while it is the thread's subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The process's subscriber, so every server in this test binary logs to it: a thread's own
/// subscriber misses events whose interest another test thread's callsites cached first.
#[tokio::test]
async fn keys_never_reach_logs_or_responses() {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
    let app = spawn_app_with(Some(&keys())).await;
    let mut answers = String::new();
    for (authorization, method, path) in [
        (Some(bearer(SCORER)), "POST", "/v1/score"),
        (Some(bearer(SCORER)), "GET", "/v1/cases"),
        (Some(bearer(MODERATOR)), "POST", "/v1/policies/default"),
        (Some(bearer(MODERATOR)), "GET", "/v1/cases"),
        (Some(bearer(WRONG)), "POST", "/v1/score"),
        (Some(format!("Basic {ADMIN}")), "GET", "/healthz"),
        (Some(ADMIN.to_string()), "GET", "/healthz"),
        (None, "GET", "/metrics"),
    ] {
        let (status, headers, body) = call(&app, authorization.as_deref(), method, path).await;
        answers.push_str(&format!("{status} {headers:?} {body}\n"));
    }
    let logged = String::from_utf8_lossy(&log.0.lock().expect("log buffer")).into_owned();
    assert!(
        logged.contains("API keys required") && logged.contains("request refused"),
        "the subscriber saw the server:\n{logged}"
    );
    assert!(logged.contains("scorer=1 moderator=1 admin=1"), "{logged}");
    for key in [SCORER, MODERATOR, ADMIN, WRONG, "0123456789abcdef"] {
        assert!(!logged.contains(key), "a key in the log:\n{logged}");
        assert!(!answers.contains(key), "a key in a response:\n{answers}");
    }
}

fn seula_serve(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_seula"))
        .arg("serve")
        .args(args)
        .env_remove("SEULA_API_KEYS")
        .env_remove("SEULA_INSECURE")
        .env("RUST_BACKTRACE", "0")
        .envs(env.iter().copied())
        .output()
        .expect("run seula");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each of these stops at start, before binding; a missing models folder stops the ones that
/// pass the access checks, so none of them serves.
#[test]
fn serve_checks_keys_and_exposure_before_it_binds() {
    let no_models = ["--models", "/nonexistent/seula-models"];
    let short = "scorer:inbox:s3cret-short";
    let long = "admin:ops:s3cret-s3cret-s3cret";
    let unknown_role = format!("{long},mod:anna:{long}x");
    type Env<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(Vec<&str>, Env, &str)> = vec![
        (
            vec!["--addr", "0.0.0.0:8080"],
            vec![],
            "no API keys configured",
        ),
        (
            vec!["--addr", "[::]:8080"],
            vec![],
            "no API keys configured",
        ),
        (
            vec!["--addr", "0.0.0.0:8080"],
            vec![("SEULA_INSECURE", "false")],
            "no API keys configured",
        ),
        (
            vec!["--addr", "0.0.0.0:8080", "--insecure"],
            vec![],
            "manifest.json",
        ),
        (
            vec!["--addr", "0.0.0.0:8080"],
            vec![("SEULA_INSECURE", "1")],
            "manifest.json",
        ),
        (
            vec!["--addr", "0.0.0.0:8080"],
            vec![("SEULA_API_KEYS", long)],
            "manifest.json",
        ),
        (vec!["--addr", "127.0.0.1:8080"], vec![], "manifest.json"),
        (
            vec![],
            vec![("SEULA_API_KEYS", short)],
            "SEULA_API_KEYS entry 1: a key needs at least 16 characters",
        ),
        (
            vec![],
            vec![("SEULA_API_KEYS", "")],
            "SEULA_API_KEYS is empty",
        ),
        (
            vec!["--api-keys", &unknown_role],
            vec![],
            "entry 2: unknown role \"mod\"",
        ),
    ];
    for (args, env, want) in cases {
        let args: Vec<&str> = args.into_iter().chain(no_models).collect();
        let (ok, _, stderr) = seula_serve(&args, &env);
        assert!(!ok, "{args:?} {env:?} started");
        assert!(stderr.contains(want), "{args:?} {env:?}: {stderr}");
        assert!(!stderr.contains("s3cret"), "a key on stderr: {stderr}");
    }
}

#[test]
fn help_does_not_show_the_keys() {
    let (ok, help, _) = seula_serve(
        &["--help"],
        &[("SEULA_API_KEYS", "admin:ops:s3cret-s3cret-s3cret")],
    );
    assert!(ok);
    assert!(
        help.contains("--api-keys") && help.contains("SEULA_API_KEYS"),
        "{help}"
    );
    assert!(!help.contains("s3cret"), "{help}");
}
