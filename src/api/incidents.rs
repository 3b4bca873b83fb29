//! Incidents: many authors reporting one problem. Listed, read with their cases, renamed,
//! closed, opened again and merged by moderators; each change audited.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Caller;
use super::cases::{limit, only, param};
use super::error::{ApiError, ErrorResponse, Refusals};
use super::{AppState, body, query, wire};
use crate::register::{Incident, IncidentChange, IncidentDetail, Page};

/// The longest title a moderator may give, in characters.
const MAX_TITLE: usize = 200;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(one, change))
        .routes(routes!(merge))
}

fn incident_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::NotFound(format!("incident {id:?}")))
}

/// The incidents, newest first: `status` (`open`, `closed`, `merged`), `limit`, `cursor` (the
/// `next` of a page). Each with its words, channels, counts and a few of its cases. Role:
/// moderator.
#[utoipa::path(get, path = "/v1/incidents", tag = "register",
    params(
        ("status" = Option<String>, Query, description = "`open`, `closed` or `merged`"),
        ("limit" = Option<usize>, Query, description = "Incidents per page, 1–200 (50)", minimum = 1, maximum = 200),
        ("cursor" = Option<i64>, Query, description = "The `next` of the page before"),
    ),
    responses((status = 200, body = Page<Incident>), Refusals))]
async fn list(
    State(state): State<AppState>,
    query_string: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Page<Incident>>, ApiError> {
    let query = query(query_string)?;
    only(&query, &["status", "limit", "cursor"])?;
    let status = query.get("status").map(String::as_str);
    if let Some(s) = status.filter(|s| !["open", "closed", "merged"].contains(s)) {
        return Err(ApiError::InvalidRequest(format!(
            "status: {s:?} is not one of open, closed, merged"
        )));
    }
    let page = state
        .register
        .incidents(status, param(&query, "cursor")?, limit(&query)?)
        .await?;
    Ok(Json(page))
}

/// One incident with its cases, newest first (at most 200). Role: moderator.
#[utoipa::path(get, path = "/v1/incidents/{id}", tag = "register",
    params(("id" = i64, Path, description = "The incident id")),
    responses((status = 200, body = IncidentDetail), Refusals,
        (status = 404, description = "No such incident", body = ErrorResponse)))]
async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let id = incident_id(&id)?;
    state
        .register
        .incident(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("incident {id}")))
}

/// `{"title": …}` renames an incident, `{"status": "closed"}` closes it (later reports no
/// longer join it) and `{"status": "open"}` opens it again; audited. Role: moderator.
#[utoipa::path(post, path = "/v1/incidents/{id}", tag = "register",
    params(("id" = i64, Path, description = "The incident id")),
    request_body = IncidentChange,
    responses((status = 200, body = Incident), Refusals,
        (status = 404, description = "No such incident, or it was merged", body = ErrorResponse)))]
async fn change(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Incident>, ApiError> {
    let id = incident_id(&id)?;
    let change: IncidentChange = wire::shaped(wire::parse_json(&body(bytes)?)?)?;
    if let Some(title) = &change.title {
        let length = title.trim().chars().count();
        if length == 0 || length > MAX_TITLE || title.contains('\0') {
            return Err(ApiError::Unprocessable(format!(
                "title: 1 to {MAX_TITLE} characters, no NUL"
            )));
        }
    }
    if let Some(s) = change
        .status
        .as_deref()
        .filter(|s| !["open", "closed"].contains(s))
    {
        return Err(ApiError::Unprocessable(format!(
            "status: {s:?} is not open or closed (merge with POST /v1/incidents/{{id}}/merge)"
        )));
    }
    if change.title.is_none() && change.status.is_none() {
        return Err(ApiError::Unprocessable(
            "name a title or a status to change".into(),
        ));
    }
    if !state
        .register
        .change_incident(id, &change, &caller.name)
        .await?
    {
        return Err(ApiError::NotFound(format!("incident {id}")));
    }
    // The memory follows the register at once: a closed incident takes no more reports even
    // if the read below fails; one opened again takes them once it is read.
    if change.status.as_deref() == Some("closed") {
        state.pipeline.incident_closed(id);
    }
    let changed = read(&state, id).await?;
    if changed.status == "open" {
        state.pipeline.restore_incident(&changed);
    }
    Ok(Json(changed))
}

/// The incident as the register has it now.
async fn read(state: &AppState, id: i64) -> Result<Incident, ApiError> {
    let found = state.register.incident(id).await?;
    found
        .map(|d| d.incident)
        .ok_or_else(|| ApiError::NotFound(format!("incident {id}")))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Merge {
    /// The incident this one goes into.
    into: i64,
}

/// `{"into": ID}`: the incident's cases and reports go into the other, which must be open, and
/// it is `merged`;
/// later reports of it join the other. Audited. Answers the incident merged into. Role:
/// moderator.
#[utoipa::path(post, path = "/v1/incidents/{id}/merge", tag = "register",
    params(("id" = i64, Path, description = "The incident that goes into the other")),
    request_body = Merge,
    responses((status = 200, body = Incident), Refusals,
        (status = 404, description = "The incident is missing or merged already, the other is not open, or they are the same", body = ErrorResponse)))]
async fn merge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Incident>, ApiError> {
    let from = incident_id(&id)?;
    let Merge { into } = wire::shaped(wire::parse_json(&body(bytes)?)?)?;
    if !state
        .register
        .merge_incident(from, into, &caller.name)
        .await?
    {
        return Err(ApiError::NotFound(format!(
            "incident {from} (open or closed) into the open incident {into}"
        )));
    }
    state.pipeline.incident_merged(from, into);
    Ok(Json(read(&state, into).await?))
}
