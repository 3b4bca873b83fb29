//! The register API: the queue of cases with filters and cursor pages, one case with its
//! evidence, claims, decisions (one or many), authors and the audit log. Who decides is the
//! caller's API key name (`auth::Caller`).

use std::collections::HashMap;
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Caller;
use super::error::{ApiError, ErrorBody, ErrorResponse, Refusals};
use super::{AppState, body, query, wire};
use crate::domain::{Action, Priority, Route};
use crate::register::{
    AuditEntry, AuthorDetail, CaseDetail, CaseFilter, CaseSummary, Claim, Cursor, DecisionRecord,
    Delivery, Erasure, NewDecision, Page, Status, Verdict,
};
use crate::scoring::Scores;

/// Cases or audit entries per page unless `limit` says otherwise, and the most it may say.
const PAGE: usize = 50;
const MAX_PAGE: usize = 200;
/// How long a claim lasts unless the request says otherwise, and the longest it may last.
const CLAIM_MINUTES: i64 = 15;
const MAX_CLAIM_MINUTES: i64 = 120;
/// Ids in one bulk decision.
const MAX_BULK: usize = 256;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(decide_many))
        .routes(routes!(one))
        .routes(routes!(claim))
        .routes(routes!(decide))
        .routes(routes!(author, erase_author))
        .routes(routes!(audit))
        .routes(routes!(notifications))
        .routes(routes!(retry_notification))
}

/// A case id from the path; anything but a number names no case.
fn case_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::NotFound(format!("case {id:?}")))
}

/// A query parameter parsed, or a 400 naming it.
pub(super) fn param<T: FromStr>(
    query: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, ApiError> {
    query
        .get(name)
        .map(|v| {
            v.parse()
                .map_err(|_| ApiError::InvalidRequest(format!("{name}: {v:?} is not valid")))
        })
        .transpose()
}

/// An enum in its JSON spelling (`block_author`, `customer_service`) from a query parameter.
fn word<T: for<'de> Deserialize<'de>>(
    query: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, ApiError> {
    query
        .get(name)
        .map(|v| {
            serde_json::from_value(Value::String(v.clone()))
                .map_err(|_| ApiError::InvalidRequest(format!("{name}: {v:?} is not one of ours")))
        })
        .transpose()
}

pub(super) fn time(
    query: &HashMap<String, String>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    query
        .get(name)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| ApiError::InvalidRequest(format!("{name}: {v:?} is not RFC 3339")))
        })
        .transpose()
}

pub(super) fn limit(query: &HashMap<String, String>) -> Result<usize, ApiError> {
    match param::<usize>(query, "limit")? {
        None => Ok(PAGE),
        Some(n @ 1..=MAX_PAGE) => Ok(n),
        Some(n) => Err(ApiError::InvalidRequest(format!(
            "limit: {n} is not in 1..={MAX_PAGE}"
        ))),
    }
}

/// Refuses a parameter not among `known`, so a typo never silently widens a list.
pub(super) fn only(query: &HashMap<String, String>, known: &[&str]) -> Result<(), ApiError> {
    match query.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(ApiError::InvalidRequest(format!(
            "{key}: unknown parameter (one of {})",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

/// The queue's filters: `status`, `action` (the outcome in force), `priority`, `channel`,
/// `route`, `author`, `incident`, `since`, `until` (RFC 3339), `q` (text), `min_<score>` (e.g.
/// `min_toxicity=0.8`), and `limit`, `cursor`. Unknown parameters are refused, so a typo never
/// silently widens the list.
fn filter(query: &HashMap<String, String>) -> Result<CaseFilter, ApiError> {
    let known = [
        "status", "action", "priority", "channel", "route", "author", "incident", "since", "until",
        "q", "limit", "cursor",
    ];
    let mut min_scores = Vec::new();
    for (key, value) in query {
        if let Some(score) = key.strip_prefix("min_") {
            let Some(name) = Scores::NAMES.iter().find(|n| **n == score) else {
                return Err(ApiError::InvalidRequest(format!(
                    "{key}: unknown score (one of {})",
                    Scores::NAMES.join(", ")
                )));
            };
            let min: f64 = value
                .parse()
                .ok()
                .filter(|m| (0.0..=1.0).contains(m))
                .ok_or_else(|| {
                    ApiError::InvalidRequest(format!("{key}: {value:?} is not in [0, 1]"))
                })?;
            min_scores.push((*name, min));
        } else if !known.contains(&key.as_str()) {
            return Err(ApiError::InvalidRequest(format!(
                "{key}: unknown parameter (one of {}, min_<score>)",
                known.join(", ")
            )));
        }
    }
    min_scores.sort_by(|a, b| a.0.cmp(b.0));
    Ok(CaseFilter {
        status: word::<Status>(query, "status")?,
        action: word::<Action>(query, "action")?,
        priority: word::<Priority>(query, "priority")?,
        channel: query.get("channel").cloned(),
        route: word::<Route>(query, "route")?,
        author: query.get("author").cloned(),
        incident: param(query, "incident")?,
        since: time(query, "since")?,
        until: time(query, "until")?,
        text: query.get("q").filter(|q| !q.trim().is_empty()).cloned(),
        min_scores,
    })
}

/// The queue: open and decided cases, overdue first, then by priority, newest first; every
/// filter narrows it, unknown parameters are refused. Role: moderator.
#[utoipa::path(get, path = "/v1/cases", tag = "register",
    params(
        ("status" = Option<Status>, Query, description = "`open` or `decided`"),
        ("action" = Option<Action>, Query, description = "The action in force"),
        ("priority" = Option<Priority>, Query),
        ("channel" = Option<String>, Query),
        ("route" = Option<Route>, Query),
        ("author" = Option<String>, Query, description = "The author's id"),
        ("incident" = Option<i64>, Query, description = "The incident's id"),
        ("since" = Option<DateTime<Utc>>, Query, description = "Recorded at or after (RFC 3339)"),
        ("until" = Option<DateTime<Utc>>, Query, description = "Recorded before (RFC 3339)"),
        ("q" = Option<String>, Query, description = "Text containing this"),
        ("min_toxicity" = Option<f64>, Query, description = "At least this score (0–1); likewise `min_` + any score name", minimum = 0, maximum = 1),
        ("min_severe_toxicity" = Option<f64>, Query, minimum = 0, maximum = 1),
        ("min_insult" = Option<f64>, Query, minimum = 0, maximum = 1),
        ("min_threat" = Option<f64>, Query, minimum = 0, maximum = 1),
        ("min_identity_attack" = Option<f64>, Query, minimum = 0, maximum = 1),
        ("min_profanity" = Option<f64>, Query, minimum = 0, maximum = 1),
        ("min_spam" = Option<f64>, Query, minimum = 0, maximum = 1),
        ("min_urgency" = Option<f64>, Query, minimum = 0, maximum = 1),
        ("min_troll" = Option<f64>, Query, minimum = 0, maximum = 1),
        ("min_fake_account" = Option<f64>, Query, minimum = 0, maximum = 1),
        ("limit" = Option<usize>, Query, description = "Cases per page, 1–200 (50)", minimum = 1, maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next` of the page before"),
    ),
    responses((status = 200, body = Page<CaseSummary>), Refusals))]
async fn list(
    State(state): State<AppState>,
    query_string: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Page<CaseSummary>>, ApiError> {
    let query = query(query_string)?;
    let filter = filter(&query)?;
    let after = query
        .get("cursor")
        .map(|c| {
            Cursor::decode(c)
                .ok_or_else(|| ApiError::InvalidRequest(format!("cursor: {c:?} is not ours")))
        })
        .transpose()?;
    Ok(Json(
        state.register.cases(&filter, after, limit(&query)?).await?,
    ))
}

/// One case with all its evidence, its decisions, its thread, its author and its audit
/// entries. Role: moderator.
#[utoipa::path(get, path = "/v1/cases/{id}", tag = "register",
    params(("id" = i64, Path, description = "The case id")),
    responses((status = 200, body = CaseDetail), Refusals,
        (status = 404, description = "No such case", body = ErrorResponse)))]
async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    let id = case_id(&id)?;
    state
        .register
        .case(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("case {id}")))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ClaimRequest {
    /// How long the claim lasts: 1–120 minutes (15).
    #[schema(minimum = 1, maximum = 120)]
    minutes: Option<i64>,
}

/// Claims a case for the caller, so that other moderators' decisions are refused until the
/// claim ends; the body may be empty. Role: moderator.
#[utoipa::path(post, path = "/v1/cases/{id}/claim", tag = "register",
    params(("id" = i64, Path, description = "The case id")),
    request_body(content = Option<ClaimRequest>),
    responses((status = 200, body = Claim), Refusals,
        (status = 404, description = "No such case", body = ErrorResponse),
        (status = 409, description = "Another moderator holds a claim on it", body = ErrorResponse)))]
async fn claim(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Claim>, ApiError> {
    let id = case_id(&id)?;
    let bytes = body(bytes)?;
    let request: ClaimRequest = if bytes.iter().all(u8::is_ascii_whitespace) {
        ClaimRequest::default()
    } else {
        wire::shaped(wire::parse_json(&bytes)?)?
    };
    let minutes = request.minutes.unwrap_or(CLAIM_MINUTES);
    if !(1..=MAX_CLAIM_MINUTES).contains(&minutes) {
        return Err(ApiError::Unprocessable(format!(
            "minutes: {minutes} is not in 1..={MAX_CLAIM_MINUTES}"
        )));
    }
    let until = Utc::now() + TimeDelta::minutes(minutes);
    Ok(Json(state.register.claim(id, &caller.name, until).await?))
}

/// A decision checked beyond its shape: a route that a policy in force lists among its teams,
/// labels in the training data's names.
fn checked(state: &AppState, decision: NewDecision) -> Result<NewDecision, ApiError> {
    if let Some(route) = &decision.route
        && !state.pipeline.policies().policies.teams().contains(route)
    {
        return Err(ApiError::Unprocessable(format!(
            "route: \"{route}\" is not a team of any policy in force"
        )));
    }
    for (name, label) in &decision.labels {
        let ok = match name.as_str() {
            "label" => matches!(label.as_str(), Some("negative" | "neutral" | "positive")),
            score => Scores::NAMES.contains(&score) && label.is_boolean(),
        };
        if !ok {
            return Err(ApiError::Unprocessable(format!(
                "labels.{name}: {label} is not a label (a score name with true or false, or \
                 label: negative, neutral or positive)"
            )));
        }
    }
    Ok(decision)
}

/// A moderator's decision on a case; the latest is the outcome in force. Role: moderator.
#[utoipa::path(post, path = "/v1/cases/{id}/decisions", tag = "register",
    params(("id" = i64, Path, description = "The case id")),
    request_body = NewDecision,
    responses((status = 200, body = DecisionRecord), Refusals,
        (status = 404, description = "No such case", body = ErrorResponse),
        (status = 409, description = "Another moderator holds a claim on it", body = ErrorResponse)))]
async fn decide(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<DecisionRecord>, ApiError> {
    let id = case_id(&id)?;
    let decision = checked(&state, wire::shaped(wire::parse_json(&body(bytes)?)?)?)?;
    let record = state
        .register
        .decide(
            id,
            &decision,
            &caller.name,
            &state.pipeline.policies().policies,
        )
        .await?;
    if decision.decision == Verdict::Escalate {
        state.outbox.wake();
    }
    Ok(Json(record))
}

/// The same decision on many cases: `ids` beside the fields of one decision ([`NewDecision`]).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BulkDecision {
    /// 1 to 256 case ids.
    #[schema(min_items = 1, max_items = 256)]
    ids: Vec<i64>,
    decision: Verdict,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    route: Option<Route>,
    #[serde(default)]
    labels: serde_json::Map<String, Value>,
}

/// The answers to a bulk decision, in the order of its ids.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct BulkDecided {
    items: Vec<BulkItem>,
}

/// One id's answer in a bulk decision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
enum BulkItem {
    Decided { id: i64, decision: DecisionRecord },
    Failed { id: i64, error: ErrorBody },
}

/// `{"ids": [1, 2, 3], "decision": "hide", "note": …}`: the same decision on each case, each
/// alone, answered in order; a case that fails (unknown, claimed by another) fails alone.
/// Role: moderator.
#[utoipa::path(post, path = "/v1/cases/decisions:batch", tag = "register",
    request_body = BulkDecision,
    responses((status = 200, body = BulkDecided), Refusals))]
async fn decide_many(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<BulkDecided>, ApiError> {
    let BulkDecision {
        ids,
        decision,
        note,
        route,
        labels,
    } = wire::shaped(wire::parse_json(&body(bytes)?)?)?;
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(ApiError::Unprocessable(format!(
            "ids: 1 to {MAX_BULK} case ids (got {})",
            ids.len()
        )));
    }
    let decision = checked(
        &state,
        NewDecision {
            decision,
            note,
            route,
            labels,
        },
    )?;
    let policies = state.pipeline.policies();
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.push(
            match state
                .register
                .decide(id, &decision, &caller.name, &policies.policies)
                .await
            {
                Ok(decision) => BulkItem::Decided { id, decision },
                Err(e) => match ApiError::from(e) {
                    ApiError::Internal(e) => return Err(ApiError::Internal(e)),
                    e => BulkItem::Failed {
                        id,
                        error: e.body(),
                    },
                },
            },
        );
    }
    if decision.decision == Verdict::Escalate {
        state.outbox.wake();
    }
    Ok(Json(BulkDecided { items }))
}

/// An author's counts and standing, with every case of theirs, newest first. Role: moderator.
#[utoipa::path(get, path = "/v1/authors/{id}", tag = "register",
    params(("id" = String, Path, description = "The author's id as the client sent it")),
    responses((status = 200, body = AuthorDetail), Refusals,
        (status = 404, description = "No such author", body = ErrorResponse)))]
async fn author(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AuthorDetail>, ApiError> {
    state
        .register
        .author(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("author {id:?}")))
}

/// Erases an author (GDPR): their texts, ids and the notes on their cases go from the register,
/// and what the repetition memory holds of them; counts, decisions and the audit stay.
/// Role: admin.
#[utoipa::path(delete, path = "/v1/authors/{id}", tag = "register",
    params(("id" = String, Path, description = "The author's id as the client sent it")),
    responses((status = 200, body = Erasure), Refusals,
        (status = 404, description = "No such author", body = ErrorResponse)))]
async fn erase_author(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Erasure>, ApiError> {
    state.pipeline.forget_author(&id);
    let erasure = state.register.erase_author(&id, &caller.name).await?;
    let erasure = erasure.ok_or_else(|| ApiError::NotFound(format!("author {id:?}")))?;
    tracing::info!(by = %caller.name, cases = erasure.cases, "author erased");
    Ok(Json(erasure))
}

/// The audit log, newest first: `case`, `actor`, `limit`, `cursor` (the `next` of a page).
/// Role: moderator.
#[utoipa::path(get, path = "/v1/audit", tag = "register",
    params(
        ("case" = Option<i64>, Query, description = "One case's entries"),
        ("actor" = Option<String>, Query, description = "`seula` or an API key's name"),
        ("limit" = Option<usize>, Query, description = "Entries per page, 1–200 (50)", minimum = 1, maximum = 200),
        ("cursor" = Option<i64>, Query, description = "The `next` of the page before"),
    ),
    responses((status = 200, body = Page<AuditEntry>), Refusals))]
async fn audit(
    State(state): State<AppState>,
    query_string: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    let query = query(query_string)?;
    only(&query, &["case", "actor", "limit", "cursor"])?;
    Ok(Json(
        state
            .register
            .audit(
                param(&query, "case")?,
                query.get("actor").map(String::as_str),
                param(&query, "cursor")?,
                limit(&query)?,
            )
            .await?,
    ))
}

/// The notifications' outbox, newest first, each delivery with its attempts: `status`
/// (`pending`, `delivered`, `failed`), `case`, `limit`, `cursor` (the `next` of a page). The
/// targets' secrets are never shown, nor the path of their addresses. Role: moderator.
#[utoipa::path(get, path = "/v1/notifications", tag = "register",
    params(
        ("status" = Option<String>, Query, description = "`pending`, `delivered` or `failed`"),
        ("case" = Option<i64>, Query, description = "One case's deliveries"),
        ("limit" = Option<usize>, Query, description = "Deliveries per page, 1–200 (50)", minimum = 1, maximum = 200),
        ("cursor" = Option<i64>, Query, description = "The `next` of the page before"),
    ),
    responses((status = 200, body = Page<Delivery>), Refusals))]
async fn notifications(
    State(state): State<AppState>,
    query_string: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Page<Delivery>>, ApiError> {
    let query = query(query_string)?;
    only(&query, &["status", "case", "limit", "cursor"])?;
    let status = query.get("status").map(String::as_str);
    if let Some(s) = status.filter(|s| !["pending", "delivered", "failed"].contains(s)) {
        return Err(ApiError::InvalidRequest(format!(
            "status: {s:?} is not one of pending, delivered, failed"
        )));
    }
    Ok(Json(
        state
            .register
            .deliveries(
                status,
                param(&query, "case")?,
                param(&query, "cursor")?,
                limit(&query)?,
            )
            .await?,
    ))
}

/// Sends a failed delivery again from now, with a fresh count of attempts; audited. Role: admin.
#[utoipa::path(post, path = "/v1/notifications/{id}/retry", tag = "register",
    params(("id" = i64, Path, description = "The delivery id")),
    responses((status = 200, body = Delivery), Refusals,
        (status = 404, description = "No failed delivery of that id", body = ErrorResponse)))]
async fn retry_notification(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Delivery>, ApiError> {
    let not_found = || ApiError::NotFound(format!("failed delivery {id:?}"));
    let number: i64 = id.parse().map_err(|_| not_found())?;
    let retried = state
        .register
        .retry_delivery(number, &caller.name, Utc::now())
        .await?
        .ok_or_else(not_found)?;
    state.outbox.wake();
    Ok(Json(retried))
}
