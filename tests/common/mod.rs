//! Test helpers: the real app on port 0 with a fresh register, one helper per endpoint.

#![allow(dead_code)] // each test binary uses its own share of the helpers

use std::net::SocketAddr;

use reqwest::StatusCode;
use serde_json::{Value, json};
use seula::config::{AccessConfig, Limits, PipelineConfig, RegisterConfig, ServeConfig};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub database_url: String,
    pub dir: TempDir,
    pub shutdown: Option<oneshot::Sender<()>>,
    pub server: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// Sent as `Authorization: Bearer …` by every helper when set.
    pub token: Option<String>,
}

/// The models shipped in the repository.
pub fn models() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

pub fn pipeline_config() -> PipelineConfig {
    PipelineConfig {
        models: None,
        policy: None,
        repetition_window_hours: 24,
        repetition_authors: 1000,
        transformer: None,
        transformer_workers: 1,
        transformer_threads: 2,
        transformer_batch: 32,
        transformer_wait_ms: 2,
        transformer_queue: 256,
    }
}

/// The app in open local mode: no API keys.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(None).await
}

/// The app with `SEULA_API_KEYS` set to `keys`.
pub async fn spawn_app_with(keys: Option<&str>) -> TestApp {
    spawn_app_limited(keys, Limits::default(), |_| {}).await
}

/// The app with these keys and limits, its state changed by `adjust` before it serves.
pub async fn spawn_app_limited(
    keys: Option<&str>,
    limits: Limits,
    adjust: impl FnOnce(&mut seula::api::AppState),
) -> TestApp {
    spawn_app_config(keys, limits, pipeline_config(), adjust).await
}

/// The app in open local mode with this pipeline configuration.
pub async fn spawn_app_pipeline(pipeline: PipelineConfig) -> TestApp {
    spawn_app_config(None, Limits::default(), pipeline, |_| {}).await
}

async fn spawn_app_config(
    keys: Option<&str>,
    limits: Limits,
    pipeline: PipelineConfig,
    adjust: impl FnOnce(&mut seula::api::AppState),
) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("seula.db").display());
    let config = ServeConfig {
        addr: "127.0.0.1:0".parse().expect("addr"),
        register: RegisterConfig {
            database_url: database_url.clone(),
        },
        pipeline,
        limits,
        retention: None,
        access: AccessConfig {
            api_keys: keys.map(String::from),
            insecure: false,
        },
        webhooks: Default::default(),
    };
    let mut state = seula::app_state(&config).await.expect("app state");
    adjust(&mut state);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(seula::serve(listener, state, None, async {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        client: reqwest::Client::new(),
        database_url,
        dir,
        shutdown: Some(tx),
        server,
        token: None,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A request to `path` with the bearer token, if any.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let response = self
            .request(reqwest::Method::POST, path)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("non-JSON body {status}: {text}")),
        )
    }

    pub async fn score(&self, request: &Value) -> (StatusCode, Value) {
        self.post_raw("/v1/score", request.to_string()).await
    }

    pub async fn score_batch(&self, items: &[Value]) -> (StatusCode, Value) {
        self.post_raw("/v1/score:batch", json!({ "items": items }).to_string())
            .await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request");
        (response.status(), response.text().await.expect("body"))
    }

    /// Counts rows in a register table, read straight from the database file.
    pub async fn count(&self, sql: &str) -> i64 {
        let pool = sqlx::SqlitePool::connect(&self.database_url)
            .await
            .expect("open register");
        let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&pool)
            .await
            .expect("count");
        pool.close().await;
        n
    }
}

/// CONTRACT.md's example request.
pub fn contract_example() -> Value {
    json!({
        "id": "fb:post77:c42",
        "text": "MIKSI TÄÄ EI TOIMI!!!! vitun operaattori",
        "channel": "facebook",
        "language": "fi",
        "created_at": "2026-11-22T10:00:00Z",
        "thread": {"id": "fb:post77", "parent_text": "Miten voimme auttaa?"},
        "author": {
            "id": "fb:user:991", "name": "Matti Meikäläinen", "handle": "matti_m",
            "account_age_days": 2, "has_photo": false, "followers": 3, "following": 250, "posts": 1, "bio": ""
        }
    })
}
