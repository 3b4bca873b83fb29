//! The HTTP API: routes, handlers, wire types, errors, metrics.

pub mod auth;
pub mod cases;
pub mod error;
pub mod incidents;
pub mod limits;
pub mod metrics;
pub mod page;
pub mod perspective;
pub mod policies;
pub mod server;
pub mod stats;
pub mod wire;

use std::any::Any;
use std::sync::{Arc, LazyLock};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, middleware};
use serde_json::Value;
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::Limits;
use crate::pipeline::{Pipeline, RunError, panic_message};
use crate::register::Register;
use error::ApiError;
use metrics::Metrics;
use wire::{BatchItem, ItemError, MAX_BATCH, ScoreResponse};

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
    /// Sends the notifications' outbox; woken when a recorded case has deliveries.
    pub outbox: Arc<crate::notify::Outbox>,
}

impl AppState {
    /// After a comment is scored: its figures, and the outbox woken for the deliveries recorded
    /// with it.
    pub fn scored(&self, outcome: &crate::pipeline::Outcome) {
        self.metrics.scored(outcome);
        if outcome.case_id.is_some() && !outcome.decision.notices.is_empty() {
            self.outbox.wake();
        }
    }
}

/// The OpenAPI document's frame: its title and description, the bearer key every endpoint but
/// the public ones needs, and the error shape. Each endpoint's part comes from its handler.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Seula",
        description = "Moderation and troll triage for social customer service, in Finnish and \
English: scores, a recommended action with a priority, a route and the reasons, a register of \
difficult cases, policies per channel, and Perspective API's `comments:analyze`.\n\n\
Every endpoint but the page, `/openapi.json` and (in open local mode) all of them needs \
`Authorization: Bearer KEY` of a role at least the one its description names: scorer < \
moderator < admin.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(
        error::ErrorResponse,
        perspective::PerspectiveErrorResponse,
        crate::register::Status
    )),
    modifiers(&BearerKey),
    security(("bearer" = [])),
)]
struct Frame;

struct BearerKey;

impl utoipa::Modify for BearerKey {
    fn modify(&self, document: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        document
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Every endpoint with its part of the OpenAPI document: one list for the router and the
/// document, so the two cannot drift.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Frame::openapi())
        .routes(routes!(score_comment))
        .routes(routes!(score_batch))
        .routes(routes!(healthz))
        .routes(routes!(ready))
        .routes(routes!(render_metrics))
        .routes(routes!(openapi_document))
        .merge(cases::routes())
        .merge(incidents::routes())
        .merge(stats::routes())
        .merge(policies::routes())
        .merge(page::routes())
        .merge(perspective::routes())
}

/// The OpenAPI 3.1 document of every endpoint, as `GET /openapi.json` serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

static DOCUMENT: LazyLock<Result<String, String>> =
    LazyLock::new(|| openapi().to_pretty_json().map_err(|e| e.to_string()));

/// This OpenAPI document: every endpoint, request and response. Public.
#[utoipa::path(get, path = "/openapi.json", tag = "service", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
async fn openapi_document() -> Response {
    match &*DOCUMENT {
        Ok(document) => (
            [(header::CONTENT_TYPE, "application/json")],
            document.as_str(),
        )
            .into_response(),
        Err(e) => ApiError::Internal(format!("the OpenAPI document: {e}")).into_response(),
    }
}

pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    let (router, _) = routes().split_for_parts();
    router
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
        Err(e) => {
            if let RunError::Panicked(_) = e {
                state.metrics.panicked();
            }
            return Err(e.into());
        }
    };
    state.scored(&outcome);
    Ok(ScoreResponse::new(comment.id, outcome))
}

/// Scores one comment: scores, signals, the recommended action with its priority, route and
/// reasons; records it in the register when it is not `allow`, is urgent, or a policy's
/// webhook is told of it. Role: scorer.
#[utoipa::path(post, path = "/v1/score", tag = "scoring",
    request_body = wire::ScoreRequest,
    responses((status = 200, body = ScoreResponse), error::Refusals,
        (status = 500, description = "A fault of the service", body = error::ErrorResponse)))]
async fn score_comment(
    State(state): State<AppState>,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async { score_one(&state, wire::parse_json(&body(bytes)?)?).await }.await;
    respond(&state, "score", result)
}

/// Scores up to 256 comments, answered in order; an item that fails fails alone, as
/// `{"id", "error"}`. Role: scorer.
#[utoipa::path(post, path = "/v1/score:batch", tag = "scoring",
    request_body = wire::BatchRequest,
    responses((status = 200, body = wire::BatchResponse), error::Refusals,
        (status = 500, description = "A fault of the service", body = error::ErrorResponse)))]
async fn score_batch(
    State(state): State<AppState>,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let request: wire::BatchRequest = wire::shaped(wire::parse_json(&body(bytes)?)?)?;
        if request.items.len() > MAX_BATCH {
            return Err(ApiError::Unprocessable(format!(
                "items: at most {MAX_BATCH} per batch (got {})",
                request.items.len()
            )));
        }
        let mut items = Vec::with_capacity(request.items.len());
        for item in request.items {
            let id = wire::id_of(&item);
            items.push(match score_one(&state, item).await {
                Ok(response) => BatchItem::Scored(Box::new(response)),
                Err(e @ ApiError::Internal(_)) => return Err(e),
                Err(e) => BatchItem::Failed(ItemError::new(id, &e)),
            });
        }
        Ok(wire::BatchResponse { items })
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

/// Alive: answers `ok` while the process serves. Role: scorer.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "`ok`", content_type = "text/plain", body = String), error::Refusals))]
async fn healthz() -> &'static str {
    "ok"
}

/// Ready: the register answers. Role: scorer.
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses((status = 200, description = "`ready`", content_type = "text/plain", body = String),
        (status = 503, description = "The register does not answer", content_type = "text/plain", body = String),
        error::Refusals))]
async fn ready(State(state): State<AppState>) -> Response {
    match state.register.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "register not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "register unavailable").into_response()
        }
    }
}

/// Prometheus metrics in the OpenMetrics text format. Role: scorer.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String),
        error::Refusals))]
async fn render_metrics(State(state): State<AppState>) -> Response {
    let register = &state.register;
    match tokio::try_join!(
        register.overdue(chrono::Utc::now()),
        register.answered_late(),
        register.pending_deliveries()
    ) {
        Ok((overdue, late, pending)) => state.metrics.set_register_figures(overdue, late, pending),
        Err(e) => tracing::warn!(error = %e, "the register's figures not read"),
    }
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    (
        [(header::CONTENT_TYPE, content_type)],
        state.metrics.render(),
    )
        .into_response()
}
