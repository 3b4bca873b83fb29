//! Policies over HTTP: the policies and their versions, the policy in force, a new version
//! (TOML or JSON, validated), and activation, which swaps the pipeline's policies at once.
//! Changes are made one at a time (`AppState::policy_changes`), so two activations cannot
//! interleave their read of the sources in force with their swap.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Caller, Role};
use super::error::{ApiError, ErrorResponse, Refusals};
use super::{AppState, body, query, wire};
use crate::domain::{Action, Route};
use crate::pipeline::ActivePolicies;
use crate::policy::replay::{self, Report, ScoreThresholds};
use crate::policy::{Policies, Policy, Source, Sources, valid_name};
use crate::register::PolicyVersion;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(active))
        .routes(routes!(add_version))
        .routes(routes!(replace_words))
        .routes(routes!(activate))
        .routes(routes!(replay_candidate))
        .routes(routes!(score_thresholds))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct PolicyList {
    /// Every policy in force: `default` and each channel's.
    active: Vec<ActiveRef>,
    /// Every stored version of every policy.
    versions: Vec<PolicyVersion>,
    /// Every team a policy in force routes to, each once: the default's in its order, then
    /// those only channels list.
    teams: Vec<Route>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ActiveRef {
    name: String,
    version: u32,
}

/// Every policy in force and every stored version. Role: moderator.
#[utoipa::path(get, path = "/v1/policies", tag = "policies",
    responses((status = 200, body = PolicyList), Refusals))]
async fn list(State(state): State<AppState>) -> Result<Json<PolicyList>, ApiError> {
    let in_force = state.pipeline.policies();
    let active = in_force
        .sources
        .iter()
        .map(|(name, source)| ActiveRef {
            name: name.to_string(),
            version: source.version,
        })
        .collect();
    Ok(Json(PolicyList {
        active,
        versions: state.register.policy_versions().await?,
        teams: in_force.policies.teams(),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ActivePolicy {
    name: String,
    version: u32,
    /// The policy as resolved: a channel's with the default's values it inherits, in the
    /// fields of the policy file.
    #[schema(value_type = Object)]
    policy: Policy,
    /// The text of the version in force (for a channel, its overrides only).
    source: String,
}

/// The policy in force under that name, resolved and as written. A webhook's address shows
/// whole to an admin only: to a moderator, its origin (a chat webhook's path is its key).
/// Role: moderator.
#[utoipa::path(get, path = "/v1/policies/{name}", tag = "policies",
    params(("name" = String, Path, description = "`default` or a channel")),
    responses((status = 200, body = ActivePolicy), Refusals,
        (status = 404, description = "No policy of that name is in force", body = ErrorResponse)))]
async fn active(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<ActivePolicy>, ApiError> {
    let active = state.pipeline.policies();
    let (Some(policy), Some((_, source))) = (
        active.policies.named(&name),
        active.sources.iter().find(|(n, _)| *n == name),
    ) else {
        return Err(ApiError::NotFound(format!("policy {name:?}")));
    };
    let mut shown = ActivePolicy {
        name,
        version: source.version,
        policy: policy.clone(),
        source: source.toml.clone(),
    };
    if caller.role < Role::Admin {
        for w in &mut shown.policy.webhooks {
            w.url = hidden(&w.url);
        }
        shown.source = without_webhook_paths(&shown.source);
    }
    Ok(Json(shown))
}

/// An address cut to its origin, the rest marked as hidden.
fn hidden(url: &str) -> String {
    let origin = url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    format!("{origin}/…")
}

/// The policy text with each webhook's `url` cut to its origin, the rest kept as written.
fn without_webhook_paths(source: &str) -> String {
    let Ok(mut doc) = source.parse::<toml_edit::DocumentMut>() else {
        return String::new();
    };
    let cut = |url: &mut toml_edit::Item| {
        if let Some(text) = url.as_str() {
            *url = toml_edit::value(hidden(text));
        }
    };
    match doc.get_mut("webhooks") {
        Some(toml_edit::Item::ArrayOfTables(targets)) => {
            for target in targets.iter_mut() {
                if let Some(url) = target.get_mut("url") {
                    cut(url);
                }
            }
        }
        Some(toml_edit::Item::Value(toml_edit::Value::Array(targets))) => {
            for target in targets.iter_mut() {
                if let Some(url) = target.as_inline_table_mut().and_then(|t| t.get_mut("url")) {
                    *url = toml_edit::Value::from(hidden(url.as_str().unwrap_or_default()));
                }
            }
        }
        _ => {}
    }
    doc.to_string()
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct VersionQuery {
    /// Why the version was made, for the audit log.
    note: Option<String>,
}

/// The body as TOML text: `application/toml` as sent, JSON turned into TOML.
fn toml_text(headers: &HeaderMap, bytes: &[u8]) -> Result<String, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/toml") {
        return String::from_utf8(bytes.to_vec())
            .map_err(|_| ApiError::InvalidRequest("the body is not UTF-8".into()));
    }
    let table: toml::Table = wire::shaped(wire::parse_json(bytes)?)?;
    toml::to_string(&table).map_err(|e| ApiError::InvalidRequest(e.to_string()))
}

/// `POST /v1/policies/{name}/versions`: checks the candidate against the policies in force
/// (a channel's overrides merged onto the default) and stores it as the next version, not yet
/// in force. 422 lists every bad field with its path. Role: admin.
#[utoipa::path(post, path = "/v1/policies/{name}/versions", tag = "policies",
    params(("name" = String, Path, description = "`default` or a channel"), VersionQuery),
    request_body(description = "The policy: `application/toml` as `seula policy show` prints it, or the same as a JSON object",
        content((String = "application/toml"), (Object = "application/json"))),
    responses((status = 201, body = PolicyVersion), Refusals))]
async fn add_version(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    version_query: Result<Query<VersionQuery>, QueryRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<PolicyVersion>), ApiError> {
    let version_query = query(version_query)?;
    let toml = toml_text(&headers, &body(bytes)?)?;
    let _one_at_a_time = state.policy_changes.lock().await;
    store_version(&state, &caller, &name, toml, version_query.note).await
}

/// Checks `toml` as the next version of policy `name` against the policies in force and stores
/// it, not yet in force. The caller holds `policy_changes`.
async fn store_version(
    state: &AppState,
    caller: &Caller,
    name: &str,
    toml: String,
    note: Option<String>,
) -> Result<(StatusCode, Json<PolicyVersion>), ApiError> {
    if !valid_name(name) {
        return Err(ApiError::Unprocessable(format!(
            "{name:?}: a policy is `default` or a channel name of 1–64 lowercase letters, digits, - and _"
        )));
    }
    let candidate = Source {
        version: 0,
        toml: toml.clone(),
    };
    resolved(
        state,
        state.pipeline.policies().sources.with(name, candidate),
    )?;
    let version = state
        .register
        .add_policy_version(name, &toml, &caller.name, note.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(version)))
}

/// The policies of `sources`, refused unless every problem is mended: their own, and a
/// webhook whose secret the server was not given.
fn resolved(state: &AppState, sources: Sources) -> Result<ActivePolicies, ApiError> {
    let active = ActivePolicies::resolve(sources).map_err(ApiError::Unprocessable)?;
    let unknown = crate::unknown_secrets(&active.policies, state.outbox.secrets());
    if !unknown.is_empty() {
        return Err(ApiError::Unprocessable(unknown.join("; ")));
    }
    Ok(active)
}

/// A policy's own word lists, whole: what `PUT /v1/policies/{name}/words` puts in place of
/// the lists the policy has (for a channel, in place of those it inherits).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct WordLists {
    #[serde(default)]
    banned: Vec<String>,
    #[serde(default)]
    suspect: Vec<String>,
    #[serde(default)]
    allowed: Vec<String>,
    /// `hide` or `delete`; left out, the policy's own choice stays (for a channel without one,
    /// the default's).
    #[serde(default)]
    banned_action: Option<Action>,
}

/// `PUT /v1/policies/{name}/words`: the policy in force with its `[words]` replaced, stored as
/// its next version (not yet in force), the rest of its text and comments as they were. A
/// channel without a policy of its own gets one that overrides only its words. Role: admin.
#[utoipa::path(put, path = "/v1/policies/{name}/words", tag = "policies",
    params(("name" = String, Path, description = "`default` or a channel"), VersionQuery),
    request_body = WordLists,
    responses((status = 201, body = PolicyVersion), Refusals))]
async fn replace_words(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    version_query: Result<Query<VersionQuery>, QueryRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<PolicyVersion>), ApiError> {
    let version_query = query(version_query)?;
    let lists: WordLists = wire::shaped(wire::parse_json(&body(bytes)?)?)?;
    // Read and stored under one lock, so a change in between cannot be lost.
    let _one_at_a_time = state.policy_changes.lock().await;
    let source = state
        .pipeline
        .policies()
        .sources
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, source)| source.toml.clone())
        .unwrap_or_default();
    let mut document: toml_edit::DocumentMut = source
        .parse()
        .map_err(|e| ApiError::Internal(format!("policy {name:?} in force: {e}")))?;
    let array =
        |words: Vec<String>| toml_edit::value(words.into_iter().collect::<toml_edit::Array>());
    let mut words = toml_edit::Table::new();
    words["banned"] = array(lists.banned);
    words["suspect"] = array(lists.suspect);
    words["allowed"] = array(lists.allowed);
    let kept = document.get("words").and_then(|w| w.get("banned_action"));
    match (lists.banned_action, kept) {
        (Some(action), _) => words["banned_action"] = toml_edit::value(action.as_str()),
        (None, Some(kept)) => words["banned_action"] = kept.clone(),
        (None, None) => {}
    }
    document["words"] = toml_edit::Item::Table(words);
    store_version(
        &state,
        &caller,
        &name,
        document.to_string(),
        version_query.note,
    )
    .await
}

/// A time range of recorded cases: `since` (inclusive) and `until`, RFC 3339.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Range {
    since: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Replayed {
    policy: String,
    report: Report,
}

/// `POST /v1/policies/{name}/replay?since=…&until=…`: the candidate (TOML or JSON, as for a new
/// version) re-decides the recorded cases that policy decides, from their stored scores and
/// signals; nothing is stored or changed. Role: admin.
#[utoipa::path(post, path = "/v1/policies/{name}/replay", tag = "policies",
    params(("name" = String, Path, description = "`default` or a channel"), Range),
    request_body(description = "The candidate policy, as for a new version",
        content((String = "application/toml"), (Object = "application/json"))),
    responses((status = 200, body = Replayed), Refusals,
        (status = 404, description = "No policy of that name", body = ErrorResponse)))]
async fn replay_candidate(
    State(state): State<AppState>,
    Path(name): Path<String>,
    range: Result<Query<Range>, QueryRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Replayed>, ApiError> {
    let range = query(range)?;
    let toml = toml_text(&headers, &body(bytes)?)?;
    let sources = state
        .pipeline
        .policies()
        .sources
        .with(&name, Source { version: 0, toml });
    let policies = Policies::resolve(&sources).map_err(ApiError::Unprocessable)?;
    let candidate = policies
        .named(&name)
        .ok_or_else(|| ApiError::NotFound(format!("policy {name:?}")))?;
    let cases = state.register.recorded(range.since, range.until).await?;
    let report = replay::replay(candidate, replay::decided_by(&name, &sources, &cases));
    Ok(Json(Replayed {
        policy: name,
        report,
    }))
}

/// `GET /v1/thresholds?since=…&until=…`: for each score, the share of recorded cases at or above
/// each threshold and how that threshold alone agrees with moderators' removals. Role:
/// moderator.
#[utoipa::path(get, path = "/v1/thresholds", tag = "policies", params(Range),
    responses((status = 200, body = Vec<ScoreThresholds>), Refusals))]
async fn score_thresholds(
    State(state): State<AppState>,
    range: Result<Query<Range>, QueryRejection>,
) -> Result<Json<Vec<ScoreThresholds>>, ApiError> {
    let range = query(range)?;
    let cases = state.register.recorded(range.since, range.until).await?;
    Ok(Json(replay::thresholds(&cases)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Activated {
    name: String,
    version: u32,
    activated_by: String,
}

/// `POST /v1/policies/{name}/versions/{version}/activate`: puts a stored version in force, or
/// an older one back (rollback). Comments being scored finish under the policies they started
/// with; every response names the version that decided it. Role: admin.
#[utoipa::path(post, path = "/v1/policies/{name}/versions/{version}/activate", tag = "policies",
    params(("name" = String, Path, description = "`default` or a channel"),
        ("version" = u32, Path, description = "The version number")),
    responses((status = 200, body = Activated), Refusals,
        (status = 404, description = "No such version", body = ErrorResponse)))]
async fn activate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<Activated>, ApiError> {
    let not_found = || ApiError::NotFound(format!("policy {name:?} version {version}"));
    let number: u32 = version.parse().map_err(|_| not_found())?;
    let _one_at_a_time = state.policy_changes.lock().await;
    let toml = state
        .register
        .policy_source(&name, i64::from(number))
        .await?
        .ok_or_else(not_found)?;
    let sources = state.pipeline.policies().sources.with(
        &name,
        Source {
            version: number,
            toml,
        },
    );
    let active = resolved(&state, sources)?;
    state
        .register
        .activate_policy(&name, i64::from(number), &caller.name)
        .await?;
    state.pipeline.activate(active);
    tracing::info!(policy = %name, version = number, by = %caller.name, "policy activated");
    Ok(Json(Activated {
        name,
        version: number,
        activated_by: caller.name,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moderator_sees_a_webhooks_origin_and_the_rest_as_written() {
        let source = "# ours\n[[webhooks]]\nname = \"chat\" # the team's\n\
                      url = \"https://hooks.slack.com/services/T0/B0/KEY\"\n\
                      events = [\"urgent_case\"]\n";
        let shown = without_webhook_paths(source);
        assert!(!shown.contains("KEY"), "{shown}");
        assert!(
            shown.contains("url = \"https://hooks.slack.com/…\""),
            "{shown}"
        );
        assert!(
            shown.contains("# ours") && shown.contains("# the team's"),
            "{shown}"
        );
        let inline = "webhooks = [{ name = \"a\", url = \"http://x.example:8080/p?token=KEY\" }]\n";
        let shown = without_webhook_paths(inline);
        assert!(
            !shown.contains("KEY") && shown.contains("http://x.example:8080/…"),
            "{shown}"
        );
        assert_eq!(hidden("not a url"), "/…");
    }
}
