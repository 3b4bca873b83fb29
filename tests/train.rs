//! `seula train` on a small sample, `seula eval` on its output: the same data gives the same
//! bytes, the models load and evaluate, moderators' labels become training rows, and the
//! models' table reports cross-validation, development and held-out figures.
//!
//! The sample is built from the project's own Finnish set, dressed in the file names and fields
//! of ../shared/data, and the floret wheel is a tiny zip of the same layout, so the test needs
//! nothing outside the repository.

use std::io::Write;
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

/// The six toxicity labels of a row of the own set (which has no severe toxicity: threats
/// stand in for it).
fn six(r: &Value) -> Value {
    json!({
        "text": r["text"], "toxicity": r["toxicity"], "severe_toxicity": r["threat"],
        "insult": r["insult"], "threat": r["threat"], "identity_attack": r["identity_attack"],
        "profanity": r["profanity"],
    })
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
    write("toxicity_en_jigsaw.jsonl", &rows[100..400], &six);
    write("toxicity_fi_mt.train.jsonl", &rows[200..500], &six);
    // Intents from the own set's labels, half the rows as English, a fifth held out.
    write("intents.jsonl", &rows[150..450], &|r: &Value| {
        let mut intents = Vec::new();
        if r["text"].as_str().is_some_and(|t| t.contains('?')) {
            intents.push("question");
        }
        if r["urgency"] == true {
            intents.push("problem_report");
        }
        if r["label"] == "negative" {
            intents.push("complaint");
        }
        let id = r["id"].as_str().expect("id");
        json!({
            "id": id, "text": r["text"], "intents": intents,
            "language": if id.ends_with(['0', '2', '4', '6', '8']) { "en" } else { "fi" },
            "split": if id.ends_with('5') { "test" } else { "train" },
        })
    });
    write("forum.jsonl", &rows[300..600], &|r: &Value| {
        let mut row = six(r);
        row["split"] = json!(if r["id"].as_str() < Some("fi-fo-0100") {
            "test"
        } else {
            "train"
        });
        row
    });
}

/// A wheel holding a floret table of 200 rows of 8 dimensions and its settings.
fn floret_wheel(path: &Path) {
    let (rows, cols) = (200usize, 8usize);
    let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    npy.extend_from_slice(&(header.len() as u16).to_le_bytes());
    npy.extend_from_slice(header.as_bytes());
    for i in 0..rows * cols {
        let v = ((i * 7919) % 101) as f32 / 50.0 - 1.0;
        npy.extend_from_slice(&v.to_le_bytes());
    }
    let cfg = r#"{"mode":"floret","minn":4,"maxn":5,"hash_count":2,"hash_seed":2166136261,"bow":"<","eow":">","attr":65}"#;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).expect("wheel"));
    let options = zip::write::SimpleFileOptions::default();
    for (name, bytes) in [
        ("m/vocab/vectors", npy.as_slice()),
        ("m/vocab/vectors.cfg", cfg.as_bytes()),
    ] {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(bytes).expect("zip write");
    }
    zip.finish().expect("zip");
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

fn train(data: &Path, out: &Path, extra: &[&str]) {
    let path = |p: &Path| p.to_str().expect("path").to_string();
    let mut args = vec![
        "train".to_string(),
        "--data".into(),
        path(data),
        "--own".into(),
        OWN.into(),
        "--forum".into(),
        path(&data.join("forum.jsonl")),
        "--intents".into(),
        path(&data.join("intents.jsonl")),
        "--floret-wheel".into(),
        path(&data.join("wheel.whl")),
        "--vector-dims".into(),
        "4".into(),
        "--tokenizer".into(),
        path(&data.join("tokenizer.json")),
        "--out".into(),
        path(out),
        "--vocabulary".into(),
        "400".into(),
        "--tokenizer-vocabulary".into(),
        "300".into(),
        "--folds".into(),
        "3".into(),
        "--c-grid".into(),
        "1,4".into(),
        "--max-iterations".into(),
        "15".into(),
        "--limit".into(),
        "300".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, _, stderr) = seula(&args);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("wrote"),
        "training shows progress: {stderr}"
    );
}

fn prepared() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    sample_data(&data);
    floret_wheel(&data.join("wheel.whl"));
    (dir, data)
}

#[test]
fn training_twice_gives_the_same_bytes_and_models_that_load_and_evaluate() {
    let (dir, data) = prepared();
    let out = dir.path().join("models");
    train(&data, &out, &[]);
    assert!(
        data.join("tokenizer.json").exists(),
        "the first run keeps its tokenizer"
    );
    let read = |name: &str| std::fs::read(out.join(name)).expect("model file");
    let names = [
        "fi.bin",
        "en.bin",
        "tokenizer.json",
        "vectors.bin",
        "manifest.json",
    ];
    let first: Vec<Vec<u8>> = names.iter().map(|n| read(n)).collect();
    train(&data, &out, &[]);
    for (name, bytes) in names.iter().zip(&first) {
        assert!(read(name) == *bytes, "{name} differs between two runs");
    }

    let manifest: Value = serde_json::from_slice(&first[4]).expect("manifest JSON");
    let files = manifest["files"].as_array().expect("files");
    assert_eq!(
        files.len(),
        4,
        "fi, en, the tokenizer and the vectors: {manifest}"
    );
    let heads = manifest["heads"].as_array().expect("heads");
    assert_eq!(
        heads.len(),
        22,
        "11 Finnish heads and 11 English: {manifest}"
    );
    let complaint = heads
        .iter()
        .find(|h| h["language"] == "en" && h["target"] == json!({"intent": "complaint"}))
        .expect("English complaint");
    assert_eq!(
        complaint["train"],
        json!(["intents.jsonl", "complaints_en.train.jsonl"]),
        "the intent set first, then X-CI's complaints"
    );
    let toxicity = heads
        .iter()
        .find(|h| h["language"] == "fi" && h["target"] == "toxicity")
        .expect("Finnish toxicity");
    assert_eq!(
        toxicity["train"][0], "forum.jsonl",
        "the forum labels come first"
    );
    let parts: Vec<&str> = toxicity["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .filter(|m| m["source"] == "forum.jsonl")
        .map(|m| m["part"].as_str().expect("part"))
        .collect();
    assert_eq!(parts, ["cross-validation", "held-out"]);
    assert!(
        manifest["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|d| d["file"] == "wheel.whl" && d["rows"] == 200),
        "the wheel is recorded with its table's rows: {manifest}"
    );

    // The trained models serve `seula eval` on a labelled file.
    let labelled = dir.path().join("labelled.jsonl");
    std::fs::copy(data.join("offensive_en.dev.jsonl"), &labelled).expect("copy");
    let models = out.to_str().expect("path");
    let (ok, stdout, stderr) = seula(&[
        "eval",
        "--data",
        labelled.to_str().expect("path"),
        "--models",
        models,
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("80 rows"), "{stdout}");
    assert!(stdout.contains("| offensive → toxicity | 80 |"), "{stdout}");
    assert!(stdout.contains(manifest["version"].as_str().expect("version")));

    // Without --data, eval prints the models' own table.
    let (ok, stdout, stderr) = seula(&["eval", "--models", models]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("| fi toxicity | forum.jsonl | cross-validation |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| en sentiment | sentiment_en.dev.jsonl | dev | 80 |"),
        "{stdout}"
    );
}

#[test]
fn moderators_labels_become_training_rows() {
    let (dir, data) = prepared();
    let labels = dir.path().join("labels.jsonl");
    // As `seula export-labels` writes them: a decided case with the labels its decision carried.
    let lines: Vec<String> = own_rows()[..40]
        .iter()
        .map(|r| {
            json!({"id": r["id"], "text": r["text"], "language": "fi", "channel": "web",
                   "decision": "hide", "decided_at": "2026-11-30T10:00:00Z",
                   "source": "seula-register", "toxicity": r["toxicity"], "label": r["label"]})
            .to_string()
        })
        .collect();
    std::fs::write(&labels, lines.join("\n") + "\n").expect("labels");
    let out = dir.path().join("models");
    train(
        &data,
        &out,
        &[
            "--labels",
            labels.to_str().expect("path"),
            "--labels-weight",
            "3",
        ],
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    let sources = |language: &str, target: &str| -> Vec<String> {
        manifest["heads"]
            .as_array()
            .expect("heads")
            .iter()
            .find(|h| h["language"] == language && h["target"] == target)
            .expect("head")["train"]
            .as_array()
            .expect("train")
            .iter()
            .map(|s| s.as_str().expect("name").to_string())
            .collect()
    };
    assert!(sources("fi", "toxicity").contains(&"labels.jsonl".to_string()));
    assert!(sources("fi", "sentiment").contains(&"labels.jsonl".to_string()));
    assert!(
        !sources("fi", "insult").contains(&"labels.jsonl".to_string()),
        "no insult label was given"
    );
    assert!(
        !sources("en", "toxicity").contains(&"labels.jsonl".to_string()),
        "the rows are Finnish"
    );
    assert!(
        manifest["command"]
            .as_str()
            .expect("command")
            .contains("--labels-weight 3"),
        "{manifest}"
    );
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
fn eval_measures_fake_accounts_from_profiles_given_as_numbers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("accounts.jsonl");
    let fake = json!({"fake": true, "author": {"followers": 4, "following": 2100, "posts": 0,
        "has_photo": false, "bio_length": 0, "handle_length": 14, "handle_digits": 6}});
    let real = json!({"fake": false, "author": {"followers": 380, "following": 290, "posts": 240,
        "has_photo": true, "bio_length": 60, "handle_length": 9, "handle_digits": 0}});
    std::fs::write(&path, format!("{fake}\n{real}\n{fake}\n{real}\n")).expect("write");
    let (ok, stdout, stderr) = seula(&[
        "eval",
        "--data",
        path.to_str().expect("path"),
        "--models",
        concat!(env!("CARGO_MANIFEST_DIR"), "/models"),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("| fake → fake_account | 4 | 2 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 |"),
        "{stdout}"
    );
}

#[test]
fn missing_data_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, _, stderr) = seula(&[
        "train",
        "--data",
        dir.path().to_str().expect("path"),
        "--floret-wheel",
        "none.whl",
        "--out",
        dir.path().join("m").to_str().expect("path"),
    ]);
    assert!(!ok);
    assert!(stderr.contains("sentiment_en.train.jsonl"), "{stderr}");
    let (ok, _, stderr) = seula(&["eval", "--data", "nope.jsonl"]);
    assert!(!ok);
    assert!(stderr.contains("nope.jsonl"), "{stderr}");
}
