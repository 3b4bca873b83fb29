//! Who may call what: the API keys of `SEULA_API_KEYS`, their roles, the one table of the role
//! each request needs, and the middleware that checks `Authorization: Bearer KEY`.
//!
//! Keys are kept only as SHA-256 digests and compared in constant time; no message, log line or
//! `Debug` output holds one.

use std::fmt;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use super::AppState;
use super::error::ApiError;

/// The fewest characters a key may have.
pub const MIN_KEY_CHARS: usize = 16;

/// What a key may do. Ordered: a higher role may do everything a lower one may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Scores comments, and reads health, readiness and metrics.
    Scorer,
    /// Also works the register: cases, authors, audit (what the moderators' page shows).
    Moderator,
    /// Also changes policies.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Scorer => "scorer",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    fn parse(s: &str) -> Option<Role> {
        [Role::Scorer, Role::Moderator, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who made a request, in its extensions: handlers read it with `Extension<Caller>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    pub name: String,
}

impl Caller {
    /// Every request in open local mode.
    pub fn local() -> Caller {
        Caller {
            role: Role::Admin,
            name: "local".into(),
        }
    }
}

struct Entry {
    digest: [u8; 32],
    role: Role,
    name: String,
}

/// The configured keys, as digests. None configured: open local mode.
#[derive(Default)]
pub struct ApiKeys {
    entries: Vec<Entry>,
}

/// Names and roles only, never a key or its digest.
impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let callers: Vec<(Role, &str)> = self
            .entries
            .iter()
            .map(|e| (e.role, e.name.as_str()))
            .collect();
        f.debug_struct("ApiKeys")
            .field("callers", &callers)
            .finish()
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl ApiKeys {
    /// No keys: open local mode, every request is [`Caller::local`].
    pub fn open() -> ApiKeys {
        ApiKeys::default()
    }

    /// Parses `role:name:key,role:name:key,…`. Whitespace around entries and their parts is
    /// trimmed; a name may be given to several keys (to rotate them), a key only once. Errors
    /// name the entry by position and never hold a key.
    pub fn parse(spec: &str) -> Result<ApiKeys, String> {
        if spec.trim().is_empty() {
            return Err(
                "SEULA_API_KEYS is empty: give role:name:key entries, or unset it for open local mode"
                    .into(),
            );
        }
        let mut entries: Vec<Entry> = Vec::new();
        for (i, entry) in spec.split(',').enumerate() {
            let fail = |what: String| format!("SEULA_API_KEYS entry {}: {what}", i + 1);
            let mut parts = entry.trim().splitn(3, ':').map(str::trim);
            let (Some(role), Some(name), Some(key)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(fail("expected role:name:key".into()));
            };
            let role = Role::parse(role).ok_or_else(|| {
                // Anything as long as a key might be one, put first by mistake.
                if role.chars().count() < MIN_KEY_CHARS {
                    fail(format!("unknown role {role:?} (scorer, moderator or admin)"))
                } else {
                    fail("unknown role, not shown since it is as long as a key (expected role:name:key)".into())
                }
            })?;
            if name.is_empty() {
                return Err(fail("empty name".into()));
            }
            if name.chars().any(char::is_control) {
                return Err(fail("a name may not hold control characters".into()));
            }
            if key.chars().count() < MIN_KEY_CHARS {
                return Err(fail(format!(
                    "a key needs at least {MIN_KEY_CHARS} characters"
                )));
            }
            if !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(fail(
                    "a key may hold only visible ASCII characters, no spaces".into(),
                ));
            }
            let digest = digest(key);
            if let Some(j) = entries.iter().position(|e| e.digest == digest) {
                return Err(fail(format!("the same key as entry {}", j + 1)));
            }
            entries.push(Entry {
                digest,
                role,
                name: name.to_string(),
            });
        }
        Ok(ApiKeys { entries })
    }

    /// No keys configured: every request is the local admin.
    pub fn is_open(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many keys have `role`.
    pub fn count(&self, role: Role) -> usize {
        self.entries.iter().filter(|e| e.role == role).count()
    }

    /// The caller a presented key belongs to. Its digest is compared with every configured
    /// digest, with no early exit, so the time taken does not depend on which key matched,
    /// nor on whether any did, nor on how much of one did.
    pub fn find(&self, presented: &str) -> Option<Caller> {
        let presented = digest(presented);
        let mut found = Choice::from(0);
        let mut at = 0u32;
        for (i, entry) in (0u32..).zip(&self.entries) {
            let same = entry.digest.ct_eq(&presented);
            at.conditional_assign(&i, same);
            found |= same;
        }
        let entry = self.entries.get(at as usize)?;
        bool::from(found).then(|| Caller {
            role: entry.role,
            name: entry.name.clone(),
        })
    }
}

/// The least role a request needs, or `None` for a public one: the whole matrix, in one place.
///
/// | method | path | role |
/// |---|---|---|
/// | `GET`, `HEAD` | the moderators' page `/` and its assets `/assets/…`, `/openapi.json` | none: public |
/// | `POST` | `/v1/score`, `/v1/score:batch` | scorer |
/// | `GET`, `HEAD` | `/healthz`, `/readyz`, `/metrics` | scorer |
/// | `GET`, `HEAD` | `/v1/policies…` | moderator |
/// | any other | `/v1/policies…`, `/v1/notifications…` | admin |
/// | any | everything else: `/v1/cases…`, `/v1/authors…`, `/v1/audit`, `GET /v1/notifications`, and paths that do not exist | moderator |
///
/// The page, its assets (no `..` in the path) and the API's description are public because they hold no data (every case reaches the page
/// through the JSON API, with the key the page asks for) and a browser cannot send a bearer key
/// when it navigates. Paths that do not exist need a moderator, so a route added later is closed
/// to scorers until it is listed here, and a scorer cannot tell a missing path from a forbidden
/// one (without a valid key every path but the public ones is 401 alike). `/v1/policies…` is a
/// plain prefix, so anything beside it (`/v1/policies:validate`) needs an admin too unless it
/// only reads.
pub fn required(method: &Method, path: &str) -> Option<Role> {
    let reads = *method == Method::GET || *method == Method::HEAD;
    let role = match path {
        "/" | "/openapi.json" if reads => return None,
        _ if reads && path.starts_with("/assets/") && !path.contains("..") => return None,
        "/v1/score" | "/v1/score:batch" if *method == Method::POST => Role::Scorer,
        "/v1alpha1/comments:analyze" | "/v1alpha1/comments:suggestscore"
            if *method == Method::POST =>
        {
            Role::Scorer
        }
        "/healthz" | "/readyz" | "/metrics" if reads => Role::Scorer,
        _ if path.starts_with("/v1/policies") && !reads => Role::Admin,
        _ if path.starts_with("/v1/notifications") && !reads => Role::Admin,
        _ if path.starts_with("/v1/authors/") && *method == Method::DELETE => Role::Admin,
        _ => Role::Moderator,
    };
    Some(role)
}

/// The key of `Authorization: Bearer KEY` (the scheme in any case), or on Perspective's paths
/// of `?key=KEY`, as Perspective's clients send it.
fn bearer(request: &Request) -> Result<String, ApiError> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        if request.uri().path().starts_with("/v1alpha1/") {
            let query =
                axum::extract::Query::<std::collections::HashMap<String, String>>::try_from_uri(
                    request.uri(),
                );
            if let Some(key) = query.ok().and_then(|q| q.0.get("key").cloned()) {
                return Ok(key);
            }
        }
        return Err(ApiError::Unauthorized(
            "an API key is required: send Authorization: Bearer KEY".into(),
        ));
    };
    let token = value.to_str().ok().and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
    });
    token
        .map(str::to_string)
        .ok_or_else(|| ApiError::Unauthorized("expected Authorization: Bearer KEY".into()))
}

/// The caller of a request that `needs` a role, with keys configured, or why it may not go on.
fn authorize(keys: &ApiKeys, request: &Request, needs: Role) -> Result<Caller, ApiError> {
    let caller = keys
        .find(&bearer(request)?)
        .ok_or_else(|| ApiError::Unauthorized("unknown API key".into()))?;
    if caller.role < needs {
        return Err(ApiError::Forbidden(format!(
            "{} (role {}) may not {} {}: it needs role {needs}",
            caller.name,
            caller.role,
            request.method(),
            request.uri().path(),
        )));
    }
    Ok(caller)
}

/// Middleware over every route and the fallback: puts the [`Caller`] into the request's
/// extensions, or answers 401 (no valid key) or 403 (a role too low). In open local mode every
/// request is [`Caller::local`]. A public request (the page, its assets, `/openapi.json`) goes on without a
/// caller and whatever key it carries is not looked at. Refusals count in
/// `seula_requests_total{endpoint="auth"}`.
pub async fn check(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let needs = required(request.method(), request.uri().path());
    let caller = match (state.keys.is_open(), needs) {
        (true, _) => same_site(&request).map(|()| Some(Caller::local())),
        (false, None) => Ok(None),
        (false, Some(needs)) => authorize(&state.keys, &request, needs).map(Some),
    };
    let mut response = match caller {
        Ok(caller) => {
            if let Some(caller) = caller {
                request.extensions_mut().insert(caller);
            }
            next.run(request).await
        }
        Err(e) => {
            // Debug, not info: anyone can send refused requests, and the log must not flood.
            tracing::debug!(
                method = %request.method(),
                path = request.uri().path(),
                reason = %e,
                "request refused"
            );
            let response = e.into_response();
            state.metrics.request("auth", response.status().as_u16());
            response
        }
    };
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// In open local mode anyone who can reach the port may act, so a web page a moderator visits
/// must not: a request that changes something must send JSON or TOML (a cross-site form or
/// `text/plain` cannot, without the browser asking the server first), name a loopback host (a
/// DNS-rebound name is refused), and come from no other origin than that host.
fn same_site(request: &Request) -> Result<(), ApiError> {
    let text = |name| {
        request
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_ascii_lowercase())
    };
    let host = text(header::HOST);
    if let Some(host) = &host {
        let name = host
            .rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(host.as_str(), |(name, _)| name);
        if !matches!(name, "localhost" | "127.0.0.1" | "[::1]") {
            return Err(ApiError::Forbidden(format!(
                "host {host}: without API keys this server answers only to a loopback host \
                 (localhost, 127.0.0.1, [::1])"
            )));
        }
    }
    if let Some(origin) = text(header::ORIGIN) {
        let own = host.map(|h| format!("http://{h}"));
        if Some(&origin) != own.as_ref() {
            return Err(ApiError::Forbidden(format!(
                "origin {origin}: without API keys only this server's own pages may call it"
            )));
        }
    }
    // A page can send a POST of a form or plain text cross-site without asking; any other
    // method (DELETE, PUT) the browser first asks about, and this server never agrees.
    if *request.method() != Method::POST {
        return Ok(());
    }
    let content_type = text(header::CONTENT_TYPE).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if matches!(essence, "application/json" | "application/toml") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "content-type {essence:?}: send application/json (or application/toml for a policy)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCORER_KEY: &str = "sc0rer-key-0123456789";
    const MODERATOR_KEY: &str = "m0derator-key-0123456789";
    const ADMIN_KEY: &str = "adm1n-key-0123456789:with:colons";

    fn keys() -> ApiKeys {
        ApiKeys::parse(&format!(
            " scorer:inbox:{SCORER_KEY} ,moderator : anna : {MODERATOR_KEY},\nadmin:ops:{ADMIN_KEY}"
        ))
        .expect("valid keys")
    }

    #[test]
    fn good_entries_parse_into_callers() {
        let keys = keys();
        assert!(!keys.is_open());
        let cases = [
            (SCORER_KEY, Some((Role::Scorer, "inbox"))),
            (MODERATOR_KEY, Some((Role::Moderator, "anna"))),
            (ADMIN_KEY, Some((Role::Admin, "ops"))),
            ("sc0rer-key-012345678", None),
            ("sc0rer-key-01234567890", None),
            ("", None),
            ("inbox", None),
        ];
        for (presented, want) in cases {
            let got = keys.find(presented);
            assert_eq!(
                got.as_ref().map(|c| (c.role, c.name.as_str())),
                want,
                "{presented:?}"
            );
        }
        assert_eq!(
            [Role::Scorer, Role::Moderator, Role::Admin].map(|r| keys.count(r)),
            [1, 1, 1]
        );
        let rotated = ApiKeys::parse(&format!("admin:ops:{ADMIN_KEY},admin:ops:{SCORER_KEY}"))
            .expect("one name, two keys");
        assert_eq!(rotated.count(Role::Admin), 2);
        assert!(ApiKeys::open().is_open());
        assert_eq!(ApiKeys::open().find(SCORER_KEY), None);
    }

    #[test]
    fn bad_entries_are_refused_by_position_without_the_key() {
        let key = "s3cret-s3cret-s3cret";
        let cases = [
            (
                format!("scorer:a:{key},mod:b:{key}x"),
                "entry 2: unknown role \"mod\" (scorer, moderator or admin)",
            ),
            (
                format!("{key}:scorer:a"),
                "entry 1: unknown role, not shown",
            ),
            (format!("Admin:a:{key}"), "entry 1: unknown role \"Admin\""),
            (
                "scorer:a:s3cret".to_string(),
                "entry 1: a key needs at least 16 characters",
            ),
            (
                format!("scorer:a:{key},scorer:b:{key}1,admin:c:short"),
                "entry 3: a key needs at least 16 characters",
            ),
            (key.to_string(), "entry 1: expected role:name:key"),
            (format!("admin:{key}"), "entry 1: expected role:name:key"),
            (
                format!("scorer:a:{key},,admin:b:{key}1"),
                "entry 2: expected role:name:key",
            ),
            (
                format!("scorer:a:{key},"),
                "entry 2: expected role:name:key",
            ),
            (format!("scorer: :{key}"), "entry 1: empty name"),
            (
                format!("scorer:a\u{1b}[2J:{key}"),
                "entry 1: a name may not hold control characters",
            ),
            (
                format!("scorer:a:{key} {key}"),
                "entry 1: a key may hold only visible ASCII",
            ),
            (
                format!("scorer:a:{key}ä"),
                "entry 1: a key may hold only visible ASCII",
            ),
            (
                format!("scorer:a:{key},admin:b:{key}"),
                "entry 2: the same key as entry 1",
            ),
            ("  ".to_string(), "SEULA_API_KEYS is empty"),
        ];
        for (spec, want) in cases {
            let error = ApiKeys::parse(&spec).expect_err(&spec);
            assert!(
                error.contains(want),
                "{spec:?}: {error:?} should contain {want:?}"
            );
            assert!(error.starts_with("SEULA_API_KEYS "), "{error}");
            assert!(!error.contains("s3cret"), "{error} shows the key");
        }
    }

    #[test]
    fn debug_shows_names_and_roles_never_keys() {
        let shown = format!("{:?} {:#?}", keys(), keys());
        for key in [SCORER_KEY, MODERATOR_KEY, ADMIN_KEY, "0123456789"] {
            assert!(!shown.contains(key), "{shown}");
        }
        for part in ["inbox", "anna", "ops", "Scorer", "Moderator", "Admin"] {
            assert!(shown.contains(part), "{shown} lacks {part}");
        }
    }

    #[test]
    fn roles_are_ordered_and_snake_case() {
        assert!(Role::Scorer < Role::Moderator && Role::Moderator < Role::Admin);
        assert_eq!(
            serde_json::to_string(&[Role::Scorer, Role::Moderator, Role::Admin]).ok(),
            Some(r#"["scorer","moderator","admin"]"#.to_string())
        );
    }

    fn request(method: &str, path: &str, authorization: Option<&str>) -> Request {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(value) = authorization {
            builder = builder.header(header::AUTHORIZATION, value);
        }
        builder.body(axum::body::Body::empty()).expect("request")
    }

    #[test]
    fn authorize_reads_the_bearer_key_and_checks_the_role() {
        let keys = keys();
        let bearer = |key: &str| format!("Bearer {key}");
        // The caller's name, or the status and part of the message.
        type Want = Result<&'static str, (u16, &'static str)>;
        let cases: Vec<(&str, &str, Option<String>, Want)> = vec![
            (
                "POST",
                "/v1/score",
                None,
                Err((401, "an API key is required")),
            ),
            (
                "POST",
                "/v1/score",
                Some(bearer("wrong-key-0123456789")),
                Err((401, "unknown API key")),
            ),
            (
                "POST",
                "/v1/score",
                Some(format!("Basic {SCORER_KEY}")),
                Err((401, "expected Authorization: Bearer KEY")),
            ),
            (
                "POST",
                "/v1/score",
                Some("Bearer".into()),
                Err((401, "expected Authorization: Bearer KEY")),
            ),
            (
                "POST",
                "/v1/score",
                Some("Bearer   ".into()),
                Err((401, "expected Authorization: Bearer KEY")),
            ),
            (
                "POST",
                "/v1/score",
                Some(SCORER_KEY.into()),
                Err((401, "expected Authorization: Bearer KEY")),
            ),
            ("POST", "/v1/score", Some(bearer(SCORER_KEY)), Ok("inbox")),
            (
                "POST",
                "/v1/score",
                Some(format!("bearer {SCORER_KEY}")),
                Ok("inbox"),
            ),
            (
                "POST",
                "/v1/score",
                Some(format!(" BEARER   {SCORER_KEY} ")),
                Ok("inbox"),
            ),
            ("GET", "/metrics", Some(bearer(SCORER_KEY)), Ok("inbox")),
            (
                "GET",
                "/v1/cases",
                Some(bearer(SCORER_KEY)),
                Err((
                    403,
                    "inbox (role scorer) may not GET /v1/cases: it needs role moderator",
                )),
            ),
            ("GET", "/v1/cases", Some(bearer(MODERATOR_KEY)), Ok("anna")),
            (
                "POST",
                "/v1/policies/default/versions",
                Some(bearer(MODERATOR_KEY)),
                Err((403, "it needs role admin")),
            ),
            (
                "POST",
                "/v1/policies/default/versions",
                Some(bearer(ADMIN_KEY)),
                Ok("ops"),
            ),
            ("POST", "/v1/score", Some(bearer(ADMIN_KEY)), Ok("ops")),
        ];
        for (method, path, authorization, want) in cases {
            let request = request(method, path, authorization.as_deref());
            let needs = required(request.method(), path).expect("not a public path");
            let got = authorize(&keys, &request, needs);
            let got = got
                .as_ref()
                .map(|c| c.name.as_str())
                .map_err(|e| (e.status().as_u16(), e.to_string()));
            match (&got, want) {
                (Ok(name), Ok(want)) => {
                    assert_eq!(*name, want, "{method} {path} {authorization:?}")
                }
                (Err((status, message)), Err((want_status, want_message))) => {
                    assert_eq!(
                        *status, want_status,
                        "{method} {path} {authorization:?}: {message}"
                    );
                    assert!(
                        message.contains(want_message),
                        "{message:?} should contain {want_message:?}"
                    );
                    for key in [SCORER_KEY, MODERATOR_KEY, ADMIN_KEY, "wrong-key"] {
                        assert!(!message.contains(key), "{message} shows a key");
                    }
                }
                _ => panic!("{method} {path} {authorization:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn required_role_of_each_request() {
        use Role::*;
        let cases = [
            ("GET", "/", None),
            ("HEAD", "/", None),
            ("GET", "/assets/page.js", None),
            ("HEAD", "/assets/page.css", None),
            ("GET", "/assets/nothing", None),
            ("GET", "/assets/../v1/cases", Some(Moderator)),
            ("POST", "/", Some(Moderator)),
            ("DELETE", "/assets/page.js", Some(Moderator)),
            ("GET", "/assets", Some(Moderator)),
            ("GET", "/assetsx/page.js", Some(Moderator)),
            ("GET", "/index.html", Some(Moderator)),
            ("GET", "/static/app.js", Some(Moderator)),
            ("POST", "/v1/score", Some(Scorer)),
            ("POST", "/v1/score:batch", Some(Scorer)),
            ("GET", "/healthz", Some(Scorer)),
            ("HEAD", "/healthz", Some(Scorer)),
            ("GET", "/readyz", Some(Scorer)),
            ("GET", "/metrics", Some(Scorer)),
            ("GET", "/v1/score", Some(Moderator)),
            ("POST", "/v1/score/", Some(Moderator)),
            ("POST", "/metrics", Some(Moderator)),
            ("GET", "/v1/cases", Some(Moderator)),
            ("GET", "/v1/cases/12", Some(Moderator)),
            ("POST", "/v1/cases/12/decisions", Some(Moderator)),
            ("GET", "/v1/authors/fb:user:1", Some(Moderator)),
            ("DELETE", "/v1/authors/fb:user:1", Some(Admin)),
            ("POST", "/v1alpha1/comments:analyze", Some(Scorer)),
            ("POST", "/v1alpha1/comments:suggestscore", Some(Scorer)),
            ("GET", "/v1/audit", Some(Moderator)),
            ("GET", "/v1/policies", Some(Moderator)),
            ("GET", "/v1/notifications", Some(Moderator)),
            ("POST", "/v1/notifications/7/retry", Some(Admin)),
            ("GET", "/v1/policies/default/versions", Some(Moderator)),
            ("POST", "/v1/policies", Some(Admin)),
            ("POST", "/v1/policies/default/versions", Some(Admin)),
            ("PUT", "/v1/policies/default", Some(Admin)),
            ("DELETE", "/v1/policies/default", Some(Admin)),
            ("POST", "/v1/policies:validate", Some(Admin)),
            ("GET", "/v1/nothing", Some(Moderator)),
            ("POST", "/nothing", Some(Moderator)),
        ];
        for (method, path, want) in cases {
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            assert_eq!(required(&method, path), want, "{method} {path}");
        }
    }
}
