//! `seula score` as a process: JSON Lines in, one line out for each, errors in place.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// The shipped policies, as a decision takes them.
fn shipped() -> seula::policy::Policies {
    seula::policy::Policies::shipped().expect("shipped policy")
}

/// Runs `seula score` with `SEULA_LOG=log`; returns success, the output lines and stderr.
fn seula_score(
    args: &[&str],
    input: impl AsRef<[u8]>,
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
        .write_all(input.as_ref())
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
    // A line that is not UTF-8 and a Windows line end do not stop the lines after them.
    let mut bytes = input().into_bytes();
    bytes.extend_from_slice(b"\n{\"id\": \"l7\", \"text\": \"\xff\xfe kiitos\"}\r\n");
    bytes.extend_from_slice(
        json!({"id": "l8", "text": "Kiitos!"})
            .to_string()
            .as_bytes(),
    );
    let (ok, lines, stderr) = seula_score(&[], &bytes, dir.path(), "warn");
    assert!(ok, "{stderr}");
    assert_eq!(lines.len(), 8);
    assert_eq!(lines[6]["error"]["code"], "malformed_json");
    assert_eq!(lines[7]["id"], "l8");
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
                &shipped(),
            )
            .await
            .expect("decide");
        register
            .decide(
                id(1),
                &decide(Verdict::Allow, json!({"toxicity": false})),
                "aino",
                &shipped(),
            )
            .await
            .expect("decide");
        // Escalated, so not decided: not exported.
        register
            .decide(
                id(2),
                &decide(Verdict::Escalate, json!({})),
                "aino",
                &shipped(),
            )
            .await
            .expect("escalate");
    });
    let (ok, _, stderr) = seula(
        &[
            "export-labels",
            "--database-url",
            "reg.db",
            "--output",
            "labels.jsonl",
        ],
        dir.path(),
    );
    assert!(ok, "{stderr}");
    let text = std::fs::read_to_string(dir.path().join("labels.jsonl")).expect("labels file");
    let mut labelled: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(labelled.len(), 2, "{text}");
    // `seula score` records lines as they are scored, several at once: by comment id.
    labelled.sort_by_key(|l| l["id"].as_str().map(str::to_owned));
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

/// Runs `seula ARGS` in `dir`; returns success, stdout and stderr.
fn seula(args: &[&str], dir: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_seula"))
        .args(args)
        .current_dir(dir)
        .env("SEULA_LOG", "warn")
        .env_remove("SEULA_DATABASE_URL")
        .env_remove("SEULA_POLICY")
        .output()
        .expect("run seula");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn policy_show_and_validate_round_trip_and_name_every_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, shown, stderr) = seula(&["policy", "show", "x"], dir.path());
    assert!(ok, "{stderr}");
    assert!(shown.starts_with("name = \"x\"\nversion = 1\n"), "{shown}");
    assert!(
        shown.contains("[actions.review]") && shown.contains("troll = 0.5"),
        "{shown}"
    );
    // The default, shown and kept in a file, is a valid policy file again.
    let (_, default, _) = seula(&["policy", "show"], dir.path());
    std::fs::write(
        dir.path().join("default.toml"),
        default.replace("insult = 0.7", "insult = 0.6"),
    )
    .expect("write");
    let (ok, out, stderr) = seula(&["policy", "validate", "default.toml"], dir.path());
    assert!(ok, "{stderr}");
    assert!(out.contains("valid (default)"), "{out}");
    std::fs::write(
        dir.path().join("chat.toml"),
        "[actions.hide]\ntoxicity = 1.7\ntroll = 0.5\n",
    )
    .expect("write");
    let (ok, _, stderr) = seula(
        &["policy", "validate", "chat.toml", "--channel", "chat"],
        dir.path(),
    );
    assert!(!ok);
    for problem in [
        "chat.toml: channels.chat: actions.hide.toxicity: 1.7 is not in [0, 1]",
        "chat.toml: actions.hide.troll: account and writing signals may reach review at most",
    ] {
        assert!(stderr.contains(problem), "{problem} missing: {stderr}");
    }
    let (ok, _, stderr) = seula(&["policy", "show", "nochannel"], dir.path());
    assert!(
        !ok && stderr.contains("no policy \"nochannel\""),
        "{stderr}"
    );
}

#[test]
fn policy_replay_prints_the_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, _, stderr) = seula_score(
        &["--record", "--database-url", "reg.db"],
        input(),
        dir.path(),
        "warn",
    );
    assert!(ok, "{stderr}");
    let (_, default, _) = seula(&["policy", "show"], dir.path());
    let candidate = default.replacen("[actions.hide]\n", "[actions.hide]\nprofanity = 0.9\n", 1);
    std::fs::write(dir.path().join("candidate.toml"), candidate).expect("write");
    let (ok, out, stderr) = seula(
        &[
            "policy",
            "replay",
            "candidate.toml",
            "--database-url",
            "reg.db",
            "--since",
            "2000-01-01",
        ],
        dir.path(),
    );
    assert!(ok, "{stderr}");
    assert!(
        out.starts_with("policy default: 2 recorded cases; action changes for 1"),
        "{out}"
    );
    assert!(out.contains("review -> hide"), "{out}");
    let (ok, _, stderr) = seula(
        &[
            "policy",
            "replay",
            "candidate.toml",
            "--database-url",
            "reg.db",
            "--since",
            "last week",
        ],
        dir.path(),
    );
    assert!(
        !ok && stderr.contains("neither RFC 3339 nor a date"),
        "{stderr}"
    );
}

#[test]
fn an_author_is_exported_erased_and_texts_purged_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let line =
        json!({"id": "e1", "text": "vitun paskafirma, Kuutamokeiju", "author": {"id": "x:me"}});
    let (ok, _, stderr) = seula_score(
        &["--record", "--database-url", "reg.db"],
        line.to_string(),
        dir.path(),
        "warn",
    );
    assert!(ok, "{stderr}");
    let db = ["--database-url", "reg.db"];

    let (ok, out, err) = seula(&[&["export-author", "x:me"][..], &db].concat(), dir.path());
    assert!(ok, "{err}");
    let export: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(export["author"]["id"], "x:me");
    assert_eq!(export["cases"][0]["text"], "vitun paskafirma, Kuutamokeiju");

    let (ok, out, err) = seula(
        &[&["erase-author", "x:me", "--by", "dpo"][..], &db].concat(),
        dir.path(),
    );
    assert!(ok, "{err}");
    let erasure: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        (&erasure["cases"], &erasure["erased_by"]),
        (&json!(1), &json!("dpo"))
    );
    let (ok, _, err) = seula(&[&["export-author", "x:me"][..], &db].concat(), dir.path());
    assert!(
        !ok && err.contains("holds nothing of author \"x:me\""),
        "{err}"
    );

    let (ok, out, err) = seula(
        &[&["purge", "--retention", "facebook=30"][..], &db].concat(),
        dir.path(),
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), r#"{"texts_removed":0}"#);
    let (ok, _, err) = seula(
        &[&["purge", "--retention", "chat=0"][..], &db].concat(),
        dir.path(),
    );
    assert!(!ok && err.contains("at least 1 day"), "{err}");
}

#[test]
fn the_binary_scores_from_any_directory_with_its_built_in_models() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_seula"))
        .arg("score")
        .current_dir(dir.path())
        .env("SEULA_LOG", "warn")
        .env_remove("SEULA_MODELS")
        .env_remove("SEULA_POLICY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start seula");
    let line = json!({"id": "a", "text": "vitun idiootti"}).to_string();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(line.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("run seula");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let answer: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(answer["action"], "hide", "{answer}");
    let (ok, table, err) = seula(&["eval"], dir.path());
    assert!(ok && table.contains("toxicity"), "{err}");
}
