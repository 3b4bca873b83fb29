//! `seula score` as a process: JSON Lines in, one line out for each, errors in place.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// Runs `seula score` with `SEULA_LOG=log`; returns success, the output lines and stderr.
fn seula_score(
    args: &[&str],
    input: &str,
    dir: &std::path::Path,
    log: &str,
) -> (bool, Vec<Value>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seula"))
        .arg("score")
        .args(args)
        .current_dir(dir)
        .env("SEULA_LOG", log)
        .env(
            "SEULA_MODELS",
            concat!(env!("CARGO_MANIFEST_DIR"), "/models"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start seula");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("run seula");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    (
        out.status.success(),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn input() -> String {
    [
        json!({"id": "l1", "text": "Sovellus veloitti lipun kahdesti ja juna lähtee 10 minuutin päästä!"}).to_string(),
        "{not json".to_string(),
        json!({"id": "l3", "text": "  "}).to_string(),
        String::new(),
        json!({"id": "l5", "text": "Kiitos avusta, hyvää päivänjatkoa!"}).to_string(),
        json!({"id": "l6", "text": "vitun paskafirma"}).to_string(),
    ]
    .join("\n")
}

#[test]
fn one_line_out_for_each_line_in_with_errors_in_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, lines, stderr) = seula_score(&[], &input(), dir.path(), "warn");
    assert!(ok, "{stderr}");
    assert_eq!(lines.len(), 6);
    assert_eq!(
        (lines[0]["id"].clone(), lines[0]["action"].clone()),
        (json!("l1"), json!("prioritize"))
    );
    assert_eq!(lines[0]["priority"], "urgent");
    assert_eq!(
        (lines[1]["id"].clone(), lines[1]["error"]["code"].clone()),
        (Value::Null, json!("malformed_json"))
    );
    assert_eq!(
        (lines[2]["id"].clone(), lines[2]["error"]["message"].clone()),
        (json!("l3"), json!("text: must not be empty"))
    );
    assert_eq!(lines[3]["error"]["code"], "malformed_json");
    assert_eq!(
        (lines[4]["id"].clone(), lines[4]["action"].clone()),
        (json!("l5"), json!("allow"))
    );
    assert_eq!(
        (lines[5]["action"].clone(), lines[5]["case_id"].clone()),
        (json!("review"), Value::Null)
    );
    assert!(
        !dir.path().join("seula.db").exists(),
        "nothing is written without --record"
    );
}

#[test]
fn record_writes_cases_and_files_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("in.jsonl"), input()).expect("write input");
    let (ok, _, stderr) = seula_score(
        &[
            "--record",
            "--input",
            "in.jsonl",
            "--output",
            "out.jsonl",
            "--database-url",
            "reg.db",
        ],
        "",
        dir.path(),
        "warn",
    );
    assert!(ok, "{stderr}");
    let out = std::fs::read_to_string(dir.path().join("out.jsonl")).expect("output file");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 6);
    assert!(lines[0]["case_id"].is_i64() && lines[5]["case_id"].is_i64());
    assert!(lines[4]["case_id"].is_null());
    assert!(dir.path().join("reg.db").exists());
}

#[test]
fn a_missing_input_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, lines, stderr) = seula_score(&["--input", "nope.jsonl"], "", dir.path(), "warn");
    assert!(!ok && lines.is_empty());
    assert!(stderr.contains("opening nope.jsonl"), "{stderr}");
}

#[test]
fn personal_data_reaches_neither_the_register_nor_the_logs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let raw = [
        "131052-308T",
        "FI21 1234 5600 0007 85",
        "matti.meikalainen@example.fi",
    ];
    let text = format!(
        "Laskutus meni väärin. Hetu {}, tili {}, vastatkaa osoitteeseen {}",
        raw[0], raw[1], raw[2]
    );
    let line = json!({"id": "p1", "text": text, "author": {"id": "fb:user:8"}}).to_string();
    let (ok, lines, stderr) = seula_score(
        &["--record", "--database-url", "reg.db"],
        &line,
        dir.path(),
        "trace",
    );
    assert!(ok, "{stderr}");
    assert_eq!(lines[0]["action"], "hide", "{}", lines[0]);
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "logging at trace: {stderr}"
    );
    let stored: String = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| std::fs::read(e.expect("entry").path()).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    assert!(
        stored.contains("Laskutus meni väärin"),
        "the case was recorded"
    );
    for value in raw {
        assert!(!stderr.contains(value), "logs hold {value}");
        assert!(!stored.contains(value), "register holds {value}");
        assert!(
            !lines[0].to_string().contains(value),
            "output echoes {value}"
        );
    }
}

#[test]
fn export_labels_writes_decided_cases_in_the_training_format() {
    use seula::register::{NewDecision, Register, Verdict};
    let dir = tempfile::tempdir().expect("temp dir");
    let lines = [
        json!({"id": "e1", "text": "Olet täysi idiootti, soita 040 123 4567"}).to_string(),
        json!({"id": "e2", "text": "vitun paskafirma"}).to_string(),
        json!({"id": "e3", "text": "Te ootte kaikki pellejä"}).to_string(),
    ]
    .join("\n");
    let (ok, scored, stderr) = seula_score(
        &["--record", "--database-url", "reg.db"],
        &lines,
        dir.path(),
        "warn",
    );
    assert!(ok, "{stderr}");
    let url = format!("sqlite://{}", dir.path().join("reg.db").display());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let register = Register::connect(&url).await.expect("register");
        let decide = |verdict, labels: Value| NewDecision {
            decision: verdict,
            note: None,
            route: None,
            labels: labels.as_object().cloned().unwrap_or_default(),
        };
        let id = |i: usize| scored[i]["case_id"].as_i64().expect("recorded");
        register
            .decide(
                id(0),
                &decide(Verdict::Hide, json!({"insult": true, "label": "negative"})),
                "aino",
            )
            .await
            .expect("decide");
        register
            .decide(
                id(1),
                &decide(Verdict::Allow, json!({"toxicity": false})),
                "aino",
            )
            .await
            .expect("decide");
        // Escalated, so not decided: not exported.
        register
            .decide(id(2), &decide(Verdict::Escalate, json!({})), "aino")
            .await
            .expect("escalate");
    });
    let out = Command::new(env!("CARGO_BIN_EXE_seula"))
        .args([
            "export-labels",
            "--database-url",
            "reg.db",
            "--output",
            "labels.jsonl",
        ])
        .current_dir(dir.path())
        .env("SEULA_LOG", "warn")
        .output()
        .expect("run seula");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("labels.jsonl")).expect("labels file");
    let labelled: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(labelled.len(), 2, "{text}");
    assert_eq!(
        (
            &labelled[0]["id"],
            &labelled[0]["insult"],
            &labelled[0]["label"],
            &labelled[0]["decision"]
        ),
        (
            &json!("e1"),
            &json!(true),
            &json!("negative"),
            &json!("hide")
        )
    );
    assert_eq!(
        labelled[0]["text"], "Olet täysi idiootti, soita ••••••••••••",
        "personal data stays masked"
    );
    assert_eq!(
        (&labelled[1]["toxicity"], &labelled[1]["decision"]),
        (&json!(false), &json!("allow"))
    );
}
