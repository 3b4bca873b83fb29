//! The moderators' page in headless Chromium, driven through chromedriver with fantoccini: the
//! queue in the API's order, filters kept in the address, a case opened and decided from the
//! keyboard with its reason spans highlighted, and the register and audit log changed; with API
//! keys, the key prompt, a refused decision shown and a decision in the key's name; the
//! thresholds view, one chart per score drawn from the same numbers as `GET /v1/thresholds`; and
//! the word lists, edited, stored and put in force for the default and for a channel.
//!
//! Needs Debian's `chromium` and `chromium-driver` (or `SEULA_CHROMIUM` and `SEULA_CHROMEDRIVER`);
//! without them each test says on stderr that it skipped and passes. `SEULA_SCREENSHOTS=DIR`
//! keeps the screenshots of the queue, a case and the thresholds there (the README's come from
//! `SEULA_SCREENSHOTS=docs/screenshots`); otherwise they go to a folder under the temp dir.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use common::{TestApp, spawn_app, spawn_app_with};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The longest any one thing may take to show in the page.
const WAIT: Duration = Duration::from_secs(20);

struct Tools {
    chromedriver: PathBuf,
    chromium: PathBuf,
}

/// chromedriver and Chromium, or `None` after saying on stderr (past the test harness's capture,
/// so a plain `cargo test` shows it) that the browser tests are skipped.
fn tools() -> Option<Tools> {
    let path = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| default.into())
    };
    let tools = Tools {
        chromedriver: path("SEULA_CHROMEDRIVER", "/usr/bin/chromedriver"),
        chromium: path("SEULA_CHROMIUM", "/usr/bin/chromium"),
    };
    let missing = [
        ("chromedriver", &tools.chromedriver),
        ("chromium", &tools.chromium),
    ]
    .into_iter()
    .find(|(_, path)| !path.is_file());
    let Some((name, _)) = missing else {
        return Some(tools);
    };
    static SKIPPED: Once = Once::new();
    SKIPPED.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "browser tests: skipped ({name} not found: install Debian's chromium and chromium-driver)"
        );
    });
    None
}

/// A chromedriver of this test's own on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver(tools: &Tools) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = Command::new(&tools.chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "chromedriver never listened");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    driver
}

/// Runs `test` in a headless Chromium session that is closed however the test ends.
async fn in_browser<F, Fut>(tools: Tools, test: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let driver = start_driver(&tools).await;
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": tools.chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                     "--disable-dev-shm-usage", "--lang=en-US", "--hide-scrollbars"],
            "prefs": {"intl.accept_languages": "en-US,en"},
        }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session through chromedriver");
    let outcome = tokio::spawn(test(client.clone())).await;
    let _ = client.close().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Evaluates a JavaScript expression in the page until it is truthy, and returns its value.
async fn until(client: &Client, what: &str, expression: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = client
            .execute(&format!("return ({expression});"), vec![])
            .await
            .unwrap_or_else(|e| panic!("waiting for {what}: `{expression}` failed: {e}"));
        let truthy = !matches!(&value, Value::Null | Value::Bool(false))
            && value != json!(0)
            && value != json!("");
        if truthy {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: `{expression}` is {value}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Presses each key in turn on whatever has the focus, as a person at the keyboard would.
async fn press(client: &Client, keys: impl IntoIterator<Item = char>) {
    let mut actions = KeyActions::new("keyboard".into());
    for key in keys {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    client.perform_actions(actions).await.expect("keys");
}

async fn key(client: &Client, key: Key) {
    press(client, [char::from(key)]).await;
}

const ROW_IDS: &str =
    "Array.from(document.querySelectorAll('#queue tbody tr')).map(r => Number(r.dataset.id))";
const SELECTED: &str = "Number(document.querySelector('#queue tbody tr.selected')?.dataset.id)";
const QUEUE_SHOWN: &str = "!document.querySelector('#queue-view').hidden";
const KEY_SHOWN: &str = "!document.querySelector('#key-view').hidden";

/// Waits until the queue lists exactly `ids`, in order.
async fn queue_is(client: &Client, what: &str, ids: &[i64]) {
    let want = json!(ids).to_string();
    until(
        client,
        what,
        &format!("{QUEUE_SHOWN} && JSON.stringify({ROW_IDS}) === '{want}'"),
    )
    .await;
}

/// Moves the queue's selection to `id` with j and k.
async fn select_case(client: &Client, id: i64) {
    let ids: Vec<i64> = serde_json::from_value(until(client, "rows", ROW_IDS).await).expect("ids");
    let selected = until(client, "a selected row", SELECTED).await;
    let from = ids
        .iter()
        .position(|i| json!(i) == selected)
        .expect("selected row");
    let to = ids
        .iter()
        .position(|i| *i == id)
        .expect("the case in the queue");
    let step = if to > from { 'j' } else { 'k' };
    press(client, std::iter::repeat_n(step, from.abs_diff(to))).await;
    until(client, "the selection", &format!("{SELECTED} === {id}")).await;
}

/// Waits until the case view shows case `id`.
async fn case_shown(client: &Client, id: i64) {
    until(
        client,
        "the case view",
        &format!(
            "!document.querySelector('#case-view').hidden && \
             document.querySelector('#case-view h1')?.textContent.includes('#{id}') && \
             document.querySelector('#case-view .decide-row')"
        ),
    )
    .await;
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|c| c["id"].as_i64()).collect())
        .unwrap_or_default()
}

/// Scores a comment and returns its case id.
async fn case(app: &TestApp, request: Value) -> i64 {
    let (status, body) = app.score(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["case_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("not recorded: {body}"))
}

struct Cases {
    outage: i64,
    insult: i64,
    personal: i64,
    swear: i64,
    english: i64,
}

/// A handful of comments as an inbox would send them: an outage a week old (so overdue), an
/// insult at a named employee after two emoji (so UTF-16 and code-point offsets differ), a
/// customer's identity code and IBAN, a swear word, and an English insult by the same author.
async fn score_comments(app: &TestApp) -> Cases {
    let week_ago = (chrono::Utc::now() - chrono::TimeDelta::days(7)).to_rfc3339();
    let comment = |id: &str, text: &str, channel: &str, author: &str| {
        json!({"id": id, "text": text, "channel": channel, "author": {"id": author},
               "thread": {"id": format!("{channel}:post1")}})
    };
    let mut outage = comment(
        "fb:c1",
        "Netti ei toimi taaskaan ja etätyöpalaveri alkaa nyt!",
        "facebook",
        "fb:user:1",
    );
    outage["created_at"] = json!(week_ago);
    Cases {
        outage: case(app, outage).await,
        insult: case(
            app,
            comment(
                "fb:c2",
                "😡😡 Asiakaspalvelija Mikko on täysi idiootti, ei osannut auttaa yhtään",
                "facebook",
                "fb:user:2",
            ),
        )
        .await,
        personal: case(
            app,
            comment(
                "ig:c3",
                "Palautus ei ole tullut! Hetuni on 131052-308T ja tili FI21 1234 5600 0007 85",
                "instagram",
                "ig:user:3",
            ),
        )
        .await,
        swear: case(app, comment("x:c4", "vitun paskafirma", "x", "x:user:4")).await,
        english: case(
            app,
            comment(
                "fb:c5",
                "You are all useless idiots, worst service ever",
                "facebook",
                "fb:user:2",
            ),
        )
        .await,
    }
}

/// The text of the first element `selector` finds, once there is one.
async fn text_of(client: &Client, selector: &str) -> String {
    let script = format!("document.querySelector({selector:?})?.textContent");
    let text = until(client, selector, &script).await;
    text.as_str().unwrap_or_default().to_string()
}

/// The texts of every element `selector` finds, in document order.
async fn texts_of(client: &Client, selector: &str) -> Value {
    let script =
        format!("Array.from(document.querySelectorAll({selector:?})).map(e => e.textContent)");
    until(client, selector, &script).await
}

/// The message bar's text once it shows one (`.error` for an error).
async fn message(client: &Client, kind: &str) -> String {
    text_of(
        client,
        &format!("#message{kind}:not([hidden]) #message-text"),
    )
    .await
}

fn decisions(detail: &Value) -> Vec<(&str, &str, Option<&str>)> {
    detail["decisions"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|d| {
                    let note = d["note"].as_str();
                    Some((d["decision"].as_str()?, d["moderator"].as_str()?, note))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn audit(log: &Value) -> Vec<(&str, &str)> {
    log["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|e| Some((e["kind"].as_str()?, e["actor"].as_str()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The substrings a case's reasons point at, in text order, counting characters (code points).
fn reason_spans(detail: &Value) -> Vec<String> {
    let text: Vec<char> = detail["text"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .collect();
    let mut spans: Vec<(usize, usize)> = detail["reasons"]
        .as_array()
        .map(|reasons| {
            reasons
                .iter()
                .filter_map(|r| Some((r["span"][0].as_u64()?, r["span"][1].as_u64()?)))
                .map(|(a, b)| (a as usize, b as usize))
                .collect()
        })
        .unwrap_or_default();
    spans.sort();
    spans
        .iter()
        .map(|&(a, b)| text[a..b].iter().collect())
        .collect()
}

/// Saves a screenshot of the whole window as `name` in `SEULA_SCREENSHOTS` or the temp dir.
async fn screenshot(client: &Client, name: &str) {
    let dir = std::env::var_os("SEULA_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("seula-screenshots"));
    let png = client.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    std::fs::write(dir.join(name), png).expect("write screenshot");
}

/// As [`screenshot`], with the window made as tall as the page for it.
async fn page_screenshot(client: &Client, name: &str) {
    let (width, height) = client.get_window_size().await.expect("window size");
    let below = client
        .execute(
            "return document.documentElement.scrollHeight - innerHeight;",
            vec![],
        )
        .await
        .expect("page height");
    let taller = height + below.as_u64().unwrap_or(0);
    let size = |h: u64| u32::try_from(h).expect("a window size");
    let resize = |h| client.set_window_size(size(width), size(h));
    resize(taller).await.expect("a taller window");
    let fits = "document.documentElement.scrollHeight <= innerHeight";
    until(client, "the whole page in the window", fits).await;
    screenshot(client, name).await;
    resize(height).await.expect("the window as it was");
}

#[tokio::test]
async fn a_moderator_filters_opens_and_decides_with_the_keyboard() {
    let Some(tools) = tools() else { return };
    let app = spawn_app().await;
    let cases = score_comments(&app).await;
    in_browser(tools, move |client| keyboard_only(client, app, cases)).await;
}

async fn keyboard_only(client: Client, app: TestApp, cases: Cases) {
    let order = ids(&get_json(&app, "/v1/cases?status=open").await);
    assert_eq!(order.len(), 5);
    assert_eq!(order[0], cases.outage, "overdue first: {order:?}");

    // The queue, in the API's order, the overdue case marked, the first one selected.
    client.goto(&app.url("/")).await.expect("open the page");
    queue_is(&client, "the whole queue", &order).await;
    let overdue = until(
        &client,
        "an overdue row",
        "Array.from(document.querySelectorAll('#queue tr.overdue')).map(r => Number(r.dataset.id))",
    )
    .await;
    assert_eq!(overdue, json!([cases.outage]));
    assert_eq!(until(&client, "selection", SELECTED).await, json!(order[0]));
    let row = format!("#queue tr[data-id='{}'] .reasons-cell", cases.insult);
    let reasons = text_of(&client, &row).await;
    assert!(
        reasons.contains("insult aimed at someone: \"idiootti\""),
        "{reasons}"
    );
    screenshot(&client, "queue.png").await;

    // A filter narrows the rows as the API does, and stays in the address over a reload.
    client
        .find(Locator::Css("#filters select[name=route]"))
        .await
        .expect("route filter")
        .select_by_value("communications")
        .await
        .expect("choose a route");
    let communications = ids(&get_json(&app, "/v1/cases?status=open&route=communications").await);
    assert!(communications.contains(&cases.insult) && !communications.contains(&cases.outage));
    queue_is(&client, "the communications queue", &communications).await;
    let hash = until(&client, "hash", "location.hash").await;
    assert!(
        hash.as_str()
            .is_some_and(|h| h.contains("route=communications")),
        "{hash}"
    );
    client.refresh().await.expect("reload");
    queue_is(&client, "the same queue after a reload", &communications).await;
    until(
        &client,
        "the filter kept",
        "document.querySelector('#filters [name=route]').value === 'communications'",
    )
    .await;

    // / goes to the text search from the keyboard.
    press(&client, ['/']).await;
    until(
        &client,
        "search focused",
        "document.activeElement?.name === 'q'",
    )
    .await;
    press(&client, "paskafirma".chars()).await;
    key(&client, Key::Enter).await;
    let found = "/v1/cases?status=open&route=communications&q=paskafirma";
    let found = ids(&get_json(&app, found).await);
    assert_eq!(found, [cases.swear]);
    queue_is(&client, "the search's rows", &found).await;
    client
        .find(Locator::Id("clear-filters"))
        .await
        .expect("clear")
        .click()
        .await
        .expect("clear the filters");
    queue_is(&client, "the whole queue again", &order).await;

    // j and k move the selection; Enter opens the selected case.
    press(&client, ['j']).await;
    until(&client, "j", &format!("{SELECTED} === {}", order[1])).await;
    press(&client, ['k']).await;
    until(&client, "k", &format!("{SELECTED} === {}", order[0])).await;
    select_case(&client, cases.insult).await;
    key(&client, Key::Enter).await;
    case_shown(&client, cases.insult).await;

    // Each reason's span is highlighted, counted in code points past the two emoji.
    let detail = get_json(&app, &format!("/v1/cases/{}", cases.insult)).await;
    let spans = reason_spans(&detail);
    assert!(spans.contains(&"idiootti".to_string()), "{spans:?}");
    assert!(
        spans.contains(&"Asiakaspalvelija Mikko".to_string()),
        "{spans:?}"
    );
    assert_eq!(
        texts_of(&client, "#case-view p.text mark").await,
        json!(spans)
    );
    assert_eq!(
        text_of(&client, "#case-view p.text").await,
        detail["text"],
        "the whole text, once"
    );
    let other = text_of(&client, "#case-view .cases a").await;
    assert_eq!(
        other,
        format!("#{}", cases.english),
        "the author's other case"
    );
    screenshot(&client, "case.png").await;

    // A note typed with letters that are shortcuts (a, e, c, n) decides nothing; Esc leaves
    // the field, h hides, and the queue comes back with the next case selected.
    press(&client, ['n']).await;
    until(
        &client,
        "note focused",
        "document.activeElement?.id === 'note'",
    )
    .await;
    press(&client, "name-calling at staff".chars()).await;
    key(&client, Key::Escape).await;
    until(
        &client,
        "note left",
        "document.activeElement?.id !== 'note'",
    )
    .await;
    press(&client, ['h']).await;
    let position = order
        .iter()
        .position(|&i| i == cases.insult)
        .expect("in order");
    let rest: Vec<i64> = order
        .iter()
        .copied()
        .filter(|&i| i != cases.insult)
        .collect();
    queue_is(&client, "the queue without the decided case", &rest).await;
    let next = format!("{SELECTED} === {}", order[position + 1]);
    until(&client, "the next case selected", &next).await;
    assert_eq!(
        message(&client, "").await,
        format!("Case #{}: hide.", cases.insult)
    );

    // The register and the audit log say what the keyboard did, and nothing else.
    let detail = get_json(&app, &format!("/v1/cases/{}", cases.insult)).await;
    assert_eq!(
        (&detail["outcome"], &detail["status"]),
        (&json!("hide"), &json!("decided"))
    );
    assert_eq!(
        decisions(&detail),
        [("hide", "local", Some("name-calling at staff"))]
    );
    let log = get_json(&app, &format!("/v1/audit?case={}", cases.insult)).await;
    assert_eq!(audit(&log), [("decided", "local"), ("scored", "seula")]);
    assert_eq!(log["items"][0]["detail"]["decision"], "hide");

    // Masked personal data shows as labelled chips, never as the dots.
    select_case(&client, cases.personal).await;
    press(&client, ['o']).await;
    case_shown(&client, cases.personal).await;
    let chips = texts_of(&client, "#case-view p.text .pd").await;
    assert_eq!(chips, json!(["masked identity code", "masked IBAN"]));
    let text = text_of(&client, "#case-view p.text").await;
    assert!(
        !text.contains('•') && text.starts_with("Palautus"),
        "{text}"
    );

    // ? shows the shortcuts and hides them again; u goes back, having decided nothing.
    press(&client, ['?']).await;
    until(&client, "help open", "document.querySelector('#help').open").await;
    press(&client, ['?']).await;
    until(
        &client,
        "help closed",
        "!document.querySelector('#help').open",
    )
    .await;
    press(&client, ['u']).await;
    let back = format!("{QUEUE_SHOWN} && {SELECTED} === {}", cases.personal);
    until(&client, "back in the queue", &back).await;
    let looked = get_json(&app, &format!("/v1/cases/{}", cases.personal)).await;
    assert_eq!(decisions(&looked), [], "looking decides nothing");
}

/// Every golden fixture scored in order, and each recorded case whose label is clear decided as
/// the label says (hide, delete or block for removals, allow for `allow` and `prioritize`), the
/// labels standing in for moderators; `review` cases stay open.
async fn score_and_decide_fixtures(app: &TestApp) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/comments.jsonl"
    ))
    .expect("fixtures");
    for line in text.lines() {
        let fixture: Value = serde_json::from_str(line).expect("fixture line");
        let (status, body) = app.score(&fixture["request"]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let Some(id) = body["case_id"].as_i64() else {
            continue;
        };
        let decision = match fixture["expect"]["action"].as_str() {
            Some(removal @ ("hide" | "delete" | "block_author")) => removal,
            Some("allow" | "prioritize") => "allow",
            _ => continue,
        };
        let (status, body) = app
            .post_raw(
                &format!("/v1/cases/{id}/decisions"),
                json!({ "decision": decision }).to_string(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

#[tokio::test]
async fn the_thresholds_are_plotted_per_score() {
    let Some(tools) = tools() else { return };
    let app = spawn_app().await;
    score_and_decide_fixtures(&app).await;
    in_browser(tools, move |client| thresholds(client, app)).await;
}

/// Per score in the page's order: the score and, per series, the points its line is drawn
/// through (each `M` or `L` of the path); and the marker at each policy threshold.
const DRAWN: &str = "Array.from(document.querySelectorAll('#charts svg')).map(svg => ({
    score: svg.closest('[data-score]').dataset.score,
    title: svg.querySelector('title')?.textContent ?? '',
    label: svg.getAttribute('aria-label') ?? '',
    series: Object.fromEntries(Array.from(svg.querySelectorAll('path.series'))
        .map(p => [p.dataset.series, (p.getAttribute('d').match(/[ML]/g) ?? []).length])),
    marks: Array.from(svg.querySelectorAll('.marker'))
        .map(m => `${m.dataset.action} ${m.dataset.threshold}`).sort(),
}))";

/// The x of the middle of an element on the screen.
const MID_X: &str =
    "(e => { const r = e.getBoundingClientRect(); return (r.left + r.right) / 2; })";

async fn thresholds(client: Client, app: TestApp) {
    let scores = get_json(&app, "/v1/thresholds").await;
    let scores = scores.as_array().expect("scores").clone();
    assert_eq!(scores.len(), 10, "one per score");
    assert!(scores[0]["support"].as_u64() > Some(50), "{}", scores[0]);
    let policy = get_json(&app, "/v1/policies/default").await;
    let actions = &policy["policy"]["actions"];
    assert_eq!(actions["hide"]["insult"], json!(0.7), "{actions}");

    // t in the queue opens the thresholds.
    client.goto(&app.url("/")).await.expect("open the page");
    until(
        &client,
        "the queue",
        &format!("{QUEUE_SHOWN} && {SELECTED}"),
    )
    .await;
    press(&client, ['t']).await;
    until(
        &client,
        "the address",
        "location.hash.startsWith('#/thresholds')",
    )
    .await;
    let ten = "document.querySelectorAll('#charts svg').length === 10";
    until(&client, "one chart per score", ten).await;
    let drawn = until(&client, "the charts", DRAWN).await;
    let drawn = drawn.as_array().expect("charts");

    // One chart per score, in the API's order, each line through every point that has a value,
    // and a marker at each threshold of the default policy.
    for (chart, score) in drawn.iter().zip(&scores) {
        let name = score["score"].as_str().expect("score name");
        assert_eq!(chart["score"], name);
        let label = chart["label"].as_str().unwrap_or_default();
        assert!(label.starts_with(&name.replace('_', " ")), "{label}");
        assert_eq!(
            chart["title"], chart["label"],
            "{name}: <title> and aria-label"
        );
        for series in ["share", "precision", "recall"] {
            let values = score["points"]
                .as_array()
                .expect("points")
                .iter()
                .filter(|p| !p[series].is_null())
                .count();
            assert_eq!(chart["series"][series], json!(values), "{name} {series}");
        }
        let mut marks: Vec<String> = ["delete", "hide", "review", "prioritize"]
            .into_iter()
            .filter_map(|action| Some(format!("{action} {}", actions[action][name].as_f64()?)))
            .collect();
        marks.sort();
        assert_eq!(chart["marks"], json!(marks), "{name}");
    }
    let insult = &scores[2];
    assert_eq!(insult["score"], "insult");
    assert!(
        insult["points"][13]["precision"].is_number(),
        "the fixtures give insult's agreement at 0.7: {insult}"
    );

    // The insult chart's hide marker stands at 0.7 of the way from the x axis's 0 to its 1.
    let at = client
        .execute(
            &format!(
                "const svg = document.querySelector('#charts [data-score=insult] svg'); \
                 const x = {MID_X}; \
                 return [x(svg.querySelector('.tick[data-axis=x][data-value=\"0\"]')), \
                         x(svg.querySelector('.tick[data-axis=x][data-value=\"1\"]')), \
                         x(svg.querySelector('.marker[data-action=hide] line')), \
                         svg.querySelector('.marker[data-action=hide] text').textContent];"
            ),
            vec![],
        )
        .await
        .expect("positions");
    let x = |i: usize| at[i].as_f64().expect("a position");
    let (zero, one, hide) = (x(0), x(1), x(2));
    assert!(one - zero > 200.0, "a chart of some width: {at}");
    let want = zero + 0.7 * (one - zero);
    assert!(
        (hide - want).abs() < 0.5,
        "hide at {hide}, want {want}: {at}"
    );
    assert_eq!(at[3], "hide 0.7");
    assert!(
        text_of(&client, "#charts [data-score=insult] figcaption")
            .await
            .starts_with("Decided by a moderator: "),
    );
    page_screenshot(&client, "thresholds.png").await;

    // Days with no cases: nothing to agree with, and the page says why.
    client
        .goto(&app.url("/#/thresholds?until=2000-01-01"))
        .await
        .expect("an old range");
    let empty = "#charts [data-score=toxicity] figcaption";
    until(
        &client,
        "no decisions",
        &format!("document.querySelector('{empty}')?.textContent.startsWith('No case here')"),
    )
    .await;
    assert_eq!(
        until(
            &client,
            "the day kept",
            "document.querySelector('#range [name=until]').value"
        )
        .await,
        "2000-01-01"
    );

    // u goes back to the queue.
    press(&client, ['u']).await;
    until(&client, "back in the queue", QUEUE_SHOWN).await;
}

#[tokio::test]
async fn a_policy_owner_bans_a_word_and_puts_it_in_force() {
    let Some(tools) = tools() else { return };
    let app = spawn_app().await;
    in_browser(tools, move |client| word_lists(client, app)).await;
}

/// Types `text` at the end of the field `selector` finds, as a person at the keyboard would.
async fn type_into(client: &Client, selector: &str, text: &str) {
    client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .send_keys(text)
        .await
        .expect("typing");
}

async fn click(client: &Client, selector: &str) {
    client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {selector}: {e}"));
}

/// The word-lists view's line about the policy shown, once it starts with `start`.
async fn words_status(client: &Client, start: &str) -> String {
    let script = format!(
        "!document.querySelector('#words-view').hidden && \
         document.querySelector('#words-status').textContent.startsWith({start:?}) && \
         document.querySelector('#words-status').textContent"
    );
    let status = until(client, start, &script).await;
    status.as_str().unwrap_or_default().to_string()
}

/// A comment's action and its reasons' codes, as scored now.
async fn scored(app: &TestApp, comment: Value) -> (String, Vec<String>) {
    let (status, body) = app.score(&comment).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes = body["reasons"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|r| r["code"].as_str())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    (
        body["action"].as_str().unwrap_or_default().to_string(),
        codes,
    )
}

async fn word_lists(client: Client, app: TestApp) {
    // Each text its own, so that none counts as repeated.
    let salad =
        |id: &str, channel: &str, text: &str| json!({"id": id, "channel": channel, "text": text});
    let (action, codes) = scored(&app, salad("s1", "web", "Taas kurkkusalaattia, en jaksa")).await;
    assert_eq!(action, "allow", "{codes:?}");
    let version = get_json(&app, "/v1/policies/default").await["version"].clone();

    // w in the queue opens the default policy's lists as they are in force.
    client.goto(&app.url("/")).await.expect("open the page");
    until(&client, "the queue", QUEUE_SHOWN).await;
    press(&client, ['w']).await;
    words_status(&client, &format!("Policy default v{version} is in force.")).await;
    assert_eq!(
        until(
            &client,
            "the policies in force",
            "Array.from(document.querySelectorAll('#words-pick option')).map(o => o.value)"
        )
        .await,
        json!(["default", "x"])
    );

    // A banned stem and a note typed, Enter stores a new version; it is not in force until
    // Activate, which has the focus, is pressed.
    type_into(&client, "#words-form [name=banned]", "kurkkusalaatti*").await;
    type_into(&client, "#words-form [name=note]", "no salad talk").await;
    key(&client, Key::Enter).await;
    let stored = text_of(&client, "#words-stored:not([hidden]) #words-stored-text").await;
    let new = version.as_u64().expect("a version") + 1;
    assert_eq!(
        stored,
        format!("Policy default v{new} is stored, not in force.")
    );
    until(
        &client,
        "Activate focused",
        "document.activeElement?.id === 'words-activate'",
    )
    .await;
    assert_eq!(
        get_json(&app, "/v1/policies/default").await["version"],
        version
    );
    page_screenshot(&client, "words.png").await;
    key(&client, Key::Enter).await;
    assert_eq!(
        message(&client, ".ok").await,
        format!("Policy default v{new} is in force for every new comment.")
    );
    words_status(&client, &format!("Policy default v{new} is in force.")).await;

    // Every new comment is decided by it: the inflected form is hidden for the banned stem.
    let (action, codes) = scored(&app, salad("s2", "web", "Kurkkusalaattia joka päivä")).await;
    assert_eq!(action, "hide", "{codes:?}");
    assert!(codes.iter().any(|c| c == "wordlist.banned"), "{codes:?}");
    let listed = get_json(&app, "/v1/policies").await;
    let versions = listed["versions"].as_array().expect("versions").clone();
    let ours = versions
        .iter()
        .find(|v| v["name"] == "default" && v["version"] == new)
        .expect("the stored version");
    assert_eq!(
        (&ours["created_by"], &ours["note"], &ours["active"]),
        (&json!("local"), &json!("no salad talk"), &json!(true))
    );

    // A malformed entry is refused with the server's own message, naming it; nothing is stored.
    type_into(&client, "#words-form [name=suspect]", "*").await;
    click(&client, "#words-form button[type=submit]").await;
    let lists = json!({"banned": ["kurkkusalaatti*"], "suspect": ["*"], "allowed": [],
                       "banned_action": "hide"});
    let refused = app
        .request(reqwest::Method::PUT, "/v1/policies/default/words")
        .json(&lists)
        .send()
        .await
        .expect("PUT the same lists");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = refused.json().await.expect("JSON");
    let reason = refused["error"]["message"].as_str().expect("a message");
    assert!(reason.contains("words.suspect[0] \"*\""), "{reason}");
    assert_eq!(
        message(&client, ".error").await,
        format!("Error 422: {reason}")
    );
    assert_eq!(
        get_json(&app, "/v1/policies").await["versions"],
        json!(versions)
    );
    assert_eq!(
        until(
            &client,
            "nothing stored",
            "document.querySelector('#words-stored').hidden"
        )
        .await,
        json!(true)
    );

    // A channel without a policy of its own starts from the lists it inherits; its own, with
    // banned words deleted, decide only its comments.
    type_into(&client, "#words-pick [name=channel]", "facebook").await;
    key(&client, Key::Enter).await;
    words_status(&client, "The channel facebook has no policy of its own").await;
    let inherited = "document.querySelector('#words-form [name=banned]').value";
    assert_eq!(
        until(&client, "the inherited list", inherited).await,
        "kurkkusalaatti*"
    );
    click(
        &client,
        "#words-form [name=banned_action] option[value=delete]",
    )
    .await;
    click(&client, "#words-form button[type=submit]").await;
    let stored = text_of(&client, "#words-stored:not([hidden]) #words-stored-text").await;
    assert_eq!(stored, "Policy facebook v1 is stored, not in force.");
    click(&client, "#words-activate").await;
    words_status(&client, "Policy facebook v1 is in force.").await;
    let on_facebook = salad("s3", "facebook", "Ei enää kurkkusalaattia");
    assert_eq!(scored(&app, on_facebook).await.0, "delete");
    let elsewhere = salad("s4", "web", "Miksi aina kurkkusalaattia");
    assert_eq!(scored(&app, elsewhere).await.0, "hide");
}

const SCORER: &str = "scorer-key-0123456789abcdef";
const ANNA: &str = "anna-key-0123456789abcdef";
const AINO: &str = "aino-key-0123456789abcdef";

#[tokio::test]
async fn with_keys_the_page_asks_for_one_and_decides_in_its_name() {
    let Some(tools) = tools() else { return };
    let keys = format!("scorer:inbox:{SCORER}, moderator:anna:{ANNA}, moderator:aino:{AINO}");
    let mut app = spawn_app_with(Some(&keys)).await;
    app.token = Some(SCORER.into());
    let cases = score_comments(&app).await;
    app.token = Some(AINO.into());
    let (status, claim) = app
        .post_raw(&format!("/v1/cases/{}/claim", cases.swear), "")
        .await;
    assert_eq!(status, StatusCode::OK, "{claim}");
    app.token = Some(ANNA.into());
    in_browser(tools, move |client| with_a_key(client, app, cases)).await;
}

async fn with_a_key(client: Client, app: TestApp, cases: Cases) {
    // The page loads without a key and asks for one, here in Finnish; a wrong key is refused.
    client.goto(&app.url("/")).await.expect("open the page");
    let prompt = format!("{KEY_SHOWN} && document.activeElement?.id === 'key-input'");
    until(&client, "the key prompt", &prompt).await;
    client
        .find(Locator::Css("[data-lang=fi]"))
        .await
        .expect("FI")
        .click()
        .await
        .expect("Finnish");
    until(&client, "Finnish", "document.documentElement.lang === 'fi'").await;
    assert_eq!(text_of(&client, "#key-title").await, "API-avain");
    client
        .find(Locator::Id("key-input"))
        .await
        .expect("key field")
        .click()
        .await
        .expect("focus");
    press(&client, "wrong-key-0123456789abcdef".chars()).await;
    key(&client, Key::Enter).await;
    let refused = message(&client, ".error").await;
    assert!(refused.starts_with("Avainta ei hyväksytty"), "{refused}");
    until(&client, "the prompt again", KEY_SHOWN).await;

    // The moderator's key opens the queue; it stays out of the address and local storage.
    press(&client, ANNA.chars()).await;
    key(&client, Key::Enter).await;
    let order = ids(&get_json(&app, "/v1/cases?status=open").await);
    queue_is(&client, "the queue", &order).await;
    assert_eq!(text_of(&client, "#queue-title").await, "Jono");
    let stored = client
        .execute(
            "return [location.href, sessionStorage.getItem('seula.key'), \
             JSON.stringify(localStorage)];",
            vec![],
        )
        .await
        .expect("storage");
    assert_eq!(stored[1], ANNA);
    for kept in [&stored[0], &stored[2]] {
        assert!(!kept.as_str().unwrap_or_default().contains(ANNA), "{kept}");
    }

    // A case Aino holds cannot be decided by Anna: the 409 is shown, nothing changes.
    select_case(&client, cases.swear).await;
    key(&client, Key::Enter).await;
    case_shown(&client, cases.swear).await;
    press(&client, ['a']).await;
    let conflict = message(&client, ".error").await;
    assert!(
        conflict.starts_with("Virhe 409") && conflict.contains("aino"),
        "{conflict}"
    );
    screenshot(&client, "case-fi.png").await;
    let held = get_json(&app, &format!("/v1/cases/{}", cases.swear)).await;
    assert_eq!(decisions(&held), []);
    assert_eq!(held["outcome"], held["action"]);

    // Back with Esc, another case deleted with d: in Anna's name.
    key(&client, Key::Escape).await;
    until(&client, "the queue", QUEUE_SHOWN).await;
    select_case(&client, cases.english).await;
    key(&client, Key::Enter).await;
    case_shown(&client, cases.english).await;
    press(&client, ['d']).await;
    let rest: Vec<i64> = order
        .iter()
        .copied()
        .filter(|&i| i != cases.english)
        .collect();
    queue_is(&client, "the queue without the deleted case", &rest).await;
    let done = message(&client, "").await;
    assert_eq!(done, format!("Tapaus #{}: poista.", cases.english));
    let detail = get_json(&app, &format!("/v1/cases/{}", cases.english)).await;
    assert_eq!(detail["outcome"], "delete");
    assert_eq!(decisions(&detail), [("delete", "anna", None)]);
    let log = get_json(&app, &format!("/v1/audit?case={}", cases.english)).await;
    assert_eq!(audit(&log), [("decided", "anna"), ("scored", "seula")]);

    // Forgetting the key asks for one again.
    client
        .find(Locator::Id("forget-key"))
        .await
        .expect("forget")
        .click()
        .await
        .expect("forget the key");
    let forgotten = format!("{KEY_SHOWN} && sessionStorage.getItem('seula.key') === null");
    until(&client, "the key prompt after forgetting", &forgotten).await;
}

#[tokio::test]
async fn a_moderator_renames_merges_and_closes_incidents() {
    let Some(tools) = tools() else { return };
    let app = spawn_app().await;
    in_browser(tools, move |client| incidents(client, app)).await;
}

async fn incidents(client: Client, app: TestApp) {
    // Two outages, each reported by six customers.
    let texts = [
        "Pikamaksu ei toimi OmaPankissa",
        "Verkkopankkiin kirjautuminen ei toimi",
    ];
    let items: Vec<Value> = (0..12)
        .map(|i| json!({"id": format!("r{i}"), "text": format!("{} ({i})", texts[i % 2]), "author": {"id": format!("a{i}")}}))
        .collect();
    let (status, _) = app.score_batch(&items).await;
    assert_eq!(status, StatusCode::OK);
    let open = get_json(&app, "/v1/incidents?status=open").await;
    let ids: Vec<i64> = open["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .collect();
    assert_eq!(ids.len(), 2, "{open}");
    let (logins, payments) = (ids[0], ids[1]);

    // i in the queue shows the open incidents.
    client.goto(&app.url("/")).await.expect("open the page");
    until(&client, "the queue", QUEUE_SHOWN).await;
    press(&client, ['i']).await;
    let cards = "!document.querySelector('#incidents-view').hidden && \
                 document.querySelectorAll('#incidents-list article').length";
    assert_eq!(until(&client, "two incidents", cards).await, json!(2));
    page_screenshot(&client, "incidents.png").await;

    // Renamed from its card.
    let card = |id: i64| format!("#incidents-list article[data-id='{id}']");
    let title = format!("{} form.rename [name=title]", card(payments));
    client
        .find(Locator::Css(&title))
        .await
        .expect("the title field")
        .clear()
        .await
        .expect("cleared");
    type_into(&client, &title, "Pikamaksu-katko").await;
    click(&client, &format!("{} form.rename button", card(payments))).await;
    let renamed = format!(
        "document.querySelector(\"{} h2\")?.textContent.startsWith('Pikamaksu-katko')",
        card(payments)
    );
    until(&client, "the new title", &renamed).await;
    let stored = get_json(&app, &format!("/v1/incidents/{payments}")).await;
    assert_eq!(stored["title"], "Pikamaksu-katko");

    // The login incident merged into the payments one, from its card's list of open ones.
    click(&client, &format!("{} form.merge button", card(logins))).await;
    // The merged one leaves the open list.
    until(&client, "one open incident", &format!("{cards} === 1")).await;
    let merged = get_json(&app, &format!("/v1/incidents/{logins}")).await;
    assert_eq!(
        (merged["status"].as_str(), merged["merged_into"].as_i64()),
        (Some("merged"), Some(payments))
    );

    // Its cases are a queue filter away; then it is closed.
    click(&client, &format!("{} a", card(payments))).await;
    let rows = "!document.querySelector('#queue-view').hidden && \
                document.querySelector('#filters [name=incident]').value && \
                document.querySelectorAll('#queue tbody tr').length";
    assert_eq!(
        until(&client, "the incident's cases", rows).await,
        json!(12)
    );
    press(&client, ['i']).await;
    until(&client, "the incidents again", cards).await;
    click(&client, &format!("{} button.toggle", card(payments))).await;
    let said = format!(
        "document.querySelector('#message-text').textContent === 'Incident {payments} is closed.'"
    );
    until(&client, "the closing said", &said).await;
    let closed = get_json(&app, &format!("/v1/incidents/{payments}")).await;
    assert_eq!(closed["status"], "closed");
}

#[tokio::test]
async fn the_trends_are_drawn_by_intent_action_sentiment_and_incidents() {
    let Some(tools) = tools() else { return };
    let app = spawn_app().await;
    in_browser(tools, move |client| trends(client, app)).await;
}

async fn trends(client: Client, app: TestApp) {
    let texts = [
        "Pikamaksu ei toimi OmaPankissa",
        "Olet täysi idiootti ja vitun valehtelija",
        "Junasovellus veloitti minulta kahdesti ja juna lähtee kymmenen minuutin päästä, auttakaa!",
    ];
    let items: Vec<Value> = (0..15)
        .map(|i| json!({"id": format!("t{i}"), "text": texts[i % 3], "author": {"id": format!("a{i}")}}))
        .collect();
    let (status, scored) = app.score_batch(&items).await;
    assert_eq!(status, StatusCode::OK, "{scored}");
    let first = scored["items"][1]["case_id"].as_i64().expect("a case");
    let (status, _) = app
        .post_raw(
            &format!("/v1/cases/{first}/decisions"),
            json!({"decision": "hide"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // g in the queue draws the last week by day.
    client.goto(&app.url("/")).await.expect("open the page");
    until(&client, "the queue", QUEUE_SHOWN).await;
    press(&client, ['g']).await;
    let charts = "!document.querySelector('#trends-view').hidden && \
                  document.querySelectorAll('#trend-charts figure').length === 4";
    until(&client, "four charts", charts).await;
    let legend = until(
        &client,
        "the intents' legend",
        "Array.from(document.querySelectorAll(\"[data-chart=g_intent] .trend-legend li\")).map(l => l.dataset.key)",
    )
    .await;
    let keys: Vec<&str> = legend
        .as_array()
        .map(|k| k.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(keys.contains(&"problem_report"), "{legend}");
    let lines = "document.querySelectorAll('[data-chart=g_action] path.trend').length";
    let opened = "document.querySelectorAll('[data-chart=g_incidents] circle.dot').length > 0";
    until(&client, "the incident opened", opened).await;
    assert!(until(&client, "the action lines", lines).await.as_u64() >= Some(2));
    let reply = "document.querySelectorAll('#reply-times tbody tr').length";
    until(&client, "reply-time rows", reply).await;
    let attained = "Array.from(document.querySelectorAll('#reply-times tbody td:last-child')).map(td => td.textContent)";
    let attained = until(&client, "attainment", attained).await;
    assert!(attained.to_string().contains("100 %"), "{attained}");
    page_screenshot(&client, "trends.png").await;

    // By the hour, from the form; the address keeps it.
    let select = client
        .find(Locator::Css("#trends-range [name=bucket]"))
        .await
        .expect("the step");
    select.select_by_value("hour").await.expect("hour");
    click(&client, "#trends-range button[type=submit]").await;
    until(
        &client,
        "the hourly charts",
        "location.hash.includes('bucket=hour') && \
         document.querySelector('[data-chart=g_intent] svg title').textContent.includes(':00')",
    )
    .await;
}
