//! The transformer tier: a model folder checked against its card, the cascade through the real
//! ONNX Runtime, truncation, a full queue, and the fast path when the runtime is missing.
//!
//! The tests that run a model need ONNX Runtime (`ORT_DYLIB_PATH`, the PyPI wheel
//! `onnxruntime==1.31.1`) and a model folder (`SEULA_TEST_TRANSFORMER`, default the shipped
//! `models/transformer-en`); without them they print what they skipped and pass. `.ci/run`
//! provides both.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use seula::transformer::{LoadError, Settings, Transformer};

fn shipped_model() -> PathBuf {
    match std::env::var_os("SEULA_TEST_TRANSFORMER") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("models/transformer-en"),
    }
}

/// The model folder and the runtime, or `None` after saying what is missing.
fn model_and_runtime(test: &str) -> Option<PathBuf> {
    let dir = shipped_model();
    let missing = if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        "ORT_DYLIB_PATH not set (training/transformer/prepare.sh prints it)".to_string()
    } else if !dir.join("model.onnx").is_file() {
        format!("no model.onnx in {}", dir.display())
    } else {
        return Some(dir);
    };
    eprintln!("transformer test {test}: skipped ({missing})");
    None
}

fn settings(dir: &Path) -> Settings {
    Settings {
        dir: dir.to_path_buf(),
        workers: 1,
        threads: 2,
        batch: 32,
        wait: Duration::from_millis(2),
        queue: 256,
    }
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).expect("read")))
}

/// A folder with these files and a card over their checksums; `outputs` is the card's tail.
fn folder(model: &[u8], outputs: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("model.onnx"), model).expect("model");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tokenizer.json"),
        dir.path().join("tokenizer.json"),
    )
    .expect("tokenizer");
    write_card(dir.path(), outputs);
    dir
}

fn write_card(dir: &Path, outputs: &str) {
    let card = format!(
        "name = \"test\"\nlanguages = [\"en\"]\nmax_length = 128\n[files]\nmodel = \"{}\"\n\
         tokenizer = \"{}\"\n{outputs}",
        sha256(&dir.join("model.onnx")),
        sha256(&dir.join("tokenizer.json")),
    );
    std::fs::write(dir.join("seula-model.toml"), card).expect("card");
}

const ONE_OUTPUT: &str = "[[outputs]]\nname = \"offensive\"\nlabels = [\"none\", \"toxicity\"]\n";

fn refusal(dir: &Path) -> String {
    match Transformer::load(&settings(dir)) {
        Ok(_) => panic!("{} was accepted", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_folder_that_does_not_match_its_card_is_refused_by_name() {
    let dir = folder(b"not a model", ONE_OUTPUT);
    std::fs::write(dir.path().join("model.onnx"), b"another file").expect("write");
    let e = refusal(dir.path());
    assert!(
        e.contains("model.onnx does not match its card: SHA-256"),
        "{e}"
    );

    let dir = folder(
        b"x",
        "[[outputs]]\nname = \"o\"\nlabels = [\"rudeness\", \"none\"]\n",
    );
    let e = refusal(dir.path());
    assert!(
        e.contains("seula-model.toml: outputs[0].labels[0]: \"rudeness\" is none of"),
        "{e}"
    );

    let dir = folder(b"x", ONE_OUTPUT);
    std::fs::remove_file(dir.path().join("tokenizer.json")).expect("remove");
    let e = refusal(dir.path());
    assert!(e.contains("tokenizer.json: "), "{e}");
    assert!(e.contains(&dir.path().display().to_string()), "{e}");

    let dir = folder(b"x", ONE_OUTPUT);
    std::fs::write(dir.path().join("tokenizer.json"), b"{}").expect("write");
    write_card(dir.path(), ONE_OUTPUT);
    let e = refusal(dir.path());
    assert!(e.contains("tokenizer.json: "), "{e}");
}

/// `seula score` with a transformer folder, the environment's `ORT_DYLIB_PATH` replaced.
fn score_with(dir: &Path, runtime: &str, lines: &str) -> (String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seula"))
        .args(["score", "--transformer"])
        .arg(dir)
        .env("ORT_DYLIB_PATH", runtime)
        .env("SEULA_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("seula score");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("output");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).expect("UTF-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn without_the_runtime_the_fast_path_scores_and_says_so_once() {
    let dir = folder(b"a model the runtime never reads", ONE_OUTPUT);
    let lines =
        "{\"id\":\"a\",\"text\":\"you are an idiot\"}\n{\"id\":\"b\",\"text\":\"thanks!\"}\n";
    let (out, err) = score_with(dir.path(), "/nonexistent/libonnxruntime.so.1.31.1", lines);
    let answers: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(answers.len(), 2, "{out}");
    for answer in &answers {
        assert!(answer["action"].is_string(), "{answer}");
        assert!(answer["transformer"].is_null(), "{answer}");
        assert!(
            !answer["model_version"]
                .as_str()
                .expect("version")
                .contains('+'),
            "{answer}"
        );
    }
    assert_eq!(
        err.matches("the transformer tier is off").count(),
        1,
        "said once: {err}"
    );
    assert!(err.contains("ONNX Runtime did not load"), "{err}");
}

#[test]
fn a_file_the_runtime_cannot_read_is_the_folders_fault_not_the_runtimes() {
    let Some(_) = model_and_runtime("a_file_the_runtime_cannot_read") else {
        return;
    };
    let dir = folder(b"not an ONNX graph", ONE_OUTPUT);
    match Transformer::load(&settings(dir.path())) {
        Err(e @ LoadError::Folder { .. }) => {
            assert!(e.to_string().contains("model.onnx: "), "{e}")
        }
        other => panic!("expected the folder refused, got {other:?}"),
    }
}

#[test]
fn a_card_that_names_outputs_the_graph_lacks_is_refused() {
    let Some(model) = model_and_runtime("a_card_that_names_outputs_the_graph_lacks") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for file in ["model.onnx", "tokenizer.json"] {
        std::fs::copy(model.join(file), dir.path().join(file)).expect("copy");
    }
    write_card(
        dir.path(),
        "[[outputs]]\nname = \"toxic\"\nlabels = [\"none\", \"toxicity\"]\n",
    );
    let e = refusal(dir.path());
    assert!(
        e.contains("outputs[0].name: model.onnx has no output \"toxic\" (it has "),
        "{e}"
    );
    write_card(
        dir.path(),
        "[[outputs]]\nname = \"sentiment\"\nlabels = [\"none\", \"toxicity\"]\n",
    );
    let e = refusal(dir.path());
    assert!(
        e.contains("outputs[0].labels: 2 labels, but \"sentiment\" gives 3 values"),
        "{e}"
    );
}

/// The shipped policy with the cascade sending every comment it serves, and a channel
/// `strict` that refuses when the model is busy.
fn cascading_policy(dir: &Path) -> PathBuf {
    let policy = include_str!("../src/policy/default.toml")
        .replace("when = \"uncertain\"", "when = \"always\"")
        + "\n[channels.strict.cascade]\nwhen_busy = \"refuse\"\n";
    let path = dir.join("policy.toml");
    std::fs::write(&path, policy).expect("policy");
    path
}

async fn spawn(
    model: &Path,
    adjust: impl FnOnce(&mut seula::config::PipelineConfig),
) -> common::TestApp {
    let policies = tempfile::tempdir().expect("temp dir").keep();
    let mut config = common::pipeline_config();
    config.transformer = Some(model.to_path_buf());
    config.policy = Some(cascading_policy(&policies));
    adjust(&mut config);
    common::spawn_app_pipeline(config).await
}

#[tokio::test]
async fn the_model_scores_what_the_cascade_sends_and_every_response_names_it() {
    let Some(model) = model_and_runtime("the_model_scores_what_the_cascade_sends") else {
        return;
    };
    let app = spawn(&model, |_| {}).await;
    let (status, body) = app
        .score(&json!({"id": "en1", "text": "I love this, thank you so much for the quick help!"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["transformer"]["status"], "scored", "{body}");
    assert_eq!(body["transformer"]["truncated"], false, "{body}");
    let model_name = body["transformer"]["model"].as_str().expect("model");
    let version = body["model_version"].as_str().expect("version");
    assert!(
        version.starts_with("linear-") && version.ends_with(&format!("+{model_name}")),
        "{version}"
    );
    assert_eq!(body["sentiment"]["label"], "positive", "{body}");

    // A language the model does not serve stays on the fast path.
    let (_, finnish) = app
        .score(&json!({"id": "fi1", "text": "Kiitos paljon nopeasta avusta, olette ihania!"}))
        .await;
    assert!(finnish["transformer"].is_null(), "{finnish}");
    assert!(
        !finnish["model_version"]
            .as_str()
            .expect("version")
            .contains('+')
    );

    // A text longer than the model reads: it reads the start, and says so.
    let long = "this service is slow and the staff are rude ".repeat(60);
    let (_, body) = app.score(&json!({"id": "en2", "text": long})).await;
    assert_eq!(body["transformer"]["truncated"], true, "{body}");
    assert_eq!(body["transformer"]["status"], "scored", "{body}");

    // The model's opinion goes into the scores, above the lexicon's floor.
    let (_, insult) = app
        .score(&json!({"id": "en3", "text": "you are a pathetic idiot and everyone hates you"}))
        .await;
    assert!(
        insult["scores"]["toxicity"].as_f64().expect("toxicity") > 0.5,
        "{insult}"
    );
}

#[tokio::test]
async fn comments_that_arrive_together_are_batched_and_metered() {
    let Some(model) = model_and_runtime("comments_that_arrive_together_are_batched") else {
        return;
    };
    let app = spawn(&model, |c| c.transformer_wait_ms = 20).await;
    let requests = (0..48)
        .map(|i| json!({"id": format!("b{i}"), "text": format!("comment {i}: the app keeps crashing when I pay")}))
        .collect();
    let answers = score_all(&app, requests).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["transformer"]["status"], "scored", "{body}");
    }
    let (_, metrics) = app.get("/metrics").await;
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from /metrics"))
    };
    let (comments, runs) = (
        value("seula_transformer_batch_size_sum"),
        value("seula_transformer_batch_size_count"),
    );
    assert_eq!(comments, 48.0);
    assert!(
        runs < comments,
        "{runs} runs for {comments} comments: nothing was batched"
    );
    assert_eq!(
        value("seula_transformer_answers_total{outcome=\"scored\"}"),
        48.0
    );
    assert!(metrics.contains("seula_transformer_inference_duration_seconds_bucket"));
    assert!(metrics.contains("seula_transformer_queue_depth "));
}

#[tokio::test]
async fn a_text_gets_the_same_answer_alone_and_among_others() {
    let Some(model) = model_and_runtime("a_text_gets_the_same_answer_alone") else {
        return;
    };
    let tier = Transformer::load(&Settings {
        wait: Duration::from_millis(50),
        ..settings(&model)
    })
    .expect("the model loads");
    // Texts of very different lengths, so that a run reading them together would pad and
    // quantize them differently.
    let texts: Vec<String> = (0..24)
        .map(|i| {
            format!(
                "you people are {} and I want my money back",
                "really ".repeat(i * 3)
            )
        })
        .collect();
    let together: Vec<_> = texts
        .iter()
        .map(|t| tier.submit(t.clone()).expect("queue has room"))
        .collect();
    let mut batched = Vec::new();
    for answer in together {
        batched.push(answer.await.expect("answered").expect("scored").logits);
    }
    for (text, batched) in texts.iter().zip(batched) {
        let alone = tier.submit(text.clone()).expect("queue has room");
        let alone = alone.await.expect("answered").expect("scored").logits;
        assert_eq!(alone, batched, "{text:?} alone and in a batch");
    }
}

#[tokio::test]
async fn a_full_queue_answers_from_the_fast_path_or_429_as_the_policy_says() {
    let Some(model) = model_and_runtime("a_full_queue_answers_from_the_fast_path") else {
        return;
    };
    let app = spawn(&model, |c| {
        c.transformer_queue = 1;
        c.transformer_batch = 1;
        c.transformer_wait_ms = 0;
    })
    .await;
    let long = "the train app charged me twice and nobody answers the phone ".repeat(12);
    let burst = |channel: &str| {
        (0..40)
            .map(|i| json!({"id": format!("q{i}{channel}"), "text": long, "channel": channel}))
            .collect()
    };
    let answers = score_all(&app, burst("web")).await;
    let status_of = |body: &Value| body["transformer"]["status"].as_str().map(String::from);
    let busy: Vec<&Value> = answers
        .iter()
        .map(|(_, b)| b)
        .filter(|b| status_of(b).as_deref() == Some("busy"))
        .collect();
    assert!(answers.iter().all(|(s, _)| *s == 200));
    assert!(!busy.is_empty(), "a queue of one never filled");
    assert!(
        answers
            .iter()
            .any(|(_, b)| status_of(b).as_deref() == Some("scored"))
    );
    for body in busy {
        assert!(
            !body["model_version"]
                .as_str()
                .expect("version")
                .contains('+'),
            "{body}"
        );
        assert!(body["action"].is_string());
    }

    let answers = score_all(&app, burst("strict")).await;
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 429)
        .map(|(_, b)| b)
        .collect();
    assert!(!refused.is_empty(), "the strict channel never refused");
    for body in refused {
        assert_eq!(body["error"]["code"], "model_busy", "{body}");
    }
    assert!(answers.iter().all(|(s, _)| *s == 200 || *s == 429));
}

/// Scores the requests at once, each on its own task; answers in order.
async fn score_all(app: &common::TestApp, requests: Vec<Value>) -> Vec<(u16, Value)> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let (client, url) = (app.client.clone(), app.url("/v1/score"));
            tokio::spawn(async move {
                let response = client.post(url).json(&request).send().await.expect("send");
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.expect("JSON"))
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("request task"));
    }
    answers
}
