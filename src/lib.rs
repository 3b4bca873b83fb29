//! Seula: moderation and troll triage for social customer service, in Finnish and English.
//!
//! The crate follows the data, one module per stage:
//!
//! - [`api`]: HTTP wire types and handlers; [`config`]: the typed configuration.
//! - [`normalize`]: raw text to folded tokens with spans back into the original.
//! - [`signals`]: explainable facts (profanity, style, repetition, account, writing, urgency).
//! - [`scoring`]: the [`scoring::Scorer`] seam turning signals into calibrated scores.
//! - [`policy`]: thresholds as data; `decide` picks action, priority, route and reasons.
//! - [`register`]: the only module with SQL; cases, authors, audit, the notifications' outbox.
//! - [`notify`]: the outbox's deliveries sent to webhook targets, signed and retried.
//! - [`pipeline`]: the stages in order, shared by the server and `seula score`.
//! - [`transformer`]: the transformer tier (ONNX Runtime, batched on worker threads) that the
//!   policy's cascade sends comments to after the fast path.

pub mod api;
pub mod config;
pub mod domain;
pub mod eval;
pub mod features;
pub mod incidents;
pub mod normalize;
pub mod notify;
pub mod pipeline;
pub mod policy;
pub mod register;
pub mod scoring;
pub mod signals;
pub mod stats;
pub mod train;
pub mod transformer;

use std::sync::Arc;

use anyhow::Context;
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use api::auth::{ApiKeys, Role};
use api::error::ApiError;
use api::wire::{self, ItemError, ScoreResponse};
use config::{
    EvalConfig, ExportConfig, PipelineConfig, PolicyCommand, RegisterConfig, ScoreConfig,
    ServeConfig, TrainConfig,
};
use pipeline::{ActivePolicies, Pipeline, RunError};
use policy::{Policies, Sources};
use register::{Register, Retention};
use scoring::learned::LearnedScorer;
use transformer::Transformer;

/// The policy file at `path`, or the shipped default, split into sources.
pub fn policy_file(path: Option<&std::path::Path>) -> anyhow::Result<Sources> {
    match path {
        Some(path) => {
            let source = std::fs::read_to_string(path)
                .with_context(|| format!("reading policy {}", path.display()))?;
            Sources::from_file(&source)
                .map_err(|e| anyhow::anyhow!("policy {}: {e}", path.display()))
        }
        None => Sources::from_file(include_str!("policy/default.toml"))
            .map_err(|e| anyhow::anyhow!("shipped policy: {e}")),
    }
}

/// The policies to decide by: with a register, the register's policies in force (the
/// configured file seeds the register's first version of each policy it has none of);
/// without one, the file.
pub async fn policy_sources(
    path: Option<&std::path::Path>,
    register: Option<&Register>,
) -> anyhow::Result<Sources> {
    let file = policy_file(path)?;
    let Some(register) = register else {
        return Ok(file);
    };
    let note = match path {
        Some(path) => format!("from {}", path.display()),
        None => "the shipped default".to_string(),
    };
    register.seed_policies(&file, &note).await?;
    Ok(register.active_policies().await?.unwrap_or(file))
}

/// The pipeline the configuration asks for: the shipped lexicons and scorer, these policies.
pub fn build_pipeline(config: &PipelineConfig, sources: Sources) -> anyhow::Result<Pipeline> {
    let policies = ActivePolicies::resolve(sources).map_err(|e| anyhow::anyhow!("policy: {e}"))?;
    let scorer = LearnedScorer::load(config.models.as_deref()).map_err(|e| anyhow::anyhow!(e))?;
    let pipeline = Pipeline::new(policies, config.repetition(), Box::new(scorer))
        .map_err(|e| anyhow::anyhow!(e))?;
    let Some(settings) = config.transformer() else {
        return Ok(pipeline);
    };
    match Transformer::load(&settings) {
        Ok(transformer) => {
            tracing::info!(model = transformer.version(), "the transformer tier is on");
            Ok(pipeline.with_transformer(transformer))
        }
        // Without the runtime the fast path answers everything; said once, here.
        Err(e @ transformer::LoadError::Runtime(_)) => {
            tracing::warn!(
                "{e}: the transformer tier is off, every comment is scored on the fast path"
            );
            Ok(pipeline)
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

/// Everything the server needs, ready to route. Refuses, before loading anything, keys that do
/// not parse and an address other than loopback without keys (unless `--insecure`).
pub async fn app_state(config: &ServeConfig) -> anyhow::Result<api::AppState> {
    config.limits.check().map_err(anyhow::Error::msg)?;
    config.webhooks.check().map_err(anyhow::Error::msg)?;
    notify::install_tls();
    let keys = access(config)?;
    let register = Register::connect(&config.register.url()).await?;
    let sources = policy_sources(config.pipeline.policy.as_deref(), Some(&register)).await?;
    let pipeline = build_pipeline(&config.pipeline, sources)?;
    restore_incidents(&pipeline, &register).await?;
    let secrets = config.webhooks.secrets().map_err(anyhow::Error::msg)?;
    for problem in unknown_secrets(&pipeline.policies().policies, &secrets) {
        tracing::warn!("{problem}: its deliveries fail until the secret is given");
    }
    let metrics = api::metrics::Metrics::new(pipeline.transformer().map(Transformer::meters));
    Ok(api::AppState {
        metrics: Arc::new(metrics),
        outbox: Arc::new(notify::Outbox::new(config.webhooks.settings(), secrets)),
        pipeline: Arc::new(pipeline),
        register,
        in_flight: Arc::new(Semaphore::new(config.limits.max_in_flight)),
        rates: api::limits::Rates::new(&config.limits),
        limits: Arc::new(config.limits.clone()),
        keys: Arc::new(keys),
        policy_changes: Arc::default(),
    })
}

/// The register's open incidents, for later reports to join.
async fn restore_incidents(pipeline: &Pipeline, register: &Register) -> anyhow::Result<()> {
    let open = register.open_incidents().await?;
    for incident in &open {
        pipeline.restore_incident(incident);
    }
    if !open.is_empty() {
        tracing::info!(incidents = open.len(), "open incidents restored");
    }
    Ok(())
}

/// Each webhook of the policies whose secret the server was not given, with its path.
pub fn unknown_secrets(policies: &Policies, secrets: &notify::Secrets) -> Vec<String> {
    policies
        .webhooks()
        .filter(|(_, w)| !w.secret.as_deref().is_some_and(|s| secrets.has(s)))
        .map(|(path, w)| {
            format!(
                "{path}.secret: no secret named {:?} is configured (SEULA_WEBHOOK_SECRETS)",
                w.secret.as_deref().unwrap_or_default()
            )
        })
        .collect()
}

/// The API keys, checked against the address, with a log line saying which mode serves.
fn access(config: &ServeConfig) -> anyhow::Result<ApiKeys> {
    let keys = match &config.access.api_keys {
        Some(spec) => ApiKeys::parse(spec).map_err(anyhow::Error::msg)?,
        None => ApiKeys::open(),
    };
    config::check_exposure(config.addr, !keys.is_open(), config.access.insecure)
        .map_err(anyhow::Error::msg)?;
    if !keys.is_open() {
        tracing::info!(
            scorer = keys.count(Role::Scorer),
            moderator = keys.count(Role::Moderator),
            admin = keys.count(Role::Admin),
            "API keys required"
        );
    } else if config.addr.ip().to_canonical().is_loopback() {
        tracing::info!("open local mode: no API keys, every request is the local admin");
    } else {
        tracing::warn!(addr = %config.addr, "no API keys and not loopback (--insecure): anyone who reaches this address is admin");
    }
    Ok(keys)
}

/// Serves until `shutdown` completes, then finishes the requests in flight; with a `retention`,
/// removes texts past it every hour.
pub async fn serve(
    listener: TcpListener,
    state: api::AppState,
    retention: Option<Retention>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    tracing::info!(
        addr = %listener.local_addr()?,
        repetition_bound_mib = state.pipeline.repetition_bound_bytes() as f64 / (1 << 20) as f64,
        "seula listening"
    );
    if let Some(rates) = state.rates.clone() {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                rates.forget_idle();
            }
        });
    }
    if let Some(retention) = retention.filter(|r| !r.is_empty()) {
        let register = state.register.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                every.tick().await;
                match register.purge_texts(&retention, chrono::Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(texts = n, "texts past their retention removed"),
                    Err(e) => {
                        tracing::warn!(error = %e, "retention purge failed; retrying in an hour")
                    }
                }
            }
        });
    }
    tokio::spawn(state.outbox.clone().run(
        state.register.clone(),
        state.metrics.clone(),
        state.pipeline.clone(),
    ));
    let (limits, metrics) = (state.limits.clone(), state.metrics.clone());
    api::server::serve(listener, api::router(state), &limits, metrics, shutdown).await?;
    Ok(())
}

/// `seula score`: JSON Lines in, JSON Lines out, one line for each, in order.
pub async fn score_lines(config: &ScoreConfig) -> anyhow::Result<()> {
    let register = match config.record {
        true => Some(Register::connect(&config.register.url()).await?),
        false => None,
    };
    let sources = policy_sources(config.pipeline.policy.as_deref(), register.as_ref()).await?;
    let pipeline = build_pipeline(&config.pipeline, sources)?;
    if let Some(register) = &register {
        restore_incidents(&pipeline, register).await?;
    }
    let input: Box<dyn tokio::io::AsyncRead + Unpin + Send> = match &config.input {
        Some(path) => Box::new(
            tokio::fs::File::open(path)
                .await
                .with_context(|| format!("opening {}", path.display()))?,
        ),
        None => Box::new(tokio::io::stdin()),
    };
    let mut output = open_output(config.output.as_deref()).await?;
    // Lines as bytes: a line that is not UTF-8 gets its error line like any malformed one.
    // Up to `in_flight` lines are scored at once (so the transformer's batches fill) and
    // answered in their order; a line is answered as soon as it and those before it are done.
    let in_flight = pipeline.in_flight();
    let mut lines = BufReader::new(input).split(b'\n');
    let mut pending = FuturesOrdered::new();
    let mut reading = true;
    while reading || !pending.is_empty() {
        tokio::select! {
            line = lines.next_segment(), if reading && pending.len() < in_flight => {
                match line? {
                    Some(line) => pending.push_back(score_line(&pipeline, register.as_ref(), line)),
                    None => reading = false,
                }
            }
            Some(json) = pending.next(), if !pending.is_empty() => {
                let mut json = json?;
                json.push('\n');
                output.write_all(json.as_bytes()).await?;
            }
        }
    }
    output.flush().await?;
    Ok(())
}

/// One line's answer: a response, or the line's error. Only a register fault stops the run.
async fn score_line(
    pipeline: &Pipeline,
    register: Option<&Register>,
    mut line: Vec<u8>,
) -> anyhow::Result<String> {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    let parsed = if line.iter().all(u8::is_ascii_whitespace) {
        Err(ApiError::MalformedJson("empty line".into()))
    } else {
        wire::parse_json(&line)
    };
    let value = match parsed {
        Ok(v) => v,
        Err(e) => {
            return Ok(serde_json::to_string(&ItemError::new(
                serde_json::Value::Null,
                &e,
            ))?);
        }
    };
    let id = wire::id_of(&value);
    match wire::comment_from_value(value) {
        Ok(comment) => match pipeline.run(&comment, register).await {
            Ok(outcome) => Ok(serde_json::to_string(&ScoreResponse::new(
                comment.id, outcome,
            ))?),
            Err(RunError::Register(e)) => Err(e.into()),
            Err(e) => {
                if let RunError::Panicked(message) = &e {
                    tracing::error!(%message, "scoring panicked");
                }
                Ok(serde_json::to_string(&ItemError::new(
                    id,
                    &ApiError::from(e),
                ))?)
            }
        },
        Err(e) => Ok(serde_json::to_string(&ItemError::new(id, &e))?),
    }
}

/// `seula train`: trains the models and writes them with their manifest.
pub fn train(config: &TrainConfig) -> anyhow::Result<scoring::learned::Manifest> {
    train::train(&train::Options {
        data: config.data.clone(),
        own: config.own.clone(),
        forum: config.forum.clone(),
        intents: config.intents.clone(),
        labels: config.labels.clone(),
        labels_weight: config.labels_weight,
        floret_wheel: config.floret_wheel.clone(),
        vector_dims: config.vector_dims,
        tokenizer: config.tokenizer.clone(),
        out: config.out.clone(),
        vocabulary: config.vocabulary,
        tokenizer_vocabulary: config.tokenizer_vocabulary,
        folds: config.folds,
        c_grid: config.c_grid.clone(),
        max_iterations: config.max_iterations,
        limit: config.limit,
    })
}

/// The file at `path`, created or truncated, or standard output.
async fn open_output(
    path: Option<&std::path::Path>,
) -> anyhow::Result<Box<dyn AsyncWrite + Unpin + Send>> {
    Ok(match path {
        Some(path) => Box::new(
            tokio::fs::File::create(path)
                .await
                .with_context(|| format!("creating {}", path.display()))?,
        ),
        None => Box::new(tokio::io::stdout()),
    })
}

/// `seula export-labels`: each moderator-decided case as one line in the training data's format
/// (`id`, `text` with personal data masked, `language`, the labels of its latest decision such
/// as `insult: true` or `label: "negative"`), plus `decision`, `channel`, `decided_at` and
/// `source`.
pub async fn export_labels(config: &ExportConfig) -> anyhow::Result<()> {
    let register = Register::connect(&config.register.url()).await?;
    let mut output = open_output(config.output.as_deref()).await?;
    let cases = register.labelled().await?;
    for case in &cases {
        let mut line = serde_json::json!({
            "id": case.comment_id, "text": case.text, "language": case.language,
            "channel": case.channel, "decision": case.decision, "decided_at": case.decided_at,
            "source": "seula-register",
        });
        if let Some(fields) = line.as_object_mut() {
            fields.extend(case.labels.0.clone());
        }
        output.write_all(format!("{line}\n").as_bytes()).await?;
    }
    output.flush().await?;
    tracing::info!(cases = cases.len(), "labels exported");
    Ok(())
}

/// `seula export-author ID`: everything held of one author, as JSON on standard output.
pub async fn export_author(register: &RegisterConfig, id: &str) -> anyhow::Result<()> {
    let register = Register::connect(&register.url()).await?;
    let export = register
        .export_author(id)
        .await?
        .with_context(|| format!("the register holds nothing of author {id:?}"))?;
    println!("{}", serde_json::to_string_pretty(&export)?);
    Ok(())
}

/// `seula erase-author ID`: erases one author, printing what was erased as JSON.
pub async fn erase_author(register: &RegisterConfig, id: &str, by: &str) -> anyhow::Result<()> {
    let register = Register::connect(&register.url()).await?;
    let erasure = register
        .erase_author(id, by)
        .await?
        .with_context(|| format!("the register holds nothing of author {id:?}"))?;
    println!("{}", serde_json::to_string(&erasure)?);
    Ok(())
}

/// `seula purge`: removes the texts past their channel's retention, once.
pub async fn purge(register: &RegisterConfig, retention: &Retention) -> anyhow::Result<()> {
    let register = Register::connect(&register.url()).await?;
    let purged = register.purge_texts(retention, chrono::Utc::now()).await?;
    println!("{}", serde_json::json!({ "texts_removed": purged }));
    Ok(())
}

/// `seula policy …`: show a policy in force as TOML, or check a policy file.
pub async fn policy_command(command: &PolicyCommand) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Show {
            name,
            database_url,
            policy,
        } => {
            let register = match database_url {
                Some(url) => {
                    let config = RegisterConfig {
                        database_url: url.clone(),
                    };
                    Some(Register::connect(&config.url()).await?)
                }
                None => None,
            };
            let sources = policy_sources(policy.as_deref(), register.as_ref()).await?;
            let policies =
                Policies::resolve(&sources).map_err(|e| anyhow::anyhow!("policy: {e}"))?;
            let policy = policies.named(name).with_context(|| {
                format!("no policy {name:?} (default or a channel with its own)")
            })?;
            print!("{}", toml::to_string(policy)?);
            Ok(())
        }
        PolicyCommand::Replay {
            file,
            channel,
            since,
            register,
        } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let since = since.as_deref().map(parse_time).transpose()?;
            let register = Register::connect(&register.url()).await?;
            let active = policy_sources(None, Some(&register)).await?;
            let (name, sources) = match channel {
                Some(name) => (
                    name.as_str(),
                    active.with(
                        name,
                        policy::Source {
                            version: 0,
                            toml: text,
                        },
                    ),
                ),
                None => {
                    let file = Sources::from_file(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
                    (policy::DEFAULT, active.with(policy::DEFAULT, file.default))
                }
            };
            let policies = Policies::resolve(&sources)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let candidate = policies
                .named(name)
                .context("the candidate names no policy")?;
            let cases = register.recorded(since, None).await?;
            let report = policy::replay::replay(
                candidate,
                policy::replay::decided_by(name, &sources, &cases),
            );
            print!("{}", render_replay(name, &report));
            Ok(())
        }
        PolicyCommand::Validate { file, channel } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let sources = match channel {
                Some(name) => policy_file(None)?.with(
                    name,
                    policy::Source {
                        version: 1,
                        toml: text,
                    },
                ),
                None => Sources::from_file(&text).map_err(|e| anyhow::anyhow!("{e}"))?,
            };
            match Policies::resolve(&sources) {
                Ok(_) => {
                    let names: Vec<&str> = sources.iter().map(|(n, _)| n).collect();
                    println!("{}: valid ({})", file.display(), names.join(", "));
                    Ok(())
                }
                Err(problems) => {
                    for problem in problems.split("; ") {
                        eprintln!("{}: {problem}", file.display());
                    }
                    anyhow::bail!("{} is not a valid policy", file.display())
                }
            }
        }
    }
}

/// A time given as RFC 3339 or as a date (midnight UTC).
fn parse_time(text: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("{text:?} is neither RFC 3339 nor a date (2026-11-19)"))?;
    Ok(date.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// A replay report as text: the changes, their examples, agreement with moderators, channels.
fn render_replay(name: &str, report: &policy::replay::Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let c = report.changed;
    let _ = writeln!(
        out,
        "policy {name}: {} recorded cases; action changes for {}, priority for {}, route for {}",
        report.cases, c.action, c.priority, c.route
    );
    for cell in report.matrix.action.iter().filter(|c| c.from != c.to) {
        let ids = report
            .examples
            .iter()
            .find(|e| e.from == cell.from && e.to == cell.to)
            .map(|e| {
                e.ids
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:>12} -> {:<12} {:>7}   e.g. cases {ids}",
            cell.from.as_str(),
            cell.to.as_str(),
            cell.count
        );
    }
    let a = &report.agreement;
    let _ = writeln!(
        out,
        "agreement with moderators over {} decided cases (precision / recall):",
        a.support
    );
    let pr = |c: &policy::replay::Confusion| {
        let f = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.2}"));
        format!("{} / {}", f(c.precision), f(c.recall))
    };
    for (level, compared) in [
        ("review", &a.review),
        ("hide", &a.hide),
        ("delete", &a.delete),
    ] {
        let _ = writeln!(
            out,
            "  {level:<7} now {:<12} candidate {}",
            pr(&compared.recorded),
            pr(&compared.candidate)
        );
    }
    for channel in &report.per_channel {
        let _ = writeln!(
            out,
            "  channel {}: {} cases, {} action changes",
            channel.channel, channel.cases, channel.changed.action
        );
    }
    out
}

/// `seula eval`: metrics of the configured pipeline on one labelled file, or the models' own
/// table of measures, printed to stdout.
pub async fn evaluate(config: &EvalConfig) -> anyhow::Result<()> {
    let Some(data) = &config.data else {
        let manifest: scoring::learned::Manifest = match &config.pipeline.models {
            Some(dir) => {
                let path = dir.join(scoring::learned::MANIFEST);
                serde_json::from_slice(
                    &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
                )
                .with_context(|| format!("{}: not a models manifest", path.display()))?
            }
            None => scoring::learned::embedded_manifest().map_err(anyhow::Error::msg)?,
        };
        print!("{}", eval::render_manifest(&manifest));
        return Ok(());
    };
    let pipeline = build_pipeline(
        &config.pipeline,
        policy_file(config.pipeline.policy.as_deref())?,
    )?;
    let report = eval::evaluate(&pipeline, data).await?;
    let version = match pipeline.transformer() {
        Some(transformer) => format!(
            "{}, transformer {}",
            pipeline.model_version(),
            transformer.version()
        ),
        None => pipeline.model_version().to_string(),
    };
    print!("{}", eval::render(data, &version, &report));
    Ok(())
}
