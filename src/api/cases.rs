//! The register API: the queue of cases with filters and cursor pages, one case with its
//! evidence, claims, decisions (one or many), authors and the audit log. Who decides is the
//! caller's API key name (`auth::Caller`).

use std::collections::HashMap;
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::Caller;
use super::error::ApiError;
use super::{AppState, body, query, wire};
use crate::domain::{Action, Priority, Route};
use crate::register::{
    AuditEntry, AuthorDetail, CaseDetail, CaseFilter, CaseSummary, Claim, Cursor, DecisionRecord,
    Erasure, NewDecision, Page, Status,
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

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/cases", get(list))
        .route("/v1/cases/decisions:batch", post(decide_many))
        .route("/v1/cases/{id}", get(one))
        .route("/v1/cases/{id}/claim", post(claim))
        .route("/v1/cases/{id}/decisions", post(decide))
        .route("/v1/authors/{id}", get(author).delete(erase_author))
        .route("/v1/audit", get(audit))
}

/// A case id from the path; anything but a number names no case.
fn case_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::NotFound(format!("case {id:?}")))
}

/// A query parameter parsed, or a 400 naming it.
fn param<T: FromStr>(query: &HashMap<String, String>, name: &str) -> Result<Option<T>, ApiError> {
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

fn time(query: &HashMap<String, String>, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    query
        .get(name)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| ApiError::InvalidRequest(format!("{name}: {v:?} is not RFC 3339")))
        })
        .transpose()
}

fn limit(query: &HashMap<String, String>) -> Result<usize, ApiError> {
    match param::<usize>(query, "limit")? {
        None => Ok(PAGE),
        Some(n @ 1..=MAX_PAGE) => Ok(n),
        Some(n) => Err(ApiError::InvalidRequest(format!(
            "limit: {n} is not in 1..={MAX_PAGE}"
        ))),
    }
}

/// The queue's filters: `status`, `action` (the outcome in force), `priority`, `channel`,
/// `route`, `author`, `since`, `until` (RFC 3339), `q` (text), `min_<score>` (e.g.
/// `min_toxicity=0.8`), and `limit`, `cursor`. Unknown parameters are refused, so a typo never
/// silently widens the list.
fn filter(query: &HashMap<String, String>) -> Result<CaseFilter, ApiError> {
    let known = [
        "status", "action", "priority", "channel", "route", "author", "since", "until", "q",
        "limit", "cursor",
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
        since: time(query, "since")?,
        until: time(query, "until")?,
        text: query.get("q").filter(|q| !q.trim().is_empty()).cloned(),
        min_scores,
    })
}

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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimRequest {
    minutes: Option<i64>,
}

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

/// A decision's body, checked beyond its shape: labels in the training data's names.
fn decision(value: Value) -> Result<NewDecision, ApiError> {
    let decision: NewDecision = wire::shaped(value)?;
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

async fn decide(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<DecisionRecord>, ApiError> {
    let id = case_id(&id)?;
    let decision = decision(wire::parse_json(&body(bytes)?)?)?;
    Ok(Json(
        state.register.decide(id, &decision, &caller.name).await?,
    ))
}

/// One id's answer in a bulk decision.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum BulkItem {
    Decided {
        id: i64,
        decision: DecisionRecord,
    },
    Failed {
        id: i64,
        error: super::error::ErrorBody,
    },
}

/// `{"ids": [1, 2, 3], "decision": "hide", "note": …}`: the same decision on each case, each
/// alone, answered in order; a case that fails (unknown, claimed by another) fails alone.
async fn decide_many(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let mut value = wire::parse_json(&body(bytes)?)?;
    let ids: Vec<i64> = match value.as_object_mut().and_then(|o| o.remove("ids")) {
        Some(ids) => {
            wire::shaped(ids).map_err(|e| ApiError::InvalidRequest(format!("ids: {e}")))?
        }
        None => {
            return Err(ApiError::InvalidRequest(
                "ids: a list of case ids is required".into(),
            ));
        }
    };
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(ApiError::Unprocessable(format!(
            "ids: 1 to {MAX_BULK} case ids (got {})",
            ids.len()
        )));
    }
    let decision = decision(value)?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.push(
            match state.register.decide(id, &decision, &caller.name).await {
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
    Ok(Json(serde_json::json!({ "items": items })))
}

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
async fn audit(
    State(state): State<AppState>,
    query_string: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    let query = query(query_string)?;
    if let Some(key) = query
        .keys()
        .find(|k| !["case", "actor", "limit", "cursor"].contains(&k.as_str()))
    {
        return Err(ApiError::InvalidRequest(format!(
            "{key}: unknown parameter (one of case, actor, limit, cursor)"
        )));
    }
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
