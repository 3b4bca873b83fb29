//! Policy: thresholds as versioned data, and `decide`, which turns scores and signals into an action.
//!
//! `decide` is pure. The default policy is embedded (`default.toml`); channels inherit it and
//! override parts. Account, name and writing signals feed only the `troll` score, which the
//! validator keeps out of `hide` and `delete`, so they alone reach `review` at most. Two
//! practices have their own handling: a comment holding personal data is hidden to protect the
//! customer and moved to private messages, and an attack on a named employee goes to a supervisor.
//! Reply-time targets live in [`reply`].

pub mod cascade;
pub mod notify;
pub mod replay;
pub mod reply;
mod sources;
pub mod words;

pub use sources::{DEFAULT, Source, Sources, valid_name};

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

use crate::domain::{Action, Priority, Reason, Recommendation, Route};
use crate::scoring::Scores;
use crate::signals::intents::{self, Intent, IntentScores};
use crate::signals::{Category, Signals};

/// Scores that may never hide or delete on their own: they rest on account, name and writing signals.
const REVIEW_ONLY: &[&str] = &["troll", "fake_account"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub name: String,
    pub version: u32,
    pub actions: Actions,
    pub priority: PriorityThresholds,
    pub escalation: Escalation,
    /// The teams comments go to; every route the policy names must be one of them. A policy
    /// without the list (one stored before routes were the policy's) gets the shipped list.
    #[serde(default = "shipped_teams")]
    pub teams: Vec<Route>,
    pub routes: Routes,
    /// A comment holding the customer's personal data (phone, identity code, IBAN, …).
    pub personal_data: Handling,
    /// A hostile comment aimed at a named employee or a staff role.
    pub staff_attack: Handling,
    pub reply: reply::Reply,
    /// The community's own banned, suspect and allowed words.
    #[serde(default)]
    pub words: words::Words,
    /// The team each intent goes to, and the least priority it gets; an intent not listed
    /// routes nowhere by itself. A policy without the table (one stored before intents
    /// existed) gets the shipped default's; an empty `[intents]` hands nothing off.
    #[serde(default = "shipped_intents")]
    pub intents: BTreeMap<Intent, Handoff>,
    /// Who hears of which cases at once: webhook targets and their events.
    #[serde(default)]
    pub webhooks: Vec<notify::Webhook>,
    /// What makes an incident: how many authors report one problem within how long.
    #[serde(default = "shipped_incidents")]
    pub incidents: crate::incidents::Rules,
    /// When a comment goes on to the transformer model, where the server has one.
    #[serde(default)]
    pub cascade: cascade::Cascade,
}

/// Where a comment that carries an intent goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    pub route: Route,
    /// The least priority; `low` when left out.
    #[serde(default = "low")]
    pub priority: Priority,
}

fn low() -> Priority {
    Priority::Low
}

/// A part of the shipped default policy, for policies stored before the part existed.
fn shipped<T: serde::de::DeserializeOwned + Default>(key: &str) -> T {
    let shipped: Result<toml::Table, _> = toml::from_str(include_str!("default.toml"));
    shipped
        .ok()
        .and_then(|mut t| t.remove(key))
        .and_then(|v| v.try_into().ok())
        .unwrap_or_default()
}

fn shipped_intents() -> BTreeMap<Intent, Handoff> {
    shipped("intents")
}

fn shipped_teams() -> Vec<Route> {
    shipped("teams")
}

fn shipped_incidents() -> crate::incidents::Rules {
    shipped("incidents")
}

/// The least a comment gets when a practice calls for it: the action and priority are raised to
/// these if lower, and the route is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handling {
    pub action: Action,
    pub priority: Priority,
    pub route: Route,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actions {
    #[serde(default)]
    pub delete: BTreeMap<String, f32>,
    #[serde(default)]
    pub hide: BTreeMap<String, f32>,
    #[serde(default)]
    pub review: BTreeMap<String, f32>,
    #[serde(default)]
    pub prioritize: BTreeMap<String, f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityThresholds {
    pub urgent: f32,
    pub high: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub hide_after: u32,
    pub block_after: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routes {
    pub outage: Route,
    pub money: Route,
    pub safety: Route,
    pub time_pressure: Route,
    pub legal: Route,
    pub privacy: Route,
    pub churn: Route,
    pub moderation: Route,
}

impl Routes {
    fn for_category(&self, c: Category) -> &Route {
        match c {
            Category::Outage => &self.outage,
            Category::Money => &self.money,
            Category::Safety => &self.safety,
            Category::TimePressure => &self.time_pressure,
            Category::Legal => &self.legal,
            Category::Privacy => &self.privacy,
            Category::Churn => &self.churn,
        }
    }

    /// Each route with the path of its field.
    fn named(&self) -> [(&'static str, &Route); 8] {
        [
            ("routes.outage", &self.outage),
            ("routes.money", &self.money),
            ("routes.safety", &self.safety),
            ("routes.time_pressure", &self.time_pressure),
            ("routes.legal", &self.legal),
            ("routes.privacy", &self.privacy),
            ("routes.churn", &self.churn),
            ("routes.moderation", &self.moderation),
        ]
    }
}

/// What the register knows of the author before this comment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthorHistory {
    /// Earlier cases hidden, deleted or blocked.
    pub removed: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub action: Action,
    pub priority: Priority,
    pub route: Option<Route>,
    pub reasons: Vec<Reason>,
    pub recommendations: Vec<Recommendation>,
    /// The action was raised only to protect the customer's personal data: it is no offence and
    /// does not count against the author.
    pub protective: bool,
    /// The targets to tell of the case, by event; each becomes a delivery when it is recorded.
    pub notices: Vec<notify::Notice>,
    /// The intents the comment carries, strongest first (those at 0.5 or more).
    pub intents: Vec<intents::IntentScore>,
    /// The open incident the comment joins (set by the pipeline, which keeps the incidents).
    pub incident: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct Invalid(pub Vec<String>);

impl Policy {
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errors = Vec::new();
        let a = &self.actions;
        for (action, table) in [
            ("delete", &a.delete),
            ("hide", &a.hide),
            ("review", &a.review),
            ("prioritize", &a.prioritize),
        ] {
            for (score, t) in table {
                let path = format!("actions.{action}.{score}");
                if Scores::default().get(score).is_none() {
                    errors.push(format!(
                        "{path}: unknown score (one of {})",
                        Scores::NAMES.join(", ")
                    ));
                } else if !(0.0..=1.0).contains(t) {
                    errors.push(format!("{path}: {t} is not in [0, 1]"));
                } else if matches!(action, "delete" | "hide")
                    && REVIEW_ONLY.contains(&score.as_str())
                {
                    errors.push(format!(
                        "{path}: account and writing signals may reach review at most"
                    ));
                }
            }
        }
        for (name, t) in [
            ("urgent", self.priority.urgent),
            ("high", self.priority.high),
        ] {
            if !(0.0..=1.0).contains(&t) {
                errors.push(format!("priority.{name}: {t} is not in [0, 1]"));
            }
        }
        if self.priority.high > self.priority.urgent {
            errors.push("priority.high: must not be above priority.urgent".to_string());
        }
        errors.extend(self.reply.problems());
        errors.extend(self.cascade.problems());
        errors.extend(self.unknown_routes());
        errors.extend(notify::problems(&self.webhooks, &self.teams));
        errors.extend(self.incidents.problems());
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid(errors))
        }
    }
}

impl Policy {
    /// Every route the policy names that is not one of its `teams`, with the path of its field.
    fn unknown_routes(&self) -> Vec<String> {
        if self.teams.is_empty() {
            return vec!["teams: name at least one team".to_string()];
        }
        if let Some((i, twice)) = self
            .teams
            .iter()
            .enumerate()
            .find(|(i, t)| self.teams[..*i].contains(t))
        {
            return vec![format!("teams[{i}]: \"{twice}\" is listed twice")];
        }
        let intents: Vec<(String, &Route)> = self
            .intents
            .iter()
            .map(|(i, h)| (format!("intents.{}.route", i.as_str()), &h.route))
            .collect();
        let fixed = self.routes.named().map(|(p, r)| (p.to_string(), r));
        let practices = [
            ("personal_data.route".to_string(), &self.personal_data.route),
            ("staff_attack.route".to_string(), &self.staff_attack.route),
        ];
        fixed
            .into_iter()
            .chain(practices)
            .chain(intents)
            .filter(|(_, r)| !self.teams.contains(r))
            .map(|(path, r)| {
                let teams: Vec<&str> = self.teams.iter().map(Route::as_str).collect();
                format!(
                    "{path}: unknown route \"{r}\" (teams: {})",
                    teams.join(", ")
                )
            })
            .collect()
    }
}

/// The default policy and every channel's resolved policy.
#[derive(Debug, Clone)]
pub struct Policies {
    default: Policy,
    channels: HashMap<String, Policy>,
}

impl Policies {
    pub fn shipped() -> Result<Self, String> {
        Self::from_toml(include_str!("default.toml"))
    }

    /// Parses a policy file: the default policy plus `[channels.NAME]` overrides merged onto it.
    pub fn from_toml(source: &str) -> Result<Self, String> {
        Self::resolve(&Sources::from_file(source)?)
    }

    /// Each policy from its source: the default as written, each channel's overrides merged
    /// onto the default. Every problem of every policy is reported, `channels.NAME:` first for
    /// a channel's.
    pub fn resolve(sources: &Sources) -> Result<Self, String> {
        let default_table = sources.default.table()?;
        let parse = |mut t: toml::Table, name: &str, version: u32| -> Result<Policy, String> {
            t.insert("name".into(), toml::Value::String(name.into()));
            t.insert("version".into(), toml::Value::Integer(version.into()));
            let mut policy: Policy =
                serde_path_to_error::deserialize(toml::Value::Table(t)).map_err(located)?;
            policy.validate().map_err(|e| e.to_string())?;
            policy.words.compile().map_err(|e| e.join("; "))?;
            Ok(policy)
        };
        let mut errors = Vec::new();
        let default = parse(default_table.clone(), DEFAULT, sources.default.version)
            .map_err(|e| errors.push(e))
            .ok();
        let mut channels = HashMap::new();
        for (name, source) in &sources.channels {
            let mut merged = default_table.clone();
            merge(
                &mut merged,
                source
                    .table()
                    .map_err(|e| format!("channels.{name}: {e}"))?,
            );
            match parse(merged, name, source.version) {
                Ok(policy) => {
                    channels.insert(name.clone(), policy);
                }
                // A problem the channel only inherits is said once, as the default's.
                Err(e) if default.is_none() && errors.first() == Some(&e) => {}
                Err(e) => errors.push(format!("channels.{name}: {e}")),
            }
        }
        match default {
            Some(default) if errors.is_empty() => Ok(Self { default, channels }),
            _ => Err(errors.join("; ")),
        }
    }

    pub fn for_channel(&self, channel: Option<&str>) -> &Policy {
        channel
            .and_then(|c| self.channels.get(c))
            .unwrap_or(&self.default)
    }

    /// Every team a policy in the set lists, each once: the default's in its order, then the
    /// channels' own, by name.
    pub fn teams(&self) -> Vec<Route> {
        let mut channels: Vec<&Policy> = self.channels.values().collect();
        channels.sort_by(|x, y| x.name.cmp(&y.name));
        let mut teams: Vec<Route> = Vec::new();
        for team in std::iter::once(&self.default)
            .chain(channels)
            .flat_map(|p| &p.teams)
        {
            if !teams.contains(team) {
                teams.push(team.clone());
            }
        }
        teams
    }

    /// Every webhook target of the set with its path: `webhooks[i]` for the default's,
    /// `channels.NAME.webhooks[i]` for a channel's own list.
    pub fn webhooks(&self) -> impl Iterator<Item = (String, &notify::Webhook)> {
        let own = self
            .default
            .webhooks
            .iter()
            .enumerate()
            .map(|(i, w)| (format!("webhooks[{i}]"), w));
        let channels = self
            .channels
            .iter()
            .filter(|(_, p)| p.webhooks != self.default.webhooks)
            .flat_map(|(name, p)| {
                p.webhooks
                    .iter()
                    .enumerate()
                    .map(move |(i, w)| (format!("channels.{name}.webhooks[{i}]"), w))
            });
        own.chain(channels)
    }

    /// The policy of that name (`default` or a channel's), if there is one.
    pub fn named(&self, name: &str) -> Option<&Policy> {
        match name {
            DEFAULT => Some(&self.default),
            channel => self.channels.get(channel),
        }
    }
}

impl Policy {
    /// When the first reply is due: by the reply-time target of the decision's priority, counted
    /// in service hours from `created`. Deleted comments and blocked authors get no reply.
    pub fn respond_by(&self, decision: &Decision, created: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (decision.action < Action::Delete)
            .then(|| self.reply.respond_by(decision.priority, created))
            .flatten()
    }
}

/// A policy's shape error with the path of its field first: serde_path_to_error's
/// (`webhooks[1].events[0]`), or where it cannot name a map's key (`intents.?`), toml's, which
/// it says after the message (`in \`intents.praise\``).
fn located(e: serde_path_to_error::Error<toml::de::Error>) -> String {
    let inner = e.inner().to_string();
    let (message, toml_path) = match inner.trim_end().split_once("\nin `") {
        Some((message, path)) => (message.to_string(), Some(path.trim_end_matches('`'))),
        None => (inner.trim_end().to_string(), None),
    };
    let path = e.path().to_string();
    match toml_path {
        Some(p) if path.contains('?') => format!("{p}: {message}"),
        _ => format!("{path}: {message}"),
    }
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

fn fires(table: &BTreeMap<String, f32>, scores: &Scores) -> bool {
    table
        .iter()
        .any(|(name, t)| scores.get(name).is_some_and(|s| s >= *t))
}

pub fn decide(
    policy: &Policy,
    scores: &Scores,
    intent_scores: &IntentScores,
    signals: &Signals,
    history: AuthorHistory,
    mut reasons: Vec<Reason>,
) -> Decision {
    let a = &policy.actions;
    let mut action = if fires(&a.delete, scores) {
        Action::Delete
    } else if fires(&a.hide, scores) {
        Action::Hide
    } else if fires(&a.review, scores) {
        Action::Review
    } else {
        Action::Allow
    };
    // The community's own lists: a banned word hides (or deletes), a suspect one is reviewed.
    for hit in &signals.words {
        action = action.max(match hit.list {
            words::List::Banned => policy.words.banned_action,
            words::List::Suspect => Action::Review,
        });
    }
    let urgent_need = fires(&a.prioritize, scores);
    if action == Action::Allow && urgent_need {
        action = Action::Prioritize;
    }

    let e = &policy.escalation;
    let escalated = if action.removes() && history.removed >= e.block_after {
        Some(Action::BlockAuthor)
    } else if action == Action::Review && history.removed >= e.hide_after {
        Some(Action::Hide)
    } else {
        None
    };
    if let Some(to) = escalated {
        let msg = format!(
            "author has {} earlier hidden or deleted case(s)",
            history.removed
        );
        reasons.push(Reason::new(
            "author.history",
            msg,
            0.5 + 0.1 * history.removed.min(5) as f32,
        ));
        action = to;
    }

    let staff = signals
        .staff_target
        .is_some()
        .then_some(&policy.staff_attack);
    if let Some(h) = staff {
        action = action.max(h.action);
    }
    let protect = (!signals.personal_data.is_empty()).then_some(&policy.personal_data);
    let protective = protect.is_some_and(|h| h.action > action);
    if let Some(h) = protect {
        action = action.max(h.action);
    }

    let priority = if scores.urgency >= policy.priority.urgent {
        Priority::Urgent
    } else if scores.urgency >= policy.priority.high {
        Priority::High
    } else if action > Action::Prioritize {
        Priority::Normal
    } else {
        Priority::Low
    };
    let priority = [staff, protect]
        .iter()
        .flatten()
        .fold(priority, |p, h| p.max(h.priority));
    // The most specific intent the comment carries that the policy hands off: its team, and
    // at least its priority.
    let listed = intents::ranked(intent_scores, &signals.intents, signals.style.questions > 0);
    let handoff = Intent::SPECIFIC_FIRST.iter().find_map(|intent| {
        let carried = listed.iter().find(|i| i.intent == *intent)?;
        policy.intents.get(intent).map(|h| (carried.clone(), h))
    });
    let priority = handoff
        .as_ref()
        .map_or(priority, |(_, h)| priority.max(h.priority));
    let strongest_need = signals
        .urgency
        .iter()
        .max_by(|x, y| x.weight.total_cmp(&y.weight))
        .map(|c| c.category);
    // A supervisor answers for the named employee; then the customer's privacy; then the need;
    // then moderation for a flagged comment; then what the writer wants.
    let route = match (staff.or(protect), strongest_need) {
        (Some(h), _) => Some(h.route.clone()),
        (None, Some(c)) if urgent_need => Some(policy.routes.for_category(c).clone()),
        _ if action > Action::Prioritize => Some(policy.routes.moderation.clone()),
        _ => handoff.as_ref().map(|(i, h)| {
            let message = format!("{}, for {}", i.intent.describe(), h.route.as_str());
            let reason = Reason::new(&format!("intent.{}", i.intent.as_str()), message, 0.3);
            reasons.push(match i.span {
                Some(span) => reason.at(span),
                None => reason,
            });
            h.route.clone()
        }),
    };
    let recommendations = [
        (protect, Recommendation::MoveToPrivateMessages),
        (staff, Recommendation::SupervisorReplies),
    ]
    .into_iter()
    .filter_map(|(h, r)| h.map(|_| r))
    .collect();
    reasons.sort_by(|x, y| y.weight.total_cmp(&x.weight));
    let mut decision = Decision {
        action,
        priority,
        route,
        reasons,
        recommendations,
        protective,
        notices: Vec::new(),
        intents: listed,
        incident: None,
    };
    if !policy.webhooks.is_empty() {
        let events = notify::events(&decision, signals, &decision.intents);
        decision.notices = notify::notices(&policy.webhooks, &events, decision.route.as_ref());
    }
    decision
}

#[cfg(test)]
mod tests;
