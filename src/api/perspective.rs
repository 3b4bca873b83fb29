//! Perspective API's `comments:analyze` and `comments:suggestscore` (`/v1alpha1`), so that a
//! client of Perspective (Coral Talk, Discourse's plugin, bots) switches by changing its URL.
//! Requests and answers keep Perspective's shapes and its error shape; the scores are Seula's,
//! in Finnish and English, whatever language the client says.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::openapi::{self, RefOr};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Caller;
use super::error::{ApiError, described};
use super::{AppState, respond};
use crate::domain::{Comment, Reason};
use crate::pipeline::{Outcome, RunError};
use crate::register::{NewDecision, Verdict};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(analyze))
        .routes(routes!(suggest_score))
}

/// Perspective's attribute names and the Seula score each reads. `ATTACK_ON_AUTHOR` and
/// `ATTACK_ON_COMMENTER` read `insult`, which is trained on insults aimed at a person or group;
/// `INFLAMMATORY` reads `troll`.
const ATTRIBUTES: [(&str, &str); 29] = [
    ("TOXICITY", "toxicity"),
    ("TOXICITY_EXPERIMENTAL", "toxicity"),
    ("TOXICITY_FAST", "toxicity"),
    ("SEVERE_TOXICITY", "severe_toxicity"),
    ("SEVERE_TOXICITY_EXPERIMENTAL", "severe_toxicity"),
    ("IDENTITY_ATTACK", "identity_attack"),
    ("IDENTITY_ATTACK_EXPERIMENTAL", "identity_attack"),
    ("INSULT", "insult"),
    ("INSULT_EXPERIMENTAL", "insult"),
    ("PROFANITY", "profanity"),
    ("PROFANITY_EXPERIMENTAL", "profanity"),
    ("OBSCENE", "profanity"),
    ("THREAT", "threat"),
    ("THREAT_EXPERIMENTAL", "threat"),
    ("SPAM", "spam"),
    ("ATTACK_ON_AUTHOR", "insult"),
    ("ATTACK_ON_COMMENTER", "insult"),
    ("INFLAMMATORY", "troll"),
    ("SEULA_TOXICITY", "toxicity"),
    ("SEULA_SEVERE_TOXICITY", "severe_toxicity"),
    ("SEULA_INSULT", "insult"),
    ("SEULA_THREAT", "threat"),
    ("SEULA_IDENTITY_ATTACK", "identity_attack"),
    ("SEULA_PROFANITY", "profanity"),
    ("SEULA_SPAM", "spam"),
    ("SEULA_URGENCY", "urgency"),
    ("SEULA_TROLL", "troll"),
    ("SEULA_FAKE_ACCOUNT", "fake_account"),
    ("SEULA_SENTIMENT_NEGATIVE", "sentiment_negative"),
];

/// What a request without attributes gets: Perspective's six production attributes.
const DEFAULT_ATTRIBUTES: [&str; 6] = [
    "TOXICITY",
    "SEVERE_TOXICITY",
    "IDENTITY_ATTACK",
    "INSULT",
    "PROFANITY",
    "THREAT",
];

/// The Seula score an attribute reads, or `None` for an attribute this server does not know.
pub fn score_of(attribute: &str) -> Option<&'static str> {
    ATTRIBUTES
        .iter()
        .find(|(name, _)| *name == attribute)
        .map(|(_, score)| *score)
}

/// Every attribute name this server answers, for the README and errors.
pub fn attribute_names() -> impl Iterator<Item = &'static str> {
    ATTRIBUTES.iter().map(|(name, _)| *name)
}

fn value_of(outcome: &Outcome, score: &str) -> f32 {
    outcome.assessment.scores.get(score).unwrap_or_else(|| {
        // `sentiment_negative`: sentiment runs from -1 (negative) to 1, as a score of negativity.
        ((1.0 - outcome.assessment.sentiment.score) / 2.0).clamp(0.0, 1.0)
    })
}

/// Whether a reason's span is evidence for a score: the span scores of an attribute.
fn evidence_for(score: &str, reason: &Reason) -> bool {
    let code = reason.code.as_str();
    match score {
        "toxicity" | "severe_toxicity" => {
            code.starts_with("toxicity.") || code.starts_with("profanity.")
        }
        "profanity" => code.starts_with("profanity."),
        "insult" => code == "toxicity.insult" || code == "toxicity.staff_target",
        "threat" => code == "toxicity.threat",
        "identity_attack" => code == "toxicity.identity_attack",
        "urgency" => code.starts_with("urgency."),
        _ => false,
    }
}

/// Perspective's error shape: `{"error": {"code": 400, "message", "status"}}`.
struct PerspectiveError {
    status: StatusCode,
    message: String,
}

impl PerspectiveError {
    fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl From<ApiError> for PerspectiveError {
    fn from(e: ApiError) -> Self {
        if let ApiError::Internal(detail) | ApiError::Panicked(detail) = &e {
            tracing::error!(%detail, "request failed");
        }
        let status = match e.status() {
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            other => other,
        };
        Self {
            status,
            message: e.to_string(),
        }
    }
}

impl From<RunError> for PerspectiveError {
    fn from(e: RunError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for PerspectiveError {
    fn into_response(self) -> Response {
        let status = match self.status {
            StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE => "INVALID_ARGUMENT",
            StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
            StatusCode::FORBIDDEN => "PERMISSION_DENIED",
            StatusCode::NOT_FOUND => "NOT_FOUND",
            StatusCode::CONFLICT => "ABORTED",
            StatusCode::TOO_MANY_REQUESTS => "RESOURCE_EXHAUSTED",
            _ => "INTERNAL",
        };
        let body = PerspectiveErrorResponse {
            error: PerspectiveErrorBody {
                code: self.status.as_u16(),
                message: self.message,
                status,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// Perspective's error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PerspectiveErrorResponse {
    error: PerspectiveErrorBody,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct PerspectiveErrorBody {
    /// The HTTP status.
    code: u16,
    message: String,
    /// `INVALID_ARGUMENT`, `UNAUTHENTICATED`, `PERMISSION_DENIED`, `NOT_FOUND`, `ABORTED`,
    /// `RESOURCE_EXHAUSTED` or `INTERNAL`.
    status: &'static str,
}

/// Perspective's refusals for the OpenAPI document: the request's own in Perspective's error
/// shape, those of the server's gate (keys, limits) in Seula's.
struct PerspectiveRefusals;

impl utoipa::IntoResponses for PerspectiveRefusals {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        let mut responses = described(
            "PerspectiveErrorResponse",
            &[
                (
                    400,
                    "An unknown attribute, a missing field, malformed JSON, or a comment that breaks a rule.",
                ),
                (
                    409,
                    "suggestscore: the comment's case is claimed by a moderator.",
                ),
            ],
        );
        responses.extend(described(
            "ErrorResponse",
            &[
                (401, "No API key, or one that is not configured."),
                (403, "The key's role may not make this request."),
                (408, "The body did not arrive in time."),
                (413, "The body is larger than 1 MiB."),
                (415, "A body that is not JSON."),
                (429, "Rate limit reached, or too many requests in flight."),
            ],
        ));
        responses
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct TextEntry {
    text: String,
    /// `PLAIN_TEXT` (the default) or `HTML`.
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
struct Context {
    #[serde(default)]
    entries: Vec<TextEntry>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct AttributeParameters {
    score_type: Option<String>,
    score_threshold: Option<f32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct AnalyzeRequest {
    comment: TextEntry,
    #[serde(default)]
    context: Option<Context>,
    /// The attributes to score, each with its parameters (`{}` or null for none).
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, AttributeParameters>)]
    requested_attributes: BTreeMap<String, Option<AttributeParameters>>,
    /// The client's hint; Seula detects the language itself (Coral sends `en` for Finnish).
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    do_not_store: bool,
    #[serde(default)]
    span_annotations: bool,
    client_token: Option<String>,
    community_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ScoreValue {
    value: f32,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct SpanScore {
    begin: usize,
    end: usize,
    score: ScoreValue,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct AttributeScores {
    #[serde(skip_serializing_if = "Option::is_none")]
    span_scores: Option<Vec<SpanScore>>,
    summary_score: ScoreValue,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct AnalyzeResponse {
    attribute_scores: BTreeMap<String, AttributeScores>,
    languages: Vec<String>,
    detected_languages: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_token: Option<String>,
}

fn parse<T: serde::de::DeserializeOwned>(
    bytes: Result<Bytes, BytesRejection>,
) -> Result<T, PerspectiveError> {
    let bytes = super::body(bytes)?;
    let value = super::wire::parse_json(&bytes)?;
    serde_path_to_error::deserialize(value)
        .map_err(|e| PerspectiveError::invalid(format!("{}: {}", e.path(), e.inner())))
}

/// The text as scored: for `HTML`, every tag and entity becomes spaces of its own length (an
/// entity its character, then spaces), so spans still count characters of what was sent.
fn plain_text(entry: &TextEntry) -> Result<String, PerspectiveError> {
    match entry.kind.as_deref() {
        None | Some("PLAIN_TEXT") => Ok(entry.text.clone()),
        Some("HTML") => Ok(strip_html(&entry.text)),
        Some(other) => Err(PerspectiveError::invalid(format!(
            "comment.type: {other:?} is not PLAIN_TEXT or HTML"
        ))),
    }
}

fn strip_html(html: &str) -> String {
    const ENTITIES: [(&str, char); 6] = [
        ("&amp;", '&'),
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&quot;", '"'),
        ("&#39;", '\''),
        ("&nbsp;", ' '),
    ];
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        let blank = |s: &str| " ".repeat(s.chars().count());
        if c == '<'
            && let Some(end) = rest.find('>')
        {
            out.push_str(&blank(&rest[..=end]));
            rest = &rest[end + 1..];
        } else if let Some((entity, ch)) = ENTITIES.iter().find(|(e, _)| rest.starts_with(e)) {
            out.push(*ch);
            out.push_str(&" ".repeat(entity.len() - 1));
            rest = &rest[entity.len()..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// A comment id for a comment without `clientToken`: unique within this process's life.
fn generated_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!("perspective:{now:x}-{n}")
}

fn comment_of(
    id: String,
    text: String,
    context: Option<&Context>,
    community: Option<String>,
) -> Result<Comment, PerspectiveError> {
    let parent = context
        .and_then(|c| c.entries.first())
        .map(plain_text)
        .transpose()?;
    let mut value = json!({"id": id, "text": text, "channel": community});
    if let Some(parent) = parent {
        value["thread"] = json!({"parent_text": parent});
    }
    Ok(super::wire::comment_from_value(value)?)
}

/// Perspective API's `comments:analyze`: the requested attributes' scores (Perspective's six
/// when none are requested), span scores on request, in Perspective's shapes. The language is
/// detected whatever `languages` says; `communityId` selects the channel's policy;
/// `doNotStore` records and remembers nothing. Role: scorer (`?key=KEY` is accepted too).
#[utoipa::path(post, path = "/v1alpha1/comments:analyze", tag = "perspective",
    request_body = AnalyzeRequest,
    responses((status = 200, body = AnalyzeResponse), PerspectiveRefusals))]
async fn analyze(State(state): State<AppState>, bytes: Result<Bytes, BytesRejection>) -> Response {
    let result = async {
        let request: AnalyzeRequest = parse(bytes)?;
        let mut wanted = Vec::new();
        for (name, parameters) in &request.requested_attributes {
            let score = score_of(name).ok_or_else(|| {
                PerspectiveError::invalid(format!(
                    "Attribute {name} does not exist. Seula answers: {}",
                    attribute_names().collect::<Vec<_>>().join(", ")
                ))
            })?;
            let parameters = parameters.as_ref();
            if let Some(kind) = parameters.and_then(|p| p.score_type.as_deref())
                && kind != "PROBABILITY"
            {
                return Err(PerspectiveError::invalid(format!(
                    "requestedAttributes.{name}.scoreType: only PROBABILITY is supported"
                )));
            }
            let threshold = parameters.and_then(|p| p.score_threshold);
            wanted.push((name.clone(), score, threshold));
        }
        if wanted.is_empty() {
            wanted = DEFAULT_ATTRIBUTES
                .iter()
                .filter_map(|name| Some((name.to_string(), score_of(name)?, None)))
                .collect();
        }
        let text = plain_text(&request.comment)?;
        let id = request.client_token.clone().unwrap_or_else(generated_id);
        let comment = comment_of(id, text, request.context.as_ref(), request.community_id)?;
        let outcome = if request.do_not_store {
            state.pipeline.run_unstored(&comment).await
        } else {
            state.pipeline.run(&comment, Some(&state.register)).await
        };
        let outcome = outcome.inspect_err(|e| {
            if let RunError::Panicked(_) = e {
                state.metrics.panicked();
            }
        })?;
        state.scored(&outcome);
        let length = comment.text.chars().count();
        let mut attribute_scores = BTreeMap::new();
        for (name, score, threshold) in wanted {
            let value = (value_of(&outcome, score) * 1000.0).round() / 1000.0;
            if threshold.is_some_and(|t| value < t) {
                continue;
            }
            let probability = |value| ScoreValue {
                value,
                kind: "PROBABILITY",
            };
            let span_scores = request.span_annotations.then(|| {
                let mut spans: Vec<SpanScore> = outcome
                    .decision
                    .reasons
                    .iter()
                    .filter(|r| evidence_for(score, r))
                    .filter_map(|r| r.span)
                    .map(|span| SpanScore {
                        begin: span.start,
                        end: span.end,
                        score: probability(value),
                    })
                    .collect();
                if spans.is_empty() {
                    spans.push(SpanScore {
                        begin: 0,
                        end: length,
                        score: probability(value),
                    });
                }
                spans
            });
            attribute_scores.insert(
                name,
                AttributeScores {
                    span_scores,
                    summary_score: probability(value),
                },
            );
        }
        let detected = outcome.signals.language.as_str().to_string();
        let languages = match request.languages.is_empty() {
            true => vec![detected.clone()],
            false => request.languages,
        };
        Ok(AnalyzeResponse {
            attribute_scores,
            languages,
            detected_languages: vec![detected],
            client_token: request.client_token,
        })
    }
    .await;
    respond(&state, "perspective_analyze", result)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct SummaryScore {
    value: f32,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SuggestedScores {
    summary_score: SummaryScore,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SuggestRequest {
    comment: TextEntry,
    #[serde(default)]
    context: Option<Context>,
    attribute_scores: BTreeMap<String, SuggestedScores>,
    client_token: Option<String>,
    community_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Suggested {
    client_token: String,
}

/// A client's correction (Coral: 1 for a comment its moderators rejected, 0 for one they
/// approved) becomes a moderator's decision on the comment's case, in the key's name: `hide`
/// when any suggested score is 0.5 or more, `allow` otherwise, with each attribute's score as a
/// training label. A comment not yet in the register is recorded first.
#[utoipa::path(post, path = "/v1alpha1/comments:suggestscore", tag = "perspective",
    request_body = SuggestRequest,
    responses((status = 200, body = Suggested), PerspectiveRefusals))]
async fn suggest_score(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let request: SuggestRequest = parse(bytes)?;
        let token = request.client_token.clone().ok_or_else(|| {
            PerspectiveError::invalid(
                "clientToken: required, the token the comment was analysed with",
            )
        })?;
        if request.attribute_scores.is_empty() {
            return Err(PerspectiveError::invalid(
                "attributeScores: at least one attribute",
            ));
        }
        let mut labels = serde_json::Map::new();
        let mut offending = false;
        for (name, scores) in &request.attribute_scores {
            let score = score_of(name).ok_or_else(|| {
                PerspectiveError::invalid(format!("Attribute {name} does not exist."))
            })?;
            let value = scores.summary_score.value;
            if !(0.0..=1.0).contains(&value) {
                return Err(PerspectiveError::invalid(format!(
                    "attributeScores.{name}.summaryScore.value: {value} is not in [0, 1]"
                )));
            }
            offending |= value >= 0.5;
            if score != "sentiment_negative" {
                labels.insert(score.to_string(), Value::Bool(value >= 0.5));
            }
        }
        let text = plain_text(&request.comment)?;
        let comment = comment_of(
            token.clone(),
            text,
            request.context.as_ref(),
            request.community_id,
        )?;
        // The case of this comment: the one recorded when it was analysed, or a new one.
        let outcome = state.pipeline.run_unstored(&comment).await?;
        let case = state
            .register
            .record(&outcome.case(&comment))
            .await
            .map_err(ApiError::from)?;
        let decision = NewDecision {
            decision: if offending {
                Verdict::Hide
            } else {
                Verdict::Allow
            },
            note: Some("suggested score from a Perspective client".into()),
            route: None,
            labels,
        };
        state
            .register
            .decide(
                case,
                &decision,
                &caller.name,
                &state.pipeline.policies().policies,
            )
            .await
            .map_err(ApiError::from)?;
        Ok(Suggested {
            client_token: token,
        })
    }
    .await;
    respond(&state, "perspective_suggest", result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_scored_as_text_with_every_character_where_it_was() {
        let html = "<p>vitun &amp; idiootti</p>";
        let text = strip_html(html);
        assert_eq!(text.chars().count(), html.chars().count());
        assert_eq!(text.trim(), "vitun &     idiootti");
        assert_eq!(&text[3..8], "vitun");
        // A lone `<` is text, not a tag.
        assert_eq!(strip_html("1 < 2"), "1 < 2");
    }

    #[test]
    fn every_attribute_reads_a_score_and_unknown_ones_none() {
        assert_eq!(score_of("TOXICITY"), Some("toxicity"));
        assert_eq!(score_of("OBSCENE"), Some("profanity"));
        assert_eq!(score_of("SEULA_URGENCY"), Some("urgency"));
        assert_eq!(score_of("TOXICTY"), None);
        assert!(DEFAULT_ATTRIBUTES.iter().all(|a| score_of(a).is_some()));
    }
}
