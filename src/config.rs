//! One typed configuration, from the command line and `SEULA_*` environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::signals::repetition;

#[derive(Debug, Parser)]
#[command(
    name = "seula",
    version,
    about = "Moderation and troll triage for social customer service"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service.
    Serve(ServeConfig),
    /// Score JSON Lines requests from a file or stdin, one response line per input line.
    Score(ScoreConfig),
    /// Train the models from labelled JSON Lines (the format of ../shared/data) into a folder.
    Train(TrainConfig),
    /// Score a labelled JSON Lines file and print metrics.
    Eval(EvalConfig),
    /// Write the moderator-decided cases as labelled JSON Lines (the training data's format).
    ExportLabels(ExportConfig),
    /// Show, check and try out policies, for people who keep them in version control.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print everything the register holds of one author as JSON (a data subject's request).
    ExportAuthor {
        /// The author's id, as the inbox sent it (`fb:user:991`).
        id: String,
        #[command(flatten)]
        register: RegisterConfig,
    },
    /// Erase one author from the register: texts, ids and the notes on their cases; counts,
    /// decisions and the audit stay. A running server also forgets them from its repetition
    /// memory when asked over HTTP (`DELETE /v1/authors/ID`); this command cannot reach it.
    EraseAuthor {
        id: String,
        /// Who asked, for the audit.
        #[arg(long, default_value = "seula-cli")]
        by: String,
        #[command(flatten)]
        register: RegisterConfig,
    },
    /// Remove the texts of cases older than their channel's retention period, once.
    Purge {
        #[arg(long, env = "SEULA_RETENTION")]
        retention: crate::register::Retention,
        #[command(flatten)]
        register: RegisterConfig,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum PolicyCommand {
    /// Print a policy in force as TOML (a channel's with what it inherits): the register's when
    /// a database is given, otherwise the policy file's (`--policy`) or the shipped default.
    Show {
        /// `default` or a channel name.
        #[arg(default_value = "default")]
        name: String,
        #[arg(long = "database-url", env = "SEULA_DATABASE_URL")]
        database_url: Option<String>,
        /// A policy file instead of the shipped default.
        #[arg(long, env = "SEULA_POLICY")]
        policy: Option<PathBuf>,
    },
    /// Check a policy file (the default with `[channels.NAME]`), or with `--channel` one channel's
    /// overrides on the shipped default; every problem is printed and the exit status is 1.
    Validate {
        file: PathBuf,
        #[arg(long)]
        channel: Option<String>,
    },
    /// What a candidate would change over the recorded cases: the default (a whole policy
    /// file), or with `--channel` one channel's overrides; prints the replay report.
    Replay {
        file: PathBuf,
        #[arg(long)]
        channel: Option<String>,
        /// Cases recorded at or after this time (RFC 3339 or a date, 2026-11-19).
        #[arg(long)]
        since: Option<String>,
        #[command(flatten)]
        register: RegisterConfig,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ExportConfig {
    /// Where to write the JSON Lines; standard output when absent.
    #[arg(long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub register: RegisterConfig,
}

#[derive(Debug, Clone, Args)]
pub struct TrainConfig {
    /// The folder of labelled data (sentiment_en/fi, offensive_en, hate_en, complaints_en,
    /// toxicity_en_jigsaw, toxicity_fi_mt).
    #[arg(long)]
    pub data: PathBuf,
    /// The project's own labelled Finnish comments.
    #[arg(long, default_value = "fixtures/labelled_fi.jsonl")]
    pub own: PathBuf,
    /// The project's labelled Suomi24 sentences (toxicity family).
    #[arg(long, default_value = "training/data/toxicity_fi_s24.jsonl")]
    pub forum: PathBuf,
    /// The project's labelled intent set (Finnish and English comments).
    #[arg(long, default_value = "training/data/intents.jsonl")]
    pub intents: PathBuf,
    /// Moderators' decisions, as `seula export-labels` writes them: each label a decision carries
    /// becomes a training row in the comment's language.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// How much one row of --labels counts against one row of the public data.
    #[arg(long, default_value_t = 2.0)]
    pub labels_weight: f64,
    /// The PyPI wheel `spacy-fi-experimental-web-md` 0.15.0, whose floret table becomes the
    /// subword vectors (`pip download spacy-fi-experimental-web-md==0.15.0 --no-deps`).
    #[arg(long)]
    pub floret_wheel: PathBuf,
    /// Dimensions of the subword vectors kept (principal components of the floret table); 0
    /// trains without them.
    #[arg(long, default_value_t = 64)]
    pub vector_dims: usize,
    /// The subword tokenizer: used when the file exists, else trained on the data and written
    /// there (a new one differs run to run, so keeping it keeps training reproducible).
    #[arg(long, default_value = "training/tokenizer.json")]
    pub tokenizer: PathBuf,
    /// Where to write the models and their manifest.
    #[arg(long, default_value = "models")]
    pub out: PathBuf,
    /// Text features kept per language (the most frequent).
    #[arg(long, default_value_t = 262_144)]
    pub vocabulary: usize,
    /// Word pieces the subword tokenizer learns.
    #[arg(long, default_value_t = 12_000)]
    pub tokenizer_vocabulary: usize,
    /// Folds of the cross-validation that chooses, calibrates and measures each model.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Regularisation strengths (C) that cross-validation chooses from, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    pub c_grid: Vec<f64>,
    /// L-BFGS iterations per model.
    #[arg(long, default_value_t = 100)]
    pub max_iterations: u64,
    /// Read at most this many rows of each file: a quick run on a sample.
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Args)]
pub struct EvalConfig {
    /// A labelled JSON Lines file to score and measure: `text` plus `label` (sentiment) and/or
    /// yes/no fields. Without it, `seula eval` prints the models' own table: cross-validation,
    /// development and held-out figures of every head, as training measured them.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub pipeline: PipelineConfig,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "SEULA_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub register: RegisterConfig,
    #[command(flatten)]
    pub pipeline: PipelineConfig,
    #[command(flatten)]
    pub limits: Limits,
    #[command(flatten)]
    pub access: AccessConfig,
    #[command(flatten)]
    pub webhooks: WebhookConfig,
    /// Days each channel keeps case texts: `90`, or `default=90,facebook=30`. Every hour the
    /// server removes older texts, keeping scores, decisions and audit. Unset: texts are kept.
    #[arg(long, env = "SEULA_RETENTION")]
    pub retention: Option<crate::register::Retention>,
}

/// What one client, one connection and one request may take of the server.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// Requests with a body handled at once; more are answered 429 before their body is read.
    #[arg(long, env = "SEULA_MAX_IN_FLIGHT", default_value_t = Limits::DEFAULT.max_in_flight)]
    pub max_in_flight: usize,
    /// Open connections at once; further clients wait in the listen queue.
    #[arg(long, env = "SEULA_MAX_CONNECTIONS", default_value_t = Limits::DEFAULT.max_connections)]
    pub max_connections: usize,
    /// Seconds a connection has to send a request's headers, counted from the end of the
    /// previous answer on a kept-alive connection (so also the idle timeout).
    #[arg(long = "header-timeout", env = "SEULA_HEADER_TIMEOUT", default_value_t = Limits::DEFAULT.header_timeout_secs)]
    pub header_timeout_secs: u64,
    /// Seconds a request has to send its whole body.
    #[arg(long = "body-timeout", env = "SEULA_BODY_TIMEOUT", default_value_t = Limits::DEFAULT.body_timeout_secs)]
    pub body_timeout_secs: u64,
    /// Requests per second to `/v1/` from each client address and each API key; 0 turns the
    /// rate limit off.
    #[arg(long = "rate-limit", env = "SEULA_RATE_LIMIT", default_value_t = Limits::DEFAULT.rate_per_second)]
    pub rate_per_second: u32,
    /// Requests a client may send at once above its rate before it is answered 429.
    #[arg(long, env = "SEULA_RATE_BURST", default_value_t = Limits::DEFAULT.rate_burst)]
    pub rate_burst: u32,
    /// Seconds the requests in flight get to finish after SIGTERM before connections are closed.
    #[arg(long = "shutdown-grace", env = "SEULA_SHUTDOWN_GRACE", default_value_t = Limits::DEFAULT.shutdown_grace_secs)]
    pub shutdown_grace_secs: u64,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_in_flight: 64,
        max_connections: 1024,
        header_timeout_secs: 10,
        body_timeout_secs: 30,
        rate_per_second: 2000,
        rate_burst: 4000,
        shutdown_grace_secs: 10,
    };

    /// Refuses limits that would refuse everything.
    pub fn check(&self) -> Result<(), String> {
        let zero = [
            ("--max-in-flight", self.max_in_flight as u64),
            ("--max-connections", self.max_connections as u64),
            ("--header-timeout", self.header_timeout_secs),
            ("--body-timeout", self.body_timeout_secs),
        ];
        match zero.iter().find(|(_, value)| *value == 0) {
            Some((flag, _)) => Err(format!("{flag} must be at least 1")),
            None => Ok(()),
        }
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs)
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Who may call the service: its API keys, or open local mode.
#[derive(Clone, Default, Args)]
pub struct AccessConfig {
    /// API keys, comma-separated `role:name:key` (roles scorer, moderator, admin; keys of at
    /// least 16 characters). Without keys the service runs in open local mode.
    #[arg(long = "api-keys", env = "SEULA_API_KEYS", hide_env_values = true)]
    pub api_keys: Option<String>,
    /// Serve without API keys on an address other than loopback.
    #[arg(long, env = "SEULA_INSECURE", value_parser = clap::builder::BoolishValueParser::new())]
    pub insecure: bool,
}

/// Never shows a key.
impl std::fmt::Debug for AccessConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessConfig")
            .field("api_keys", &self.api_keys.as_ref().map(|_| "***"))
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// How notifications reach the webhook targets of the policies.
#[derive(Clone, Args)]
pub struct WebhookConfig {
    /// Signing secrets, comma-separated `name:secret` (secrets of at least 16 characters); a
    /// policy's webhook names one as its `secret`. Never shown.
    #[arg(
        long = "webhook-secrets",
        env = "SEULA_WEBHOOK_SECRETS",
        hide_env_values = true
    )]
    pub secrets: Option<String>,
    /// Attempts before a delivery is marked failed.
    #[arg(
        long = "webhook-attempts",
        env = "SEULA_WEBHOOK_ATTEMPTS",
        default_value_t = 8
    )]
    pub attempts: u32,
    /// Milliseconds before the second attempt; each wait after doubles, up to an hour, and is
    /// drawn between half and all of it.
    #[arg(
        long = "webhook-backoff-ms",
        env = "SEULA_WEBHOOK_BACKOFF_MS",
        default_value_t = 2000
    )]
    pub backoff_ms: u64,
    /// Seconds one delivery may take.
    #[arg(
        long = "webhook-timeout",
        env = "SEULA_WEBHOOK_TIMEOUT",
        default_value_t = 10
    )]
    pub timeout_secs: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            secrets: None,
            attempts: 8,
            backoff_ms: 2000,
            timeout_secs: 10,
        }
    }
}

/// Never shows a secret.
impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("secrets", &self.secrets.as_ref().map(|_| "***"))
            .field("attempts", &self.attempts)
            .field("backoff_ms", &self.backoff_ms)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

impl WebhookConfig {
    /// The signing secrets, or why they do not parse (never saying a secret).
    pub fn secrets(&self) -> Result<crate::notify::Secrets, String> {
        self.secrets
            .as_deref()
            .map_or(Ok(Default::default()), str::parse)
    }

    /// Refuses settings that would never deliver or overflow a clock.
    pub fn check(&self) -> Result<(), String> {
        let bounds = [
            ("--webhook-attempts", u64::from(self.attempts), 1, 100),
            ("--webhook-timeout", self.timeout_secs, 1, 600),
            ("--webhook-backoff-ms", self.backoff_ms, 0, 3_600_000),
        ];
        for (flag, value, least, most) in bounds {
            if !(least..=most).contains(&value) {
                return Err(format!("{flag}: {value} is not in {least}..={most}"));
            }
        }
        self.secrets().map(|_| ())
    }

    pub fn settings(&self) -> crate::notify::Settings {
        crate::notify::Settings {
            attempts: self.attempts,
            backoff: std::time::Duration::from_millis(self.backoff_ms),
            timeout: std::time::Duration::from_secs(self.timeout_secs),
            ..crate::notify::Settings::default()
        }
    }
}

/// Refuses to serve without keys on an address other than loopback unless told `--insecure`.
pub fn check_exposure(
    addr: SocketAddr,
    keys_configured: bool,
    insecure: bool,
) -> Result<(), String> {
    if keys_configured || insecure || addr.ip().to_canonical().is_loopback() {
        return Ok(());
    }
    Err(format!(
        "no API keys configured: set SEULA_API_KEYS, or bind a loopback address \
         (--addr 127.0.0.1:{}), or pass --insecure to serve {addr} openly",
        addr.port()
    ))
}

#[derive(Debug, Clone, Args)]
pub struct ScoreConfig {
    /// JSON Lines of score requests; stdin when absent.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Where to write the JSON Lines responses; stdout when absent.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Record the cases in the register (nothing is written without it).
    #[arg(long)]
    pub record: bool,
    #[command(flatten)]
    pub register: RegisterConfig,
    #[command(flatten)]
    pub pipeline: PipelineConfig,
}

#[derive(Clone, Args)]
pub struct RegisterConfig {
    /// The register: `sqlite://PATH` or a plain file path (SQLite), or `postgres://…` (PostgreSQL).
    #[arg(
        long = "database-url",
        env = "SEULA_DATABASE_URL",
        default_value = "sqlite://seula.db"
    )]
    pub database_url: String,
}

/// Never shows a password from the URL.
impl std::fmt::Debug for RegisterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterConfig")
            .field("database_url", &redacted(&self.database_url))
            .finish()
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
fn redacted(url: &str) -> String {
    let userinfo = url
        .find("://")
        .map(|s| s + 3)
        .zip(url.rfind('@'))
        .filter(|(start, at)| start < at);
    match userinfo.and_then(|(start, at)| Some((start, at, url[start..at].find(':')?))) {
        Some((start, at, colon)) => format!("{}:***{}", &url[..start + colon], &url[at..]),
        None => url.to_string(),
    }
}

impl RegisterConfig {
    /// The URL sqlx understands: a plain path becomes `sqlite://PATH`.
    pub fn url(&self) -> String {
        if self.database_url.contains(':') {
            self.database_url.clone()
        } else {
            format!("sqlite://{}", self.database_url)
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct PipelineConfig {
    /// A policy file (TOML, the shape of src/policy/default.toml) instead of the shipped default.
    #[arg(long, env = "SEULA_POLICY")]
    pub policy: Option<PathBuf>,
    /// A folder of trained models (`manifest.json`, `tokenizer.json`, one file per language)
    /// instead of the ones built into the binary.
    #[arg(long, env = "SEULA_MODELS")]
    pub models: Option<PathBuf>,
    /// How far back repetition looks, in hours.
    #[arg(long, env = "SEULA_REPETITION_WINDOW_HOURS", default_value_t = 24)]
    pub repetition_window_hours: u64,
    /// Authors whose recent texts are remembered for repetition (least recently seen forgotten first).
    #[arg(long, env = "SEULA_REPETITION_AUTHORS", default_value_t = 50_000)]
    pub repetition_authors: usize,
    /// A transformer model folder (`model.onnx`, `tokenizer.json`, `seula-model.toml`) for the
    /// comments the policy's cascade sends on after the fast path. Needs ONNX Runtime at
    /// `ORT_DYLIB_PATH`; without it the server scores on the fast path and says so.
    #[arg(long, env = "SEULA_TRANSFORMER")]
    pub transformer: Option<PathBuf>,
    /// Worker threads running the transformer, each with its own session.
    #[arg(long, env = "SEULA_TRANSFORMER_WORKERS", default_value_t = 2)]
    pub transformer_workers: usize,
    /// ONNX Runtime's threads per transformer worker.
    #[arg(long, env = "SEULA_TRANSFORMER_THREADS", default_value_t = 1)]
    pub transformer_threads: usize,
    /// Comments the transformer scores in one run, at most.
    #[arg(long, env = "SEULA_TRANSFORMER_BATCH", default_value_t = 32)]
    pub transformer_batch: usize,
    /// How long a batch short of one run of the model (the card's `rows_per_run`) waits for
    /// more comments after its first, in milliseconds.
    #[arg(long, env = "SEULA_TRANSFORMER_WAIT_MS", default_value_t = 2)]
    pub transformer_wait_ms: u64,
    /// Comments waiting for the transformer, at most; more are busy (the policy's
    /// `cascade.when_busy` says whether they get the fast path's answer or 429).
    #[arg(long, env = "SEULA_TRANSFORMER_QUEUE", default_value_t = 256)]
    pub transformer_queue: usize,
}

impl PipelineConfig {
    /// The transformer tier's settings, when a model folder is given.
    pub fn transformer(&self) -> Option<crate::transformer::Settings> {
        Some(crate::transformer::Settings {
            dir: self.transformer.clone()?,
            workers: self.transformer_workers,
            threads: self.transformer_threads,
            batch: self.transformer_batch,
            wait: Duration::from_millis(self.transformer_wait_ms),
            queue: self.transformer_queue,
        })
    }

    pub fn repetition(&self) -> repetition::Config {
        repetition::Config {
            window: Duration::from_secs(self.repetition_window_hours * 3600),
            max_authors: self.repetition_authors,
            max_buckets: self.repetition_authors * 2,
            ..repetition::Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_that_would_refuse_everything_are_refused_by_name() {
        assert_eq!(Limits::DEFAULT.check(), Ok(()));
        let none_in_flight = Limits {
            max_in_flight: 0,
            ..Limits::DEFAULT
        };
        assert_eq!(
            none_in_flight.check(),
            Err("--max-in-flight must be at least 1".into())
        );
        let no_time = Limits {
            body_timeout_secs: 0,
            ..Limits::DEFAULT
        };
        assert_eq!(
            no_time.check(),
            Err("--body-timeout must be at least 1".into())
        );
    }

    #[test]
    fn without_keys_only_loopback_is_served_unless_insecure() {
        let cases = [
            ("127.0.0.1:8080", false, false, true),
            ("127.0.0.2:8080", false, false, true),
            ("[::1]:8080", false, false, true),
            ("[::ffff:127.0.0.1]:8080", false, false, true),
            ("0.0.0.0:8080", false, false, false),
            ("[::]:8080", false, false, false),
            ("192.168.1.10:8080", false, false, false),
            ("0.0.0.0:8080", true, false, true),
            ("0.0.0.0:8080", false, true, true),
            ("[::]:8080", true, true, true),
        ];
        for (addr, keys, insecure, ok) in cases {
            let addr: SocketAddr = addr.parse().expect("addr");
            let got = check_exposure(addr, keys, insecure);
            assert_eq!(
                got.is_ok(),
                ok,
                "{addr} keys={keys} insecure={insecure}: {got:?}"
            );
        }
        let error = check_exposure("0.0.0.0:8080".parse().expect("addr"), false, false)
            .expect_err("refused");
        for part in [
            "no API keys configured",
            "SEULA_API_KEYS",
            "loopback",
            "--insecure",
        ] {
            assert!(error.contains(part), "{error}");
        }
    }

    #[test]
    fn debug_output_hides_keys() {
        let config = AccessConfig {
            api_keys: Some("admin:ops:s3cret-s3cret-s3cret".into()),
            insecure: false,
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("ops"),
            "{shown}"
        );
    }

    #[test]
    fn debug_output_hides_passwords() {
        let cases = [
            (
                "postgres://seula:s3cret@db:5432/seula",
                "postgres://seula:***@db:5432/seula",
            ),
            ("postgres://seula@db/seula", "postgres://seula@db/seula"),
            ("sqlite://seula.db", "sqlite://seula.db"),
            ("seula.db", "seula.db"),
        ];
        for (url, want) in cases {
            let config = RegisterConfig {
                database_url: url.into(),
            };
            assert_eq!(redacted(url), want);
            assert!(!format!("{config:?}").contains("s3cret"));
        }
    }
}
