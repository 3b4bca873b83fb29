//! Notifications: the outbox's deliveries sent to their webhook targets, signed, retried with
//! backoff, then marked failed. This is an edge: the only I/O is the register and HTTP.
//!
//! A case's deliveries are written in the transaction that records the case
//! (`register::Register::record`), so a crash never loses one of an acknowledged case. The
//! deliverer here leases due rows for a while, sends them, and records each attempt; a row
//! whose sender died is sent again when its lease ends, with the same `Idempotency-Key`, so a
//! receiver that keeps the keys it has seen sees each event once. Scoring never waits for it.
//!
//! Every request carries `Seula-Timestamp` (Unix seconds) and `Seula-Signature: v1=HEX`, the
//! HMAC-SHA256 of `TIMESTAMP.IDEMPOTENCY_KEY.BODY` under the target's secret: a receiver
//! recomputes it and refuses old timestamps, so a captured request cannot be replayed later,
//! nor sent again under another key.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::api::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::policy::notify::{Event, Format, Webhook};
use crate::register::{DueDelivery, Register, Then, Tried};

/// The longest excerpt of a comment a chat message shows, in characters.
const EXCERPT: usize = 500;

/// The signing secrets by name, from `SEULA_WEBHOOK_SECRETS` (`name:secret,…`). Never shown.
#[derive(Clone, Default)]
pub struct Secrets(HashMap<String, String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl std::str::FromStr for Secrets {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let mut secrets = HashMap::new();
        for (i, part) in spec
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .enumerate()
        {
            let Some((name, secret)) = part.split_once(':') else {
                return Err(format!("webhook secret {}: write it as name:secret", i + 1));
            };
            let name = name.trim();
            if !crate::policy::valid_name(name) {
                return Err(format!(
                    "webhook secret {}: {name:?} is not a name (a-z, 0-9, - and _)",
                    i + 1
                ));
            }
            if secret.len() < 16 {
                return Err(format!("webhook secret {name:?}: at least 16 characters"));
            }
            if secrets
                .insert(name.to_string(), secret.to_string())
                .is_some()
            {
                return Err(format!("webhook secret {name:?}: given twice"));
            }
        }
        Ok(Self(secrets))
    }
}

impl Secrets {
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// How deliveries are sent and retried.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Attempts before a delivery is marked failed.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles for each after, up to an hour, and each
    /// wait is drawn at random between half and all of it (jitter).
    pub backoff: Duration,
    /// How long one request may take.
    pub timeout: Duration,
    /// Deliveries sent at once.
    pub batch: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            attempts: 8,
            backoff: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            batch: 16,
        }
    }
}

impl Settings {
    /// How long a sender holds the deliveries it leases: three timeouts.
    fn lease(&self) -> TimeDelta {
        TimeDelta::from_std(self.timeout.saturating_mul(3)).unwrap_or(TimeDelta::hours(1))
    }

    /// The wait after a delivery's `attempt`-th failure (1 = the first).
    fn wait_after(&self, attempt: u32, jitter: f64) -> Duration {
        let full = self
            .backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(Duration::from_secs(3600));
        full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

/// The outbox's sender: wakes when a case with deliveries is recorded, when a send ends, when
/// a retry falls due, and at least every second.
#[derive(Debug)]
pub struct Outbox {
    settings: Settings,
    secrets: Secrets,
    wake: Notify,
}

impl Outbox {
    pub fn new(settings: Settings, secrets: Secrets) -> Self {
        Self {
            settings,
            secrets,
            wake: Notify::new(),
        }
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Tells the sender new deliveries are waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Sends due deliveries until the process ends, up to `batch` at once, each as soon as a
    /// place is free. Each goes to its target as the policy in force for its case's channel
    /// names it. Errors of the register are logged and retried; nothing here stops scoring.
    pub async fn run(
        self: Arc<Self>,
        register: Register,
        metrics: Arc<Metrics>,
        pipeline: Arc<Pipeline>,
    ) {
        let client = match client(&self.settings) {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "no HTTP client for webhooks: notifications wait");
                return;
            }
        };
        let mut sends: JoinSet<Then> = JoinSet::new();
        let mut soonest = Utc::now();
        loop {
            let room = self.settings.batch.saturating_sub(sends.len());
            if room > 0 {
                let now = Utc::now();
                let lease = now + self.settings.lease();
                let token = rand::random::<i64>();
                match register.lease_due(now, lease, token, room).await {
                    Ok(due) => {
                        for d in due {
                            let me = self.clone();
                            let (client, register) = (client.clone(), register.clone());
                            let (metrics, pipeline) = (metrics.clone(), pipeline.clone());
                            sends.spawn(async move {
                                me.send(&client, &register, &metrics, &pipeline, d, token)
                                    .await
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "reading the outbox failed; retrying"),
                }
            }
            let idle = (soonest - Utc::now())
                .to_std()
                .unwrap_or_default()
                .clamp(Duration::from_millis(5), Duration::from_secs(1));
            soonest = Utc::now() + TimeDelta::seconds(1);
            tokio::select! {
                Some(done) = sends.join_next(), if !sends.is_empty() => match done {
                    Ok(Then::RetryAt(at)) => soonest = soonest.min(at),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "a delivery's sender failed"),
                },
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }

    /// One attempt at one delivery, recorded under the lease's `token`; what became of it.
    async fn send(
        &self,
        client: &reqwest::Client,
        register: &Register,
        metrics: &Metrics,
        pipeline: &Pipeline,
        d: DueDelivery,
        token: i64,
    ) -> Then {
        let start = Instant::now();
        let at = Utc::now();
        let policies = pipeline.policies();
        let policy = policies.policies.for_channel(d.channel.as_deref());
        let target = policy.webhooks.iter().find(|w| w.name == d.target);
        let secret = target.and_then(|w| w.secret.as_deref());
        let answer = match (target, secret.and_then(|s| self.secrets.0.get(s))) {
            (None, _) => Err(Failure::Gone(format!(
                "the policy in force names no target {:?}",
                d.target
            ))),
            (Some(_), None) => Err(Failure::Gone(format!(
                "no secret named {:?} is configured (SEULA_WEBHOOK_SECRETS)",
                secret.unwrap_or_default()
            ))),
            (Some(w), Some(secret)) => post(client, w, &d, secret, at).await,
        };
        let attempt = u32::try_from(d.attempts)
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let (http_status, error, gone) = match answer {
            Ok(status) => (Some(status), None, false),
            Err(Failure::Answered(status, e)) => (Some(status), Some(e), false),
            Err(Failure::NoAnswer(e)) => (None, Some(e), false),
            Err(Failure::Gone(e)) => (None, Some(e), true),
        };
        let then = if error.is_none() {
            Then::Delivered
        } else if gone || attempt >= self.settings.attempts {
            Then::Failed
        } else {
            // Counted from the answer, so a slow failure does not eat the wait.
            let wait = self.settings.wait_after(attempt, rand::random::<f64>());
            Then::RetryAt(Utc::now() + TimeDelta::from_std(wait).unwrap_or_default())
        };
        let tried = Tried {
            at,
            http_status,
            error,
            millis: i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX),
            then,
        };
        match register.tried(d.id, token, &tried).await {
            Ok(true) => metrics.delivery(&d.event, then),
            // Another sender took the delivery over when this one's lease ran out.
            Ok(false) => tracing::info!(
                delivery = d.id,
                "a delivery's lease ran out while it was sent"
            ),
            // The lease ends and the delivery goes again, with the same idempotency key.
            Err(e) => {
                tracing::warn!(delivery = d.id, error = %e, "recording a delivery attempt failed")
            }
        }
        then
    }
}

/// Why an attempt did not deliver.
enum Failure {
    /// The receiver answered with a status other than 2xx.
    Answered(i64, String),
    /// No answer: no connection, a timeout.
    NoAnswer(String),
    /// It cannot go at all: no such target, no secret. Tried again only by hand.
    Gone(String),
}

/// Makes ring the process's TLS provider, the one built in; a second call changes nothing.
/// Every HTTP client of the process (the webhooks', a test's) needs it first.
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn client(settings: &Settings) -> Result<reqwest::Client, String> {
    install_tls();
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("seula/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

/// One attempt: the 2xx status the receiver answered with, or why it did not deliver. The
/// receiver's own words are not kept: they may echo the comment back.
async fn post(
    client: &reqwest::Client,
    target: &Webhook,
    d: &DueDelivery,
    secret: &str,
    at: DateTime<Utc>,
) -> Result<i64, Failure> {
    let body = body(target.format, d).to_string();
    let timestamp = at.timestamp();
    let response = client
        .post(&target.url)
        .header("content-type", "application/json")
        .header("idempotency-key", &d.idempotency_key)
        .header("seula-event", &d.event)
        .header("seula-timestamp", timestamp.to_string())
        .header(
            "seula-signature",
            signature(secret, timestamp, &d.idempotency_key, &body),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| Failure::NoAnswer(without_url(&e)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(i64::from(status.as_u16()));
    }
    Err(Failure::Answered(
        i64::from(status.as_u16()),
        format!("HTTP {status}"),
    ))
}

/// A request error without the address, whose path may be a chat webhook's key.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut cause = String::new();
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {cause}")
    }
}

/// `v1=HEX`: HMAC-SHA256 of `TIMESTAMP.IDEMPOTENCY_KEY.BODY` under the secret, so neither the
/// time nor the key can be changed without it showing.
pub fn signature(secret: &str, timestamp: i64, key: &str, body: &str) -> String {
    // HMAC takes a key of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{timestamp}.{key}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Slack's `mrkdwn` control characters escaped: no mention of `@channel`, no link.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Escaped and every line quoted: a comment cannot write outside the quote.
fn slack_quote(text: &str) -> String {
    slack_escape(text)
        .lines()
        .map(|line| format!("> {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The body in the target's format, made from the case as the register holds it now.
pub fn body(format: Format, d: &DueDelivery) -> Value {
    let event: Option<Event> = d.event.parse().ok();
    let title = match (event, &d.incident_title) {
        (Some(Event::IncidentOpened), Some(incident)) => format!(
            "Incident opened: {incident} (incident {})",
            d.incident_id.unwrap_or_default()
        ),
        _ => format!(
            "{}: case {}{}{}",
            event.map_or("Notification", Event::describe),
            d.case_id,
            d.channel
                .as_deref()
                .map(|c| format!(" on {c}"))
                .unwrap_or_default(),
            d.route
                .as_deref()
                .map(|r| format!(", for {r}"))
                .unwrap_or_default(),
        ),
    };
    let excerpt: String = d.text.chars().take(EXCERPT).collect();
    let more = if d.text.chars().count() > EXCERPT {
        "…"
    } else {
        ""
    };
    let quoted = if excerpt.is_empty() {
        "(the text has been removed)".to_string()
    } else {
        format!("{excerpt}{more}")
    };
    let status = format!("{}, {}", d.priority, d.action);
    match format {
        Format::Slack => json!({
            "text": format!("*{}* ({status})\n{}", slack_escape(&title), slack_quote(&quoted))
        }),
        // Text runs show their text as it is: no Markdown, so no links a comment could make.
        Format::Teams => json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        { "type": "RichTextBlock", "inlines": [
                            { "type": "TextRun", "text": title, "weight": "Bolder" } ] },
                        { "type": "RichTextBlock", "inlines": [
                            { "type": "TextRun", "text": status, "isSubtle": true } ] },
                        { "type": "RichTextBlock", "inlines": [
                            { "type": "TextRun", "text": quoted } ] },
                    ],
                },
            }],
        }),
        Format::Json => json!({
            "event": d.event,
            "idempotency_key": d.idempotency_key,
            "case": {
                "id": d.case_id,
                "comment_id": d.comment_id,
                "channel": d.channel,
                "action": d.action,
                "priority": d.priority,
                "route": d.route,
                "respond_by": d.respond_by,
                "text": d.text,
                "reasons": d.reasons.0,
                "incident_id": d.incident_id,
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(text: &str) -> DueDelivery {
        DueDelivery {
            id: 1,
            case_id: 12,
            event: "sales_lead".into(),
            target: "sales-chat".into(),
            idempotency_key: "case-12/sales_lead/sales-chat".into(),
            attempts: 0,
            comment_id: "c-1".into(),
            channel: Some("facebook".into()),
            action: "allow".into(),
            priority: "normal".into(),
            route: Some("sales".into()),
            text: text.into(),
            respond_by: None,
            reasons: sqlx::types::Json(json!([{"code": "intent.purchase_intent"}])),
            incident_id: None,
            incident_title: None,
        }
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_key_and_body() {
        // RFC 4231 test case 2's key and data, the data split at our dots.
        let sig = signature("Jefe", 0, "what do ya", "want for nothing?");
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"0.what do ya.want for nothing?");
        assert_eq!(
            sig,
            format!("v1={}", hex::encode(mac.finalize().into_bytes()))
        );
        for other in [
            signature("Jefe", 1, "what do ya", "want for nothing?"),
            signature("Jeff", 0, "what do ya", "want for nothing?"),
            signature("Jefe", 0, "what do yb", "want for nothing?"),
        ] {
            assert_ne!(sig, other);
        }
        assert_eq!(sig.len(), 3 + 64);
    }

    #[test]
    fn each_format_carries_the_case_and_chat_ones_show_the_comment_as_text() {
        let json = body(Format::Json, &due("Where can I buy the new model?"));
        assert_eq!(json["event"], "sales_lead");
        assert_eq!(json["idempotency_key"], "case-12/sales_lead/sales-chat");
        assert_eq!(json["case"]["text"], "Where can I buy the new model?");
        assert_eq!(json["case"]["reasons"][0]["code"], "intent.purchase_intent");
        let slack = body(
            Format::Slack,
            &due("Where can I buy <!channel> & more?\nSeula: ok"),
        );
        assert_eq!(
            slack["text"],
            "*Sales lead: case 12 on facebook, for sales* (normal, allow)\n\
             > Where can I buy &lt;!channel&gt; &amp; more?\n> Seula: ok"
        );
        let teams = body(
            Format::Teams,
            &due(&"[x](https://evil.example) ".repeat(60)),
        );
        let card = &teams["attachments"][0]["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        let run = &card["body"][2]["inlines"][0];
        assert_eq!(run["type"], "TextRun", "a text run shows no Markdown");
        let quoted = run["text"].as_str().unwrap_or_default();
        assert_eq!(
            quoted.chars().count(),
            EXCERPT + 1,
            "an excerpt and an ellipsis"
        );
        let erased = body(Format::Slack, &due(""));
        assert!(
            erased["text"]
                .as_str()
                .is_some_and(|t| t.ends_with("> (the text has been removed)"))
        );
        let incident = DueDelivery {
            event: "incident_opened".into(),
            incident_id: Some(3),
            incident_title: Some("outage: sovellus".into()),
            ..due("Sovellus ei toimi")
        };
        let opened = body(Format::Slack, &incident);
        assert!(
            opened["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("*Incident opened: outage: sovellus (incident 3)*")),
            "{opened}"
        );
    }

    #[test]
    fn waits_double_with_jitter_up_to_an_hour() {
        let s = Settings {
            backoff: Duration::from_secs(2),
            ..Settings::default()
        };
        assert_eq!(s.wait_after(1, 1.0), Duration::from_secs(2));
        assert_eq!(s.wait_after(1, 0.0), Duration::from_secs(1));
        assert_eq!(s.wait_after(3, 1.0), Duration::from_secs(8));
        assert_eq!(s.wait_after(40, 1.0), Duration::from_secs(3600));
    }

    #[test]
    fn secrets_are_named_long_once_and_never_shown() {
        let secrets: Secrets = "legal:0123456789abcdef, sales:fedcba9876543210"
            .parse()
            .expect("secrets");
        assert!(secrets.has("legal") && secrets.has("sales") && !secrets.has("hr"));
        let shown = format!("{secrets:?}");
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
        for bad in [
            "legal",
            "legal:short",
            "Legal Team:0123456789abcdef",
            "legal:0123456789abcdef,legal:fedcba9876543210",
        ] {
            let error = bad.parse::<Secrets>().expect_err(bad);
            assert!(!error.contains("0123456789abcdef"), "{error}");
        }
    }
}
