//! The transformer tier, at the edge: a sequence-classification model in ONNX, run by ONNX
//! Runtime on a fixed pool of worker threads, off the async runtime.
//!
//! A model folder holds `model.onnx`, `tokenizer.json` (Hugging Face's format, run with the
//! `tokenizers` crate) and `seula-model.toml` (its card, `scoring::card`). ONNX Runtime is loaded
//! at run time from `ORT_DYLIB_PATH` (the PyPI wheel `onnxruntime==1.31.1` carries it); nothing
//! downloads. [`Transformer::load`] refuses a folder that does not match its card, and tells a
//! missing runtime apart ([`LoadError::Runtime`]) so the server can go on with the fast path.
//!
//! Comments wait in one bounded queue; a worker takes the first and those waiting behind it (for
//! a model that reads texts together, it waits a moment for one run's worth), runs them in
//! groups of similar length, and answers each through its own channel. A full queue is said at
//! once ([`Busy`]), never waited out.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::Tensor;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use tokenizers::{Encoding, Tokenizer, TruncationParams};
use tokio::sync::oneshot;

use crate::scoring::card::Card;
use crate::scoring::learned::sha256_hex;

/// How the tier runs: `seula serve --transformer DIR` and the flags beside it.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dir: PathBuf,
    /// Worker threads, each with its own session.
    pub workers: usize,
    /// ONNX Runtime's threads per session.
    pub threads: usize,
    /// Comments scored in one run of the model, at most.
    pub batch: usize,
    /// How long a worker waits for one run's worth of comments after its first.
    pub wait: Duration,
    /// Comments waiting, at most; one more is refused as busy.
    pub queue: usize,
}

/// Why the tier did not start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// ONNX Runtime is missing or unusable: the server can score on the fast path.
    #[error("ONNX Runtime did not load: {0}")]
    Runtime(String),
    /// The folder does not hold a model that matches its card: refused.
    #[error("the model folder {}: {message}", dir.display())]
    Folder { dir: PathBuf, message: String },
}

/// The model's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// What the model said of one comment.
#[derive(Debug, Clone)]
pub struct Opinion {
    /// Each output's logits, in the card's order.
    pub logits: Vec<Vec<f32>>,
    /// The text was longer than the model reads and was cut.
    pub truncated: bool,
}

struct Job {
    text: String,
    answer: oneshot::Sender<Result<Opinion, String>>,
}

pub struct Transformer {
    card: Arc<Card>,
    version: String,
    jobs: SyncSender<Job>,
    /// Comments the queue holds.
    capacity: usize,
    meters: Meters,
}

impl std::fmt::Debug for Transformer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transformer")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The one ONNX Runtime environment of the process, loaded on first use.
fn environment() -> Result<&'static ort::environment::Environment, LoadError> {
    static ENVIRONMENT: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();
    ENVIRONMENT
        .get_or_init(|| {
            let path = std::env::var_os("ORT_DYLIB_PATH").ok_or(
                "ORT_DYLIB_PATH is not set: point it at libonnxruntime.so.1.31.1 from the PyPI \
                 wheel onnxruntime==1.31.1 (training/transformer/prepare.sh prints it)",
            )?;
            // A library that cannot be opened or is of another version is an error here, not a
            // panic later.
            let builder = ort::init_from(&path)
                .map_err(|e| format!("{}: {e}", Path::new(&path).display()))?;
            builder
                .with_name("seula")
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| LoadError::Runtime(e.clone()))
}

fn session(
    environment: &ort::environment::Environment,
    dir: &Path,
    threads: usize,
) -> ort::Result<Session> {
    Session::builder(environment)?
        .with_optimization_level(GraphOptimizationLevel::Level3)?
        .with_intra_threads(threads)?
        .with_inter_threads(1)?
        .commit_from_file(dir.join("model.onnx"))
}

/// The graph's inputs Seula can feed.
const INPUTS: [&str; 3] = ["input_ids", "attention_mask", "token_type_ids"];

impl Transformer {
    /// Reads the folder, checks it against its card, starts the workers.
    pub fn load(settings: &Settings) -> Result<Self, LoadError> {
        let dir = &settings.dir;
        let folder = |message: String| LoadError::Folder {
            dir: dir.clone(),
            message,
        };
        let read =
            |name: &str| std::fs::read(dir.join(name)).map_err(|e| folder(format!("{name}: {e}")));
        let card_text = String::from_utf8(read("seula-model.toml")?)
            .map_err(|_| folder("seula-model.toml is not UTF-8".into()))?;
        let card = Card::parse(&card_text).map_err(|e| folder(format!("seula-model.toml: {e}")))?;
        for (name, expected) in [
            ("model.onnx", &card.files.model),
            ("tokenizer.json", &card.files.tokenizer),
        ] {
            let actual = sha256_hex(&read(name)?);
            if !actual.eq_ignore_ascii_case(expected) {
                return Err(folder(format!(
                    "{name} does not match its card: SHA-256 {actual}, the card says {expected}"
                )));
            }
        }
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| folder(format!("tokenizer.json: {e}")))?;
        let pad = tokenizer.get_padding().map_or(0, |p| p.pad_id);
        tokenizer
            .with_padding(None)
            .with_truncation(Some(TruncationParams {
                max_length: card.max_length,
                ..TruncationParams::default()
            }))
            .map_err(|e| folder(format!("tokenizer.json: {e}")))?;
        if settings.workers == 0 || settings.batch == 0 || settings.queue == 0 {
            return Err(folder(
                "--transformer-workers, --transformer-batch and --transformer-queue must be at \
                 least 1"
                    .into(),
            ));
        }

        // Every ort call before the runtime has loaded would panic: the runtime first.
        let environment = environment()?;
        let mut sessions = Vec::with_capacity(settings.workers);
        for _ in 0..settings.workers {
            let session = session(environment, dir, settings.threads.max(1))
                .map_err(|e| folder(format!("model.onnx: {e}")))?;
            sessions.push(session);
        }
        let graph = &sessions[0];
        let inputs: Vec<String> = graph
            .inputs()
            .iter()
            .map(|i| i.name().to_string())
            .collect();
        if let Some(unknown) = inputs.iter().find(|i| !INPUTS.contains(&i.as_str())) {
            return Err(folder(format!(
                "model.onnx takes an input {unknown:?}; Seula feeds only {}",
                INPUTS.join(", ")
            )));
        }
        if !inputs.iter().any(|i| i == "input_ids") {
            return Err(folder("model.onnx takes no input_ids".into()));
        }
        for (i, output) in card.outputs.iter().enumerate() {
            let Some(outlet) = graph.outputs().iter().find(|o| o.name() == output.name) else {
                let names: Vec<&str> = graph.outputs().iter().map(|o| o.name()).collect();
                return Err(folder(format!(
                    "outputs[{i}].name: model.onnx has no output {:?} (it has {})",
                    output.name,
                    names.join(", ")
                )));
            };
            let width = outlet
                .dtype()
                .tensor_shape()
                .and_then(|s| s.last().copied());
            if width.is_some_and(|w| w >= 0 && w as usize != output.labels.len()) {
                return Err(folder(format!(
                    "outputs[{i}].labels: {} labels, but {:?} gives {} values per comment",
                    output.labels.len(),
                    output.name,
                    width.unwrap_or_default()
                )));
            }
        }

        let version = format!("{}-{}", card.name, &card.files.model[..12]);
        let card = Arc::new(card);
        let meters = Meters::default();
        let (jobs, queue) = std::sync::mpsc::sync_channel(settings.queue);
        let queue = Arc::new(Mutex::new(queue));
        let tokenizer = Arc::new(tokenizer);
        for (n, session) in sessions.into_iter().enumerate() {
            let worker = Worker {
                queue: Arc::clone(&queue),
                session,
                inputs: inputs.clone(),
                tokenizer: Arc::clone(&tokenizer),
                card: Arc::clone(&card),
                pad,
                batch: settings.batch,
                wait: settings.wait,
                meters: meters.clone(),
            };
            std::thread::Builder::new()
                .name(format!("seula-transformer-{n}"))
                .spawn(move || worker.run())
                .map_err(|e| folder(format!("starting a worker: {e}")))?;
        }
        Ok(Self {
            card,
            version,
            jobs,
            capacity: settings.queue,
            meters,
        })
    }

    /// Comments that can wait for the model at once; one more is busy.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn card(&self) -> &Card {
        &self.card
    }

    /// The model's name and the start of its checksum, as responses and cases give it.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn meters(&self) -> &Meters {
        &self.meters
    }

    /// Queues a comment; the answer comes on the receiver. A full queue is [`Busy`] at once.
    /// `text` as the model reads it: `normalize::model_text`.
    pub fn submit(&self, text: String) -> Result<oneshot::Receiver<Result<Opinion, String>>, Busy> {
        let (answer, receiver) = oneshot::channel();
        let job = Job { text, answer };
        match self.jobs.try_send(job) {
            Ok(()) => {
                self.meters.queued.inc();
                Ok(receiver)
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.meters.answer("busy");
                Err(Busy)
            }
        }
    }
}

struct Worker {
    queue: Arc<Mutex<Receiver<Job>>>,
    session: Session,
    inputs: Vec<String>,
    tokenizer: Arc<Tokenizer>,
    card: Arc<Card>,
    pad: u32,
    batch: usize,
    wait: Duration,
    meters: Meters,
}

impl Worker {
    /// Until the transformer is dropped: take a batch, run it, answer each comment.
    fn run(mut self) {
        while let Some(jobs) = self.take() {
            self.meters.queued.dec_by(jobs.len() as i64);
            self.meters.batch.observe(jobs.len() as f64);
            let started = Instant::now();
            let texts: Vec<&str> = jobs.iter().map(|j| j.text.as_str()).collect();
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.infer(&texts)))
                    .unwrap_or_else(|panic| {
                        Err(format!(
                            "the model panicked: {}",
                            crate::pipeline::panic_message(&*panic)
                        ))
                    });
            self.meters
                .inference
                .observe(started.elapsed().as_secs_f64());
            match result {
                Ok(opinions) => {
                    for (job, opinion) in jobs.into_iter().zip(opinions) {
                        self.meters.answer("scored");
                        let _ = job.answer.send(Ok(opinion));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, comments = jobs.len(), "the transformer failed");
                    for job in jobs {
                        self.meters.answer("failed");
                        let _ = job.answer.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    /// The next batch: the first comment to come, then those already waiting. While the batch
    /// is short of one run of the model (the card's `rows_per_run`), it waits for more until
    /// the wait is over; a model that reads each text alone never waits. `None` once the
    /// transformer is gone.
    fn take(&self) -> Option<Vec<Job>> {
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let mut jobs = vec![queue.recv().ok()?];
        let deadline = Instant::now() + self.wait;
        while jobs.len() < self.batch {
            let next = match jobs.len() < self.card.rows_per_run {
                true => queue
                    .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    .ok(),
                false => queue.try_recv().ok(),
            };
            match next {
                Some(job) => jobs.push(job),
                None => break,
            }
        }
        Some(jobs)
    }

    /// The model's opinion of each text, in order. The texts run shortest first in groups of
    /// the card's `rows_per_run`, each padded to its own longest, so one long comment does not
    /// widen a whole batch.
    fn infer(&mut self, texts: &[&str]) -> Result<Vec<Opinion>, String> {
        let mut encodings = Vec::with_capacity(texts.len());
        for text in texts {
            encodings.push(
                self.tokenizer
                    .encode(*text, true)
                    .map_err(|e| e.to_string())?,
            );
        }
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].len());
        let mut opinions: Vec<Option<Opinion>> = vec![None; encodings.len()];
        for group in order.chunks(self.card.rows_per_run) {
            let rows: Vec<&Encoding> = group.iter().map(|&i| &encodings[i]).collect();
            for (&i, opinion) in group.iter().zip(self.run_rows(&rows)?) {
                opinions[i] = Some(opinion);
            }
        }
        opinions
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| "the model answered fewer texts than it read".to_string())
    }

    /// One run of the model over encoded texts padded to the longest.
    fn run_rows(&mut self, encodings: &[&Encoding]) -> Result<Vec<Opinion>, String> {
        let rows = encodings.len();
        let width = encodings.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![i64::from(self.pad); rows * width];
        let mut mask = vec![0i64; rows * width];
        let mut types = vec![0i64; rows * width];
        for (r, e) in encodings.iter().enumerate() {
            let at = r * width;
            for (k, ((id, m), t)) in e
                .get_ids()
                .iter()
                .zip(e.get_attention_mask())
                .zip(e.get_type_ids())
                .enumerate()
            {
                ids[at + k] = i64::from(*id);
                mask[at + k] = i64::from(*m);
                types[at + k] = i64::from(*t);
            }
        }
        let shape = [rows, width];
        let mut feed: Vec<(Cow<'_, str>, SessionInputValue<'_>)> = Vec::new();
        for name in &self.inputs {
            let values = match name.as_str() {
                "input_ids" => std::mem::take(&mut ids),
                "attention_mask" => std::mem::take(&mut mask),
                _ => std::mem::take(&mut types),
            };
            let tensor = Tensor::from_array((shape, values)).map_err(|e| e.to_string())?;
            feed.push((Cow::Owned(name.clone()), tensor.into()));
        }
        let outputs = self.session.run(feed).map_err(|e| e.to_string())?;
        let mut opinions: Vec<Opinion> = encodings
            .iter()
            .map(|e| Opinion {
                logits: Vec::with_capacity(self.card.outputs.len()),
                truncated: !e.get_overflowing().is_empty(),
            })
            .collect();
        for output in &self.card.outputs {
            let value = outputs
                .get(&output.name)
                .ok_or_else(|| format!("the model gave no output {:?}", output.name))?;
            let (got, values) = value
                .try_extract_tensor::<f32>()
                .map_err(|e| format!("{}: {e}", output.name))?;
            let labels = output.labels.len();
            if **got != [rows as i64, labels as i64] {
                return Err(format!(
                    "{} has the shape {:?}, not [{rows}, {labels}]",
                    output.name, &**got
                ));
            }
            for (opinion, row) in opinions.iter_mut().zip(values.chunks(labels)) {
                opinion.logits.push(row.to_vec());
            }
        }
        Ok(opinions)
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AnswerLabels {
    /// `scored`, `busy` (the queue was full) or `failed`.
    outcome: &'static str,
}

/// The tier's metrics: batch sizes, the queue, inference time, answers.
#[derive(Debug, Clone)]
pub struct Meters {
    batch: Histogram,
    queued: Gauge,
    inference: Histogram,
    answers: Family<AnswerLabels, Counter>,
}

impl Default for Meters {
    fn default() -> Self {
        Self {
            batch: Histogram::new(exponential_buckets(1.0, 2.0, 8)),
            queued: Gauge::default(),
            // 1 ms to about 4 s
            inference: Histogram::new(exponential_buckets(1e-3, 2.0, 13)),
            answers: Family::default(),
        }
    }
}

impl Meters {
    fn answer(&self, outcome: &'static str) {
        self.answers.get_or_create(&AnswerLabels { outcome }).inc();
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "transformer_batch_size",
            "Comments per run of the transformer model",
            self.batch.clone(),
        );
        registry.register(
            "transformer_queue_depth",
            "Comments waiting for the transformer model",
            self.queued.clone(),
        );
        registry.register_with_unit(
            "transformer_inference_duration",
            "Time per run of the transformer model (a batch), tokenizing included",
            Unit::Seconds,
            self.inference.clone(),
        );
        registry.register(
            "transformer_answers",
            "Comments sent to the transformer model, by outcome (scored, busy, failed)",
            self.answers.clone(),
        );
    }
}
