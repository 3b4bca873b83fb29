//! `seula train` on a small sample, `seula eval` on its output: the same data gives the same
//! bytes, the models load, and eval measures what the rows label.
//!
//! The sample is built from the project's own Finnish set, dressed in the file names and fields
//! of ../shared/data, so the test needs nothing outside the repository.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

const OWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/labelled_fi.jsonl");

fn own_rows() -> Vec<Value> {
    std::fs::read_to_string(OWN)
        .expect("own set")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// Writes every file `seula train` reads, each from a slice of the own set.
fn sample_data(dir: &Path) {
    let rows = own_rows();
    let write = |name: &str, rows: &[Value], row: &dyn Fn(&Value) -> Value| {
        let lines: Vec<String> = rows.iter().map(|r| row(r).to_string()).collect();
        std::fs::write(dir.join(name), lines.join("\n") + "\n").expect("write sample");
    };
    let (train, dev) = (&rows[..120], &rows[600..680]);
    let sentiment = |r: &Value| json!({"text": r["text"], "label": r["label"]});
    let offensive =
        |r: &Value| json!({"text": r["text"], "offensive": r["toxicity"], "targeted": r["insult"]});
    let hate = |r: &Value| json!({"text": r["text"], "hate": r["identity_attack"]});
    let complaint = |r: &Value| json!({"text": r["text"], "complaint": r["urgency"]});
    for (split, rows) in [("train", train), ("dev", dev)] {
        write(&format!("sentiment_en.{split}.jsonl"), rows, &sentiment);
        write(&format!("sentiment_fi.{split}.jsonl"), rows, &sentiment);
        write(&format!("offensive_en.{split}.jsonl"), rows, &offensive);
        write(&format!("hate_en.{split}.jsonl"), rows, &hate);
    }
    write("complaints_en.train.jsonl", &rows[..300], &complaint);
}

fn seula(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_seula"))
        .args(args)
        .env("SEULA_LOG", "warn")
        .output()
        .expect("run seula");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn train(data: &Path, out: &Path) {
    let (ok, _, stderr) = seula(&[
        "train",
        "--data",
        data.to_str().expect("path"),
        "--own",
        OWN,
        "--tokenizer",
        data.join("tokenizer.json").to_str().expect("path"),
        "--out",
        out.to_str().expect("path"),
        "--vocabulary",
        "400",
        "--tokenizer-vocabulary",
        "300",
        "--max-iterations",
        "15",
        "--limit",
        "300",
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("wrote"),
        "training shows progress: {stderr}"
    );
}

#[test]
fn training_twice_gives_the_same_bytes_and_models_that_load_and_evaluate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    sample_data(&data);
    let out = dir.path().join("models");
    train(&data, &out);
    assert!(
        data.join("tokenizer.json").exists(),
        "the first run keeps its tokenizer"
    );
    let read = |name: &str| std::fs::read(out.join(name)).expect("model file");
    let names = ["fi.json", "en.json", "tokenizer.json", "manifest.json"];
    let first: Vec<Vec<u8>> = names.iter().map(|n| read(n)).collect();
    train(&data, &out);
    for (name, bytes) in names.iter().zip(&first) {
        assert!(read(name) == *bytes, "{name} differs between two runs");
    }

    let manifest: Value = serde_json::from_slice(&first[3]).expect("manifest JSON");
    let files = manifest["files"].as_array().expect("files");
    assert_eq!(files.len(), 3, "fi, en and the tokenizer: {manifest}");
    let heads = manifest["heads"].as_array().expect("heads");
    assert_eq!(heads.len(), 13, "7 Finnish heads and 6 English: {manifest}");

    // The trained models serve `seula eval` on a labelled file.
    let labelled = dir.path().join("labelled.jsonl");
    std::fs::copy(data.join("offensive_en.dev.jsonl"), &labelled).expect("copy");
    let (ok, stdout, stderr) = seula(&[
        "eval",
        "--data",
        labelled.to_str().expect("path"),
        "--models",
        out.to_str().expect("path"),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("80 rows"), "{stdout}");
    assert!(stdout.contains("| offensive → toxicity | 80 |"), "{stdout}");
    assert!(stdout.contains(manifest["version"].as_str().expect("version")));
}

#[test]
fn eval_measures_sentiment_and_every_labelled_score_with_the_shipped_models() {
    let (ok, stdout, stderr) = seula(&[
        "eval",
        "--data",
        OWN,
        "--models",
        concat!(env!("CARGO_MANIFEST_DIR"), "/models"),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("| label | 680 |"), "{stdout}");
    for score in [
        "toxicity",
        "insult",
        "threat",
        "identity_attack",
        "profanity",
        "urgency",
    ] {
        assert!(
            stdout.contains(&format!("| {score} → {score} | 680 |")),
            "{stdout}"
        );
    }
}

#[test]
fn missing_data_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, _, stderr) = seula(&[
        "train",
        "--data",
        dir.path().to_str().expect("path"),
        "--out",
        dir.path().join("m").to_str().expect("path"),
    ]);
    assert!(!ok);
    assert!(stderr.contains("sentiment_en.train.jsonl"), "{stderr}");
    let (ok, _, stderr) = seula(&["eval", "--data", "nope.jsonl"]);
    assert!(!ok);
    assert!(stderr.contains("nope.jsonl"), "{stderr}");
}
