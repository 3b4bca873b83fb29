//! The whole scoring path for one comment: normalize → signals → scores → policy → register.
//!
//! The server and `seula score` both call [`Pipeline::run`], so they cannot disagree. Everything up
//! to the policy is CPU-only and takes microseconds; the register is the only I/O.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use chrono::{DateTime, Utc};

use crate::domain::{Comment, Reason, Recommendation, Span};
use crate::incidents::{self, Sighting};
use crate::normalize::{NormalizedText, model_text, normalize};
use crate::policy::cascade::WhenBusy;
use crate::policy::notify::{self, Event, Notice};
use crate::policy::{self, AuthorHistory, Decision, Policies, Sources};
use crate::register::{self, NewCase, NewIncident, Register, RegisterError};
use crate::scoring::learned::LearnedScorer;
use crate::scoring::{Assessment, Scorer};
use crate::signals::{self, Category, Lexicons, Signals, personal_data, repetition};
use crate::transformer::{Busy, Transformer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Normalize,
    Signals,
    Scoring,
    Transformer,
    Policy,
    Register,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Normalize => "normalize",
            Stage::Signals => "signals",
            Stage::Scoring => "scoring",
            Stage::Transformer => "transformer",
            Stage::Policy => "policy",
            Stage::Register => "register",
        }
    }
}

/// What the pipeline concluded about one comment.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub signals: Signals,
    pub assessment: Assessment,
    pub decision: Decision,
    /// When the first reply is due under the policy's reply-time targets and service hours.
    pub respond_by: Option<DateTime<Utc>>,
    /// What the answer leaves out of long lists of reasons and spans.
    pub truncated: Option<signals::Truncated>,
    /// What the register knew of the author when this was decided.
    pub history: AuthorHistory,
    pub policy_name: String,
    pub policy_version: u32,
    pub model_version: String,
    pub case_id: Option<i64>,
    pub stages: Vec<(Stage, Duration)>,
    pub took: Duration,
    /// The comment as a report of a problem, for the incidents (kept comments only).
    pub report: Option<incidents::Report>,
    /// What makes an incident under the comment's policy, and who hears one opened.
    pub incident_rules: incidents::Rules,
    pub incident_notices: Vec<Notice>,
    /// How the transformer took part, when the policy's cascade sent the comment to it.
    pub transformer: Option<ModelUse>,
}

impl Outcome {
    /// The comment reports a known incident: it says so, and is recorded in it. The reason
    /// names the incident only: its words come from other people's comments.
    fn join(&mut self, incident: i64) {
        let d = &mut self.decision;
        d.incident = Some(incident);
        if !d.recommendations.contains(&Recommendation::KnownIncident) {
            d.recommendations.push(Recommendation::KnownIncident);
        }
        let message = format!("a problem many report: incident {incident}");
        d.reasons.push(Reason::new("incident.known", message, 0.4));
        d.reasons.sort_by(|x, y| y.weight.total_cmp(&x.weight));
        // Still at most MAX_LISTED: the weakest goes, and the answer says so.
        if d.reasons.len() > signals::MAX_LISTED {
            d.reasons.truncate(signals::MAX_LISTED);
            let truncated = self.truncated.get_or_insert(signals::Truncated {
                limit: signals::MAX_LISTED,
                reasons: 0,
                spans: 0,
            });
            truncated.reasons += 1;
        }
    }

    /// What the register records of this outcome for `comment`.
    pub fn case<'a>(&'a self, comment: &'a Comment) -> NewCase<'a> {
        NewCase {
            comment_id: &comment.id,
            channel: comment.channel.as_deref(),
            thread_id: comment.thread.as_ref().and_then(|t| t.id.as_deref()),
            author_id: comment.author.as_ref().and_then(|a| a.id.as_deref()),
            text: personal_data::mask(&comment.text, &self.signals.personal_data),
            action: self.decision.action,
            priority: self.decision.priority,
            route: self.decision.route.clone(),
            scores: &self.assessment.scores,
            sentiment: &self.assessment.sentiment,
            signals: &self.signals,
            reasons: &self.decision.reasons,
            recommendations: &self.decision.recommendations,
            policy_name: &self.policy_name,
            policy_version: self.policy_version,
            model_version: &self.model_version,
            created_at: comment.created_at.unwrap_or_else(Utc::now),
            respond_by: self.respond_by,
            protective: self.decision.protective,
            history: self.history,
            notices: &self.decision.notices,
            incident: self.decision.incident,
            intents: &self.decision.intents,
        }
    }
}

/// The policies in force and the sources they were resolved from, swapped as one.
#[derive(Debug)]
pub struct ActivePolicies {
    pub sources: Sources,
    pub policies: Policies,
}

impl ActivePolicies {
    pub fn resolve(sources: Sources) -> Result<Self, String> {
        let policies = Policies::resolve(&sources)?;
        Ok(Self { sources, policies })
    }
}

/// Comments a batch caller (`seula score`, `seula eval`) scores at once, so that the
/// transformer's batches fill as they do under a server's concurrent requests
/// ([`Pipeline::in_flight`]).
const IN_FLIGHT: usize = 256;

pub struct Pipeline {
    lexicons: Lexicons,
    scorer: Box<dyn Scorer>,
    /// Swapped whole on activation: a comment is decided under one snapshot from start to end.
    policies: ArcSwap<ActivePolicies>,
    repetition: repetition::Memory,
    /// Recent problem reports and the open incidents they join.
    incidents: incidents::Memory,
    /// The transformer tier, where the server has one.
    transformer: Option<Transformer>,
}

impl Pipeline {
    pub fn new(
        policies: ActivePolicies,
        repetition: repetition::Config,
        scorer: Box<dyn Scorer>,
    ) -> Result<Self, String> {
        // Compile the lazily built patterns now, not on the first request.
        let warm_up = "warm up https://seula.fi @seula";
        signals::language::detect(warm_up, &normalize(warm_up), None);
        personal_data::find("warm up 040 123 4567 seula@example.fi FI21 1234 5600 0007 85");
        Ok(Self {
            lexicons: Lexicons::shipped()?,
            scorer,
            policies: ArcSwap::from_pointee(policies),
            repetition: repetition::Memory::new(repetition),
            incidents: incidents::Memory::default(),
            transformer: None,
        })
    }

    /// Puts a transformer model behind the fast path, for the comments the cascade sends it.
    pub fn with_transformer(mut self, transformer: Transformer) -> Self {
        self.transformer = Some(transformer);
        self
    }

    pub fn transformer(&self) -> Option<&Transformer> {
        self.transformer.as_ref()
    }

    /// Comments a batch caller scores at once: no more than the transformer's queue holds, so
    /// that none of them finds it full.
    pub fn in_flight(&self) -> usize {
        self.transformer
            .as_ref()
            .map_or(IN_FLIGHT, |t| IN_FLIGHT.min(t.capacity()).max(1))
    }

    /// The shipped lexicons, default policy and built-in models, default repetition memory.
    pub fn shipped() -> Result<Self, String> {
        Self::new(
            ActivePolicies::resolve(Sources::from_file(include_str!("policy/default.toml"))?)?,
            repetition::Config::default(),
            Box::new(LearnedScorer::load(None)?),
        )
    }

    /// The policies in force now.
    pub fn policies(&self) -> Arc<ActivePolicies> {
        self.policies.load_full()
    }

    /// Puts other policies in force; comments being decided finish under the ones they started with.
    pub fn activate(&self, policies: ActivePolicies) {
        self.policies.store(Arc::new(policies));
    }

    pub fn model_version(&self) -> &str {
        self.scorer.version()
    }

    /// Lets later reports join an open incident the register holds (at start).
    pub fn restore_incident(&self, incident: &register::Incident) {
        let category = incident
            .category
            .as_deref()
            .and_then(|c| serde_json::from_value(serde_json::Value::String(c.into())).ok());
        self.incidents
            .restore(incident.id, &incident.words.0, category);
    }

    /// A moderator closed the incident: later reports no longer join it.
    pub fn incident_closed(&self, incident: i64) {
        self.incidents.closed(incident);
    }

    /// A moderator merged incident `from` into `into`: later reports of either join `into`.
    pub fn incident_merged(&self, from: i64, into: i64) {
        self.incidents.merged(from, into);
    }

    /// Forgets what the repetition memory holds of an author (their erasure).
    pub fn forget_author(&self, author_id: &str) -> bool {
        self.repetition.forget_author(author_id)
    }

    pub fn repetition_bound_bytes(&self) -> usize {
        self.repetition.bound_bytes()
    }

    /// Scores and decides; records the case when `register` is given and the decision calls for
    /// it. A panic while scoring fails this comment alone, as [`RunError::Panicked`].
    pub async fn run(
        &self,
        comment: &Comment,
        register: Option<&Register>,
    ) -> Result<Outcome, RunError> {
        let start = Instant::now();
        let history = match (
            register,
            comment.author.as_ref().and_then(|a| a.id.as_deref()),
        ) {
            (Some(r), Some(author)) => r.author_history(author).await?,
            _ => AuthorHistory::default(),
        };
        let mut outcome = self.decide_cascading(comment, history, true).await?;
        if let Some(register) = register {
            let t = Instant::now();
            self.record(&mut outcome, comment, register).await?;
            if outcome.case_id.is_some() {
                outcome.stages.push((Stage::Register, t.elapsed()));
            }
        }
        outcome.took = start.elapsed();
        Ok(outcome)
    }

    /// Scores and decides without recording the comment or remembering it for repetition (a
    /// client that asks nothing be stored). A panic fails this comment alone.
    pub async fn run_unstored(&self, comment: &Comment) -> Result<Outcome, RunError> {
        self.decide_cascading(comment, AuthorHistory::default(), false)
            .await
    }

    /// Records the outcome when it calls for it, and keeps the incidents: a report joins one,
    /// opens one (with its earlier reports' cases linked, in one transaction), or waits in
    /// its group with its case noted.
    async fn record(
        &self,
        outcome: &mut Outcome,
        comment: &Comment,
        register: &Register,
    ) -> Result<(), RunError> {
        let sighting = outcome
            .report
            .as_ref()
            .map(|r| self.incidents.observe(r, &outcome.incident_rules));
        match sighting {
            Some(Sighting::Opens(opening)) => {
                // Whatever stops this request (an error, a dropped connection), the group does
                // not stay half open: the guard puts it back to counting unless it opened.
                let mut guard = OpeningGuard {
                    memory: &self.incidents,
                    group: opening.group,
                    armed: true,
                };
                let new = NewIncident {
                    title: opening.title(),
                    category: opening.category.map(Category::as_str),
                    words: &opening.words,
                    channels: &opening.channels,
                    reports: opening.reports,
                    authors: opening.authors,
                    first_seen: opening.first_seen,
                    last_seen: opening.last_seen,
                    cases: &opening.cases,
                };
                let (case, incident) = register
                    .open_incident(&outcome.case(comment), &new, &outcome.incident_notices)
                    .await?;
                guard.armed = false;
                let later = self
                    .incidents
                    .opened(opening.group, incident, &outcome.incident_rules);
                tracing::info!(incident, title = %new.title, authors = opening.authors, "incident opened");
                outcome.case_id = Some(case);
                outcome.join(incident);
                // The incident and this case are recorded: a link that fails is logged, not
                // answered as this comment's failure.
                if let Err(e) = register.link_cases(incident, &later).await {
                    tracing::warn!(incident, error = %e, cases = ?later, "linking reports to the incident failed");
                }
            }
            sighting => {
                if let Some(Sighting::Joins { incident }) = sighting {
                    outcome.decision.incident = Some(incident);
                }
                // A report waiting in its group is recorded too, to be linked if it opens.
                let member = matches!(sighting, Some(Sighting::Member { .. }));
                if !member && !register::is_recorded(&outcome.decision) {
                    return Ok(());
                }
                // The incident as the register has it: merged meanwhile, it is where it went;
                // closed, the report joins none and the answer says nothing of it.
                let (case, joined) = register.record_report(&outcome.case(comment)).await?;
                outcome.case_id = Some(case);
                outcome.decision.incident = None;
                if let Some(incident) = joined {
                    outcome.join(incident);
                }
                if let Some(Sighting::Member { group, member }) = sighting
                    && let Some(incident) = self.incidents.noted(group, member, case)
                {
                    register.link_cases(incident, &[case]).await?;
                    outcome.join(incident);
                }
            }
        }
        Ok(())
    }

    /// The fast path, then the transformer where the policy's cascade sends the comment, then
    /// the policy. A panic fails this comment alone.
    async fn decide_cascading(
        &self,
        comment: &Comment,
        history: AuthorHistory,
        keep: bool,
    ) -> Result<Outcome, RunError> {
        let now = Utc::now();
        let mut assessed = caught(comment, || self.assess(comment, now, keep))?;
        if let Some(transformer) = &self.transformer {
            self.second_opinion(transformer, comment, &mut assessed)
                .await?;
        }
        caught(comment, || {
            self.conclude(comment, assessed, history, now, keep)
        })
    }

    /// Asks the transformer where the policy's cascade says it pays, and puts its opinion into
    /// the assessment. A full queue answers from the fast path or refuses, as the policy says;
    /// a failed run answers from the fast path.
    async fn second_opinion(
        &self,
        transformer: &Transformer,
        comment: &Comment,
        assessed: &mut Assessed,
    ) -> Result<(), RunError> {
        let active = Arc::clone(&assessed.active);
        let cascade = &active
            .policies
            .for_channel(comment.channel.as_deref())
            .cascade;
        if !cascade.wants(
            transformer.card(),
            assessed.signals.language,
            &assessed.assessment,
        ) {
            return Ok(());
        }
        let t = Instant::now();
        let mut truncated = false;
        let status = match transformer.submit(model_text(&comment.text, &assessed.text)) {
            Err(Busy) if cascade.when_busy == WhenBusy::Refuse => return Err(RunError::Busy),
            Err(Busy) => ModelStatus::Busy,
            Ok(answer) => match answer.await {
                Ok(Ok(opinion)) => {
                    transformer
                        .card()
                        .apply(&mut assessed.assessment, &opinion.logits);
                    truncated = opinion.truncated;
                    ModelStatus::Scored
                }
                Ok(Err(_)) | Err(_) => ModelStatus::Failed,
            },
        };
        assessed.stages.push((Stage::Transformer, t.elapsed()));
        assessed.transformer = Some(ModelUse {
            model: transformer.version().to_string(),
            status,
            truncated,
        });
        Ok(())
    }

    /// Every stage but the register and the transformer: CPU only. `now` is the server's clock:
    /// it orders repetition and stands in for a missing `created_at`.
    pub fn decide(&self, comment: &Comment, history: AuthorHistory, now: DateTime<Utc>) -> Outcome {
        let assessed = self.assess(comment, now, true);
        self.conclude(comment, assessed, history, now, true)
    }

    /// Normalisation, signals and the fast path's scores, under the policy in force now. The
    /// repetition memory remembers the comment only when `keep`.
    fn assess(&self, comment: &Comment, now: DateTime<Utc>, keep: bool) -> Assessed {
        let start = Instant::now();
        let mut stages = Vec::with_capacity(6);
        let mut lap = |stage: Stage, since: &mut Instant| {
            stages.push((stage, since.elapsed()));
            *since = Instant::now();
        };
        let mut t = Instant::now();
        let text = normalize(&comment.text);
        lap(Stage::Normalize, &mut t);

        let at = comment.created_at.unwrap_or(now);
        let active = self.policies.load_full();
        let policy = active.policies.for_channel(comment.channel.as_deref());
        let mut signals = signals::extract(&self.lexicons, comment, &text, at);
        if !policy.words.is_empty() {
            // The community's own words: its allowed ones silence the shipped lexicons there.
            let allowed = policy.words.allowed(&text);
            let free = |span: &Span| !allowed.iter().any(|a| a.overlaps(*span));
            signals.profanity.retain(|h| free(&h.span));
            signals.toxic.retain(|h| free(&h.span));
            signals.words = policy.words.find(&comment.text, &text);
        }
        let author = comment.author.as_ref().and_then(|a| a.id.as_deref());
        // Arrival order on the server's clock: a client's created_at cannot move a comment
        // out of the repetition window.
        signals.repetition = self.repetition.observe(
            &comment.id,
            author,
            repetition::fingerprint(&text),
            now,
            keep,
        );
        lap(Stage::Signals, &mut t);

        let assessment = self.scorer.score(&comment.text, &text, &signals);
        lap(Stage::Scoring, &mut t);
        Assessed {
            text,
            signals,
            assessment,
            active,
            at,
            stages,
            start,
            transformer: None,
        }
    }

    /// The policy's decision over what the scorers said.
    fn conclude(
        &self,
        comment: &Comment,
        assessed: Assessed,
        history: AuthorHistory,
        now: DateTime<Utc>,
        keep: bool,
    ) -> Outcome {
        let t = Instant::now();
        let active = Arc::clone(&assessed.active);
        let policy = active.policies.for_channel(comment.channel.as_deref());
        let Assessed {
            text,
            mut signals,
            assessment,
            at,
            mut stages,
            start,
            transformer,
            active: _,
        } = assessed;
        let author = comment.author.as_ref().and_then(|a| a.id.as_deref());
        let mut decision = policy::decide(
            policy,
            &assessment.scores,
            &assessment.intents,
            &signals,
            history,
            signals::explain(&signals),
        );
        // Reports count toward incidents only when kept: a comment the client asked not to
        // store neither opens nor joins one.
        let report = keep
            .then(|| {
                let channel = comment.channel.as_deref();
                incidents::Report::of(&text, &signals, &decision.intents, author, channel, now)
            })
            .flatten();
        let incident_notices = match &report {
            Some(_) if !policy.webhooks.is_empty() => notify::notices(
                &policy.webhooks,
                &[Event::IncidentOpened],
                decision.route.as_ref(),
            ),
            _ => Vec::new(),
        };
        let truncated = signals::cap(&mut signals, &mut decision.reasons);
        let respond_by = policy.respond_by(&decision, at);
        stages.push((Stage::Policy, t.elapsed()));
        // The versions of every model that decided: the fast path's, and the transformer's
        // when it scored the comment.
        let model_version = match &transformer {
            Some(used) if used.status == ModelStatus::Scored => {
                format!("{}+{}", self.scorer.version(), used.model)
            }
            _ => self.scorer.version().to_string(),
        };
        Outcome {
            signals,
            assessment,
            decision,
            respond_by,
            truncated,
            history,
            policy_name: policy.name.clone(),
            policy_version: policy.version,
            model_version,
            case_id: None,
            stages,
            took: start.elapsed(),
            report,
            incident_rules: policy.incidents,
            incident_notices,
            transformer,
        }
    }
}

/// What the fast path found, before the policy decides.
struct Assessed {
    text: NormalizedText,
    signals: Signals,
    assessment: Assessment,
    /// The policies in force when the comment arrived: it is decided under them to the end.
    active: Arc<ActivePolicies>,
    at: DateTime<Utc>,
    stages: Vec<(Stage, Duration)>,
    start: Instant,
    transformer: Option<ModelUse>,
}

/// Runs `f`; a panic in it fails this comment alone.
fn caught<T>(comment: &Comment, f: impl FnOnce() -> T) -> Result<T, RunError> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        RunError::Panicked(format!(
            "scoring {:?}: {}",
            comment.id,
            panic_message(&*panic)
        ))
    })
}

/// How the transformer took part in a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelUse {
    /// The model's version: its name and the start of its checksum.
    pub model: String,
    pub status: ModelStatus,
    /// The text was longer than the model reads; it read the start.
    pub truncated: bool,
}

/// What became of a comment the cascade sent to the transformer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModelStatus {
    /// The model scored it.
    Scored,
    /// The model's queue was full: the fast path answered.
    Busy,
    /// The model failed on it: the fast path answered.
    Failed,
}

/// Puts a group back to counting when its incident's opening did not finish.
struct OpeningGuard<'a> {
    memory: &'a incidents::Memory,
    group: u64,
    /// Cleared once the register has the incident.
    armed: bool,
}

impl Drop for OpeningGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.memory.not_opened(self.group);
        }
    }
}

/// Why a comment got no outcome.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// A defect: scoring this comment panicked. The process and other comments go on.
    #[error("{0}")]
    Panicked(String),
    /// The transformer's queue is full and the policy refuses rather than answer from the
    /// fast path.
    #[error("the transformer model is busy")]
    Busy,
}

/// What a panic said, when it said it with a string.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
