//! Trends: `GET /v1/stats`, the register's cases over time by one field, with the incidents
//! opened and the reply-time attainment per route and priority.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{TimeDelta, Utc};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::cases::{only, time};
use super::error::{ApiError, Refusals};
use super::{AppState, query};
use crate::stats::{self, Bucket, By, Trends};

/// The most cases one answer counts; beyond, `truncated` says so.
const MAX_ROWS: usize = 200_000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(trends))
}

/// The cases recorded in `[since, until)` (RFC 3339, widened to whole buckets; by default the
/// last 7 days, or the last 48 hours by hour), counted per `bucket` (`hour` or `day`, UTC; at
/// most 1,000) by `by` (`action`: the automated action recorded; `route`, `intent`,
/// `sentiment`, `channel`, `priority`); the incidents opened per bucket; and per route and
/// priority the share of those cases due by now that were answered within `respond_by`. At most
/// the newest 200,000 cases are counted (`truncated`). Role: moderator.
#[utoipa::path(get, path = "/v1/stats", tag = "register",
    params(
        ("since" = Option<DateTime<Utc>>, Query, description = "Recorded at or after (RFC 3339)"),
        ("until" = Option<DateTime<Utc>>, Query, description = "Recorded before (RFC 3339); now by default"),
        ("bucket" = Option<String>, Query, description = "`hour` or `day` (the default)"),
        ("by" = Option<String>, Query, description = "`action` (the default), `route`, `intent`, `sentiment`, `channel` or `priority`"),
    ),
    responses((status = 200, body = Trends), Refusals))]
async fn trends(
    State(state): State<AppState>,
    query_string: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Trends>, ApiError> {
    let query = query(query_string)?;
    only(&query, &["since", "until", "bucket", "by"])?;
    let bucket = match query.get("bucket").map(String::as_str) {
        None | Some("day") => Bucket::Day,
        Some("hour") => Bucket::Hour,
        Some(other) => {
            return Err(ApiError::InvalidRequest(format!(
                "bucket: {other:?} is not hour or day"
            )));
        }
    };
    let by: By = match query.get("by") {
        None => By::Action,
        Some(name) => name.parse().map_err(|()| {
            ApiError::InvalidRequest(format!(
                "by: {name:?} is not one of {}",
                By::NAMES.join(", ")
            ))
        })?,
    };
    let now = Utc::now();
    let until = time(&query, "until")?.unwrap_or(now);
    let span = match bucket {
        Bucket::Hour => TimeDelta::hours(48),
        Bucket::Day => TimeDelta::days(7),
    };
    let since = time(&query, "since")?.unwrap_or(until - span);
    let buckets = stats::buckets(since, until, bucket).ok_or_else(|| {
        ApiError::Unprocessable(format!(
            "since must be before until, and the range at most {} buckets",
            stats::MAX_BUCKETS
        ))
    })?;
    // Whole buckets, so the first and the last count all they span.
    let (since, until) = match (buckets.first(), buckets.last()) {
        (Some(first), Some(last)) => (*first, *last + bucket.width()),
        _ => (since, until),
    };
    let (rows, truncated, opened) = state.register.trend_rows(since, until, MAX_ROWS).await?;
    let (series, incidents, reply_times) =
        stats::count(&rows, &opened, &buckets, (bucket, by), now);
    Ok(Json(Trends {
        since,
        until,
        bucket,
        by,
        buckets,
        cases: rows.len() as u64,
        series,
        incidents,
        reply_times,
        truncated,
    }))
}
