//! Who hears of a case: the policy's webhook targets, the events each receives, and which
//! events a decision raises. Pure: sending is `crate::notify`'s.

use serde::{Deserialize, Serialize};

use super::Decision;
use crate::domain::{Priority, Route};
use crate::signals::intents::{Intent, IntentScore};
use crate::signals::{Category, Signals};

/// Something a team wants to hear of at once.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A case recorded with priority `urgent`.
    UrgentCase,
    /// A moderator escalated a case.
    Escalation,
    /// A threat of legal action, or a customer asking what data is held of them.
    Legal,
    /// Personal data at risk: an account broken into, data leaked.
    Security,
    /// A customer about to leave, or cancelling.
    Churn,
    /// Someone who wants to buy.
    SalesLead,
    /// An idea for the product.
    ProductIdea,
    /// Many authors report one problem: an incident opened (told once, not per report).
    IncidentOpened,
}

impl Event {
    pub const ALL: [Event; 8] = [
        Event::UrgentCase,
        Event::Escalation,
        Event::Legal,
        Event::Security,
        Event::Churn,
        Event::SalesLead,
        Event::ProductIdea,
        Event::IncidentOpened,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::UrgentCase => "urgent_case",
            Event::Escalation => "escalation",
            Event::Legal => "legal",
            Event::Security => "security",
            Event::Churn => "churn",
            Event::SalesLead => "sales_lead",
            Event::ProductIdea => "product_idea",
            Event::IncidentOpened => "incident_opened",
        }
    }

    /// A title for people: what happened.
    pub fn describe(self) -> &'static str {
        match self {
            Event::UrgentCase => "Urgent case",
            Event::Escalation => "Case escalated",
            Event::Legal => "Legal matter",
            Event::Security => "Personal data at risk",
            Event::Churn => "Customer about to leave",
            Event::SalesLead => "Sales lead",
            Event::ProductIdea => "Product idea",
            Event::IncidentOpened => "Incident opened",
        }
    }
}

impl std::str::FromStr for Event {
    type Err = ();

    fn from_str(name: &str) -> Result<Self, ()> {
        Event::ALL
            .into_iter()
            .find(|e| e.as_str() == name)
            .ok_or(())
    }
}

/// The body a target expects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Seula's own JSON: the event, the idempotency key and the case.
    #[default]
    Json,
    /// A Slack incoming webhook's `{"text": …}`.
    Slack,
    /// A Microsoft Teams workflow's message with an Adaptive Card.
    Teams,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Slack => "slack",
            Format::Teams => "teams",
        }
    }
}

/// One webhook target: where, in what shape, signed with which secret, for which events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// Names the target in deliveries and idempotency keys; unique in the policy.
    pub name: String,
    /// `http://` or `https://`.
    pub url: String,
    #[serde(default)]
    pub format: Format,
    /// The name of the signing secret given to the server (`SEULA_WEBHOOK_SECRETS`); the
    /// policy names it and never holds it.
    #[serde(default)]
    pub secret: Option<String>,
    /// Only cases routed to this team; left out, every route.
    #[serde(default)]
    pub route: Option<Route>,
    pub events: Vec<Event>,
}

impl Webhook {
    /// The scheme, host and port of its address: where it goes, without the path and query
    /// that a chat webhook's key is in.
    pub fn origin(&self) -> String {
        url::Url::parse(&self.url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }
}

/// An event to send to a target: one row of the outbox once its case is recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub event: Event,
    pub webhook: Webhook,
}

/// The events a decision raises, each once, in the order of [`Event`].
pub fn events(decision: &Decision, signals: &Signals, intents: &[IntentScore]) -> Vec<Event> {
    let cue = |c: Category| signals.urgency.iter().any(|u| u.category == c);
    let intent = |i: Intent| intents.iter().any(|s| s.intent == i);
    [
        (Event::UrgentCase, decision.priority == Priority::Urgent),
        (
            Event::Legal,
            cue(Category::Legal) || intent(Intent::PersonalDataRequest),
        ),
        (Event::Security, cue(Category::Privacy)),
        (
            Event::Churn,
            cue(Category::Churn) || intent(Intent::Cancellation),
        ),
        (Event::SalesLead, intent(Intent::PurchaseIntent)),
        (Event::ProductIdea, intent(Intent::FeatureRequest)),
    ]
    .into_iter()
    .filter_map(|(e, raised)| raised.then_some(e))
    .collect()
}

/// Each target that hears one of `events` for a case on `route`, once per event.
pub fn notices(webhooks: &[Webhook], events: &[Event], route: Option<&Route>) -> Vec<Notice> {
    let mut notices = Vec::new();
    for webhook in webhooks {
        if webhook.route.as_ref().is_some_and(|r| Some(r) != route) {
            continue;
        }
        for &event in events.iter().filter(|e| webhook.events.contains(e)) {
            notices.push(Notice {
                event,
                webhook: webhook.clone(),
            });
        }
    }
    notices
}

/// What is wrong with the targets, each with the path of its field.
pub fn problems(webhooks: &[Webhook], teams: &[Route]) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, w) in webhooks.iter().enumerate() {
        let path = format!("webhooks[{i}]");
        if !super::valid_name(&w.name) {
            errors.push(format!(
                "{path}.name: {:?} is not a name (1 to 64 of a-z, 0-9, - and _)",
                w.name
            ));
        } else if webhooks[..i].iter().any(|o| o.name == w.name) {
            errors.push(format!(
                "{path}.name: {:?} names another target too",
                w.name
            ));
        }
        match url::Url::parse(&w.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {}
            _ => errors.push(format!("{path}.url: {:?} is not an http(s) URL", w.url)),
        }
        if w.secret.as_deref().is_none_or(|s| s.trim().is_empty()) {
            errors.push(format!(
                "{path}.secret: name the secret that signs its deliveries (one of \
                 SEULA_WEBHOOK_SECRETS)"
            ));
        }
        if let Some(route) = w.route.as_ref().filter(|r| !teams.contains(r)) {
            errors.push(format!("{path}.route: unknown route \"{route}\""));
        }
        if w.events.is_empty() {
            errors.push(format!("{path}.events: name at least one event"));
        }
    }
    errors
}
