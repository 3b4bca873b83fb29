//! What one client and one request may take: a rate per client address and per API key, a
//! bounded number of requests with a body at once (refused before the body is read), and a
//! bounded time and size for the body. Every refusal is an [`ApiError`] with `Retry-After`
//! where waiting helps.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::auth::Caller;
use super::error::ApiError;
use super::{AppState, MAX_BODY_BYTES};
use crate::config::Limits;

/// The most header bytes (names and values) one request may send.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Whom a rate counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Bucket {
    Address(IpAddr),
    Key(String),
}

/// One token bucket per client address and per API key, forgotten once full again.
pub struct Rates {
    limiter: DefaultKeyedRateLimiter<Bucket>,
}

impl Rates {
    /// None when the configured rate is 0 (off).
    pub fn new(limits: &Limits) -> Option<Arc<Rates>> {
        let rate = NonZeroU32::new(limits.rate_per_second)?;
        let burst = NonZeroU32::new(limits.rate_burst).unwrap_or(rate);
        let quota = Quota::per_second(rate).allow_burst(burst);
        Some(Arc::new(Rates {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
        }))
    }

    fn check(&self, bucket: Bucket) -> Result<(), ApiError> {
        self.limiter.check_key(&bucket).map_err(|not_until| {
            ApiError::RateLimited(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    /// Drops the buckets that are full again, so that many addresses cannot grow the table.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Before anything else: the client address's rate, the header size, and an error body for
/// what the router answers without one (405).
pub async fn by_address(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip().to_canonical());
    let refused = if header_bytes > MAX_HEADER_BYTES {
        Some(ApiError::HeadersTooLarge(MAX_HEADER_BYTES))
    } else {
        match (&state.rates, address) {
            (Some(rates), Some(ip)) if limited(request.uri().path()) => {
                rates.check(Bucket::Address(ip)).err()
            }
            _ => None,
        }
    };
    if let Some(e) = refused {
        return refuse(&state, e);
    }
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut answer =
        ApiError::MethodNotAllowed(format!("{method} is not allowed on {path}")).into_response();
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    answer
}

/// After authentication: the API key's rate, then a place among the requests in flight (held
/// until the answer is written), then the body, whole, within the body timeout.
pub async fn by_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let (Some(rates), false) = (&state.rates, state.keys.is_open())
        && limited(request.uri().path())
        && let Some(caller) = request.extensions().get::<Caller>()
        && let Err(e) = rates.check(Bucket::Key(caller.name.clone()))
    {
        return refuse(&state, e);
    }
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        return refuse(&state, ApiError::Overloaded);
    };
    let (parts, body) = request.into_parts();
    let timeout = state.limits.body_timeout();
    let bytes =
        match tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => return refuse(&state, body_error(&e)),
            Err(_) => return refuse(&state, ApiError::Timeout(timeout)),
        };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The endpoints a rate limit covers: the API, not the health checks, metrics or the page.
fn limited(path: &str) -> bool {
    path.starts_with("/v1/") || path.starts_with("/v1alpha1/")
}

fn body_error(e: &axum::Error) -> ApiError {
    // `to_bytes` says only "length limit exceeded" when the body is too large.
    let too_large =
        std::error::Error::source(e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
    match too_large {
        true => ApiError::TooLarge(MAX_BODY_BYTES),
        false => ApiError::MalformedJson(format!("reading the body: {e}")),
    }
}

fn refuse(state: &AppState, e: ApiError) -> Response {
    tracing::debug!(reason = %e, "request refused");
    let response = e.into_response();
    state.metrics.request("limits", response.status().as_u16());
    response
}

/// The time a refused client should wait, in whole seconds, at least 1.
pub fn retry_after(wait: Duration) -> u64 {
    (wait.as_secs_f64().ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(retry_after(Duration::ZERO), 1);
        assert_eq!(retry_after(Duration::from_millis(1)), 1);
        assert_eq!(retry_after(Duration::from_secs(1)), 1);
        assert_eq!(retry_after(Duration::from_millis(1500)), 2);
    }

    #[test]
    fn a_bucket_refuses_past_its_burst_and_says_how_long_to_wait() {
        let limits = Limits {
            rate_per_second: 1,
            rate_burst: 2,
            ..Limits::DEFAULT
        };
        let rates = Rates::new(&limits).expect("a rate");
        let ip = Bucket::Address(IpAddr::from([127, 0, 0, 1]));
        assert!(rates.check(ip.clone()).is_ok());
        assert!(rates.check(ip.clone()).is_ok());
        match rates.check(ip) {
            Err(ApiError::RateLimited(wait)) => assert!(wait <= Duration::from_secs(1), "{wait:?}"),
            other => panic!("{other:?}"),
        }
        // Another bucket is untouched.
        assert!(rates.check(Bucket::Key("inbox".into())).is_ok());
        assert!(
            Rates::new(&Limits {
                rate_per_second: 0,
                ..Limits::DEFAULT
            })
            .is_none()
        );
    }
}
