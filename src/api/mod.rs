//! The HTTP API: routes, handlers, wire types, errors, metrics.

pub mod auth;
pub mod cases;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod page;
pub mod perspective;
pub mod policies;
pub mod server;
pub mod wire;

use std::any::Any;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde_json::Value;
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;

use crate::config::Limits;
use crate::pipeline::{Pipeline, RunError, panic_message};
use crate::register::Register;
use error::ApiError;
use metrics::Metrics;
use wire::{ItemError, MAX_BATCH, ScoreResponse};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub pipeline: Arc<Pipeline>,
    pub register: Register,
    pub metrics: Arc<Metrics>,
    pub limits: Arc<Limits>,
    /// Requests with a body in flight; when none is free the answer is 429, not a queue.
    pub in_flight: Arc<Semaphore>,
    /// Requests per client address and API key; none when the rate limit is off.
    pub rates: Option<Arc<limits::Rates>>,
    /// The API keys; none: open local mode.
    pub keys: Arc<auth::ApiKeys>,
    /// Held while a policy version is checked and stored or activated: one change at a time.
    pub policy_changes: Arc<tokio::sync::Mutex<()>>,
}

pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    Router::new()
        .route("/v1/score", post(score_comment))
        .route("/v1/score:batch", post(score_batch))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(render_metrics))
        .merge(cases::routes())
        .merge(policies::routes())
        .merge(page::routes())
        .merge(perspective::routes())
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Keep these last, innermost first: a layer covers only what was added before it.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::by_key,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), auth::check))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::by_address,
        ))
        .with_state(state)
        // A panic is a defect: answered 500 in the error shape, counted, logged; the server goes on.
        .layer(CatchPanicLayer::custom(
            move |panic: Box<dyn Any + Send>| {
                metrics.panicked();
                ApiError::Internal(format!("panic: {}", panic_message(&*panic))).into_response()
            },
        ))
}

/// The query string as `T`, or a 400 in our error shape.
fn query<T>(
    query: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    query
        .map(|axum::extract::Query(q)| q)
        .map_err(|e| ApiError::InvalidRequest(e.body_text()))
}

fn body(bytes: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    bytes.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(MAX_BODY_BYTES),
        _ => ApiError::MalformedJson(r.body_text()),
    })
}

async fn score_one(state: &AppState, value: Value) -> Result<ScoreResponse, ApiError> {
    let comment = wire::comment_from_value(value)?;
    let outcome = match state.pipeline.run(&comment, Some(&state.register)).await {
        Ok(outcome) => outcome,
        Err(RunError::Panicked(message)) => {
            state.metrics.panicked();
            return Err(ApiError::Panicked(message));
        }
        Err(RunError::Register(e)) => return Err(e.into()),
    };
    state
        .metrics
        .scored(&outcome.stages, outcome.took, outcome.decision.action);
    Ok(ScoreResponse::new(comment.id, outcome))
}

async fn score_comment(
    State(state): State<AppState>,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async { score_one(&state, wire::parse_json(&body(bytes)?)?).await }.await;
    respond(&state, "score", result)
}

async fn score_batch(
    State(state): State<AppState>,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let mut value = wire::parse_json(&body(bytes)?)?;
        let Some(Value::Array(items)) = value.get_mut("items").map(Value::take) else {
            return Err(ApiError::InvalidRequest(
                "items: must be an array of score requests".into(),
            ));
        };
        if items.len() > MAX_BATCH {
            return Err(ApiError::Unprocessable(format!(
                "items: at most {MAX_BATCH} per batch (got {})",
                items.len()
            )));
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let id = wire::id_of(&item);
            out.push(match score_one(&state, item).await {
                Ok(response) => {
                    serde_json::to_value(response).map_err(|e| ApiError::Internal(e.to_string()))?
                }
                Err(e @ ApiError::Internal(_)) => return Err(e),
                Err(e) => serde_json::to_value(ItemError::new(id, &e))
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            });
        }
        Ok(serde_json::json!({ "items": out }))
    }
    .await;
    respond(&state, "score_batch", result)
}

/// The answer, JSON or the error's own, counted in the metrics under `endpoint`.
fn respond<T: serde::Serialize, E: IntoResponse>(
    state: &AppState,
    endpoint: &'static str,
    result: Result<T, E>,
) -> Response {
    let response = match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    };
    state.metrics.request(endpoint, response.status().as_u16());
    response
}

async fn ready(State(state): State<AppState>) -> Response {
    match state.register.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "register not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "register unavailable").into_response()
        }
    }
}

async fn render_metrics(State(state): State<AppState>) -> Response {
    let register = &state.register;
    match tokio::try_join!(
        register.overdue(chrono::Utc::now()),
        register.answered_late()
    ) {
        Ok((overdue, late)) => state.metrics.set_reply_times(overdue, late),
        Err(e) => tracing::warn!(error = %e, "reply-time figures not read"),
    }
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    (
        [(header::CONTENT_TYPE, content_type)],
        state.metrics.render(),
    )
        .into_response()
}
