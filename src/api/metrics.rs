//! Prometheus metrics, all named `seula_…`: requests, per-stage latency, actions taken, intents
//! and routes, and the
//! register's reply-time figures (open cases past their target, cases answered late) and the
//! deliveries waiting in the outbox, read from the register at each scrape; notifications sent.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::domain::Route;
use crate::pipeline::Outcome;
use crate::register::Then;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    stage: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IntentLabels {
    intent: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    /// A team of the policies in force, or `none`.
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    event: String,
    /// `delivered`, `retried` or `failed`.
    outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    stages: Family<StageLabels, Histogram>,
    actions: Family<ActionLabels, Counter>,
    intents: Family<IntentLabels, Counter>,
    routes: Family<RouteLabels, Counter>,
    overdue: Gauge,
    answered_late: Gauge,
    panics: Counter,
    connections: Gauge,
    deliveries: Family<DeliveryLabels, Counter>,
    pending_deliveries: Gauge,
}

fn latency_histogram() -> Histogram {
    // 1 µs to about 0.4 s
    Histogram::new(exponential_buckets(1e-6, 3.0, 13))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Metrics {
    /// The service's metrics, with the transformer tier's when it is on.
    pub fn new(transformer: Option<&crate::transformer::Meters>) -> Self {
        let mut registry = Registry::with_prefix("seula");
        if let Some(meters) = transformer {
            meters.register(&mut registry);
        }
        let requests = Family::<RequestLabels, Counter>::default();
        let stages = Family::<StageLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let actions = Family::<ActionLabels, Counter>::default();
        registry.register(
            "requests",
            "HTTP requests by endpoint and status",
            requests.clone(),
        );
        registry.register_with_unit(
            "stage_duration",
            "Time spent per pipeline stage",
            Unit::Seconds,
            stages.clone(),
        );
        registry.register(
            "actions",
            "Scored comments by recommended action",
            actions.clone(),
        );
        let intents = Family::<IntentLabels, Counter>::default();
        registry.register(
            "intents",
            "Scored comments by each intent they carry",
            intents.clone(),
        );
        let routes = Family::<RouteLabels, Counter>::default();
        registry.register(
            "routes",
            "Scored comments by the team they are routed to (none: no route)",
            routes.clone(),
        );
        let overdue = Gauge::default();
        registry.register(
            "cases_overdue",
            "Open cases in the register past their reply-time target",
            overdue.clone(),
        );
        let answered_late = Gauge::default();
        registry.register(
            "cases_answered_late",
            "Cases in the register whose first decision came after their reply-time target",
            answered_late.clone(),
        );
        let panics = Counter::default();
        registry.register(
            "panics",
            "Requests or comments whose handling panicked (each a defect), answered 500",
            panics.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "connections",
            "Open client connections",
            connections.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "notification_attempts",
            "Attempts to deliver a notification, by event and what came of the delivery",
            deliveries.clone(),
        );
        let pending_deliveries = Gauge::default();
        registry.register(
            "notifications_pending",
            "Notifications in the outbox waiting to be delivered",
            pending_deliveries.clone(),
        );
        Self {
            registry,
            requests,
            stages,
            actions,
            intents,
            routes,
            overdue,
            answered_late,
            panics,
            connections,
            deliveries,
            pending_deliveries,
        }
    }

    pub fn request(&self, endpoint: &'static str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels { endpoint, status })
            .inc();
    }

    /// One scored comment: its stage timings, its action, its intents and its route.
    pub fn scored(&self, outcome: &Outcome) {
        let (stages, total, decision) = (&outcome.stages, outcome.took, &outcome.decision);
        for (stage, took) in stages {
            self.stages
                .get_or_create(&StageLabels {
                    stage: stage.as_str(),
                })
                .observe(took.as_secs_f64());
        }
        self.stages
            .get_or_create(&StageLabels { stage: "total" })
            .observe(total.as_secs_f64());
        self.actions
            .get_or_create(&ActionLabels {
                action: decision.action.as_str(),
            })
            .inc();
        for intent in &decision.intents {
            self.intents
                .get_or_create(&IntentLabels {
                    intent: intent.intent.as_str(),
                })
                .inc();
        }
        let route = decision.route.as_ref().map_or("none", Route::as_str);
        self.routes
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .inc();
    }

    /// The register's figures: open cases past their target, cases answered late, and
    /// deliveries waiting.
    pub fn set_register_figures(&self, overdue: i64, answered_late: i64, pending: i64) {
        self.overdue.set(overdue);
        self.answered_late.set(answered_late);
        self.pending_deliveries.set(pending);
    }

    /// One attempt to deliver a notification of `event`, and what it made of the delivery.
    pub fn delivery(&self, event: &str, then: Then) {
        let outcome = match then {
            Then::Delivered => "delivered",
            Then::RetryAt(_) => "retried",
            Then::Failed => "failed",
        };
        self.deliveries
            .get_or_create(&DeliveryLabels {
                event: event.to_string(),
                outcome,
            })
            .inc();
    }

    pub fn panicked(&self) {
        self.panics.inc();
    }

    /// A connection opened (+1) or closed (-1).
    pub fn connection(&self, change: i64) {
        self.connections.inc_by(change);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
