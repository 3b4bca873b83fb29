//! Table tests for the shipped lexicons: the hits and misses in fixtures/lexicon_cases.toml
//! (profanity, insults, threats, identity attacks) and fixtures/cue_cases.toml (urgency,
//! sentiment, promotion), run through the real normaliser and matcher.

use serde::Deserialize;
use seula::domain::Comment;
use seula::normalize::normalize;
use seula::signals::{Lexicons, ToxicKind};

#[derive(Debug, Deserialize)]
struct Cases {
    #[serde(default)]
    hit: Vec<Case>,
    #[serde(default)]
    miss: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    text: String,
    lexicon: String,
    category: Option<String>,
    polarity: Option<String>,
}

/// What a lexicon finds in a text, as labels comparable with a case.
fn found(lexicons: &Lexicons, lexicon: &str, text: &str) -> Vec<String> {
    let n = normalize(text);
    let toxic = |kind: ToxicKind| -> Vec<String> {
        lexicons
            .toxicity
            .find(text, &n, false)
            .into_iter()
            .filter(|h| h.kind == kind)
            .map(|h| h.word)
            .collect()
    };
    match lexicon {
        "profanity" => lexicons
            .profanity
            .find(text, &n)
            .into_iter()
            .map(|h| h.word)
            .collect(),
        "insult" => toxic(ToxicKind::Insult),
        "threat" => toxic(ToxicKind::Threat),
        "identity" => toxic(ToxicKind::IdentityAttack),
        "urgency" => lexicons
            .urgency
            .find(text, &n)
            .into_iter()
            .map(|c| c.category.as_str().to_string())
            .collect(),
        "intent" => lexicons
            .intents
            .find(text, &n)
            .into_iter()
            .map(|c| c.intent.as_str().to_string())
            .collect(),
        "spam" => lexicons
            .writing
            .assess(&Comment::new("t", text), &n)
            .promotion
            .into_iter()
            .map(|p| p.words)
            .collect(),
        "sentiment" => match lexicons.sentiment.weigh(&n) {
            w if w > 0.0 => vec!["positive".into()],
            w if w < 0.0 => vec!["negative".into()],
            _ => vec![],
        },
        other => panic!("unknown lexicon {other}"),
    }
}

fn check(file: &str) {
    let source = std::fs::read_to_string(format!("{}/fixtures/{file}", env!("CARGO_MANIFEST_DIR")))
        .expect("cases");
    let cases: Cases = toml::from_str(&source).expect("cases parse");
    let lexicons = Lexicons::shipped().expect("lexicons");
    let mut failures = Vec::new();
    for case in &cases.hit {
        let got = found(&lexicons, &case.lexicon, &case.text);
        let ok = match case.category.as_ref().or(case.polarity.as_ref()) {
            Some(want) => got.contains(want),
            None => !got.is_empty(),
        };
        if !ok {
            failures.push(format!(
                "missed {} {:?} in {:?} (found {got:?})",
                case.lexicon,
                case.category.as_ref().or(case.polarity.as_ref()),
                case.text
            ));
        }
    }
    for case in &cases.miss {
        let got = found(&lexicons, &case.lexicon, &case.text);
        if !got.is_empty() {
            failures.push(format!(
                "false {} hit in {:?}: {got:?}",
                case.lexicon, case.text
            ));
        }
    }
    println!(
        "{file}: {} hits, {} misses, {} failures",
        cases.hit.len(),
        cases.miss.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        cases.hit.len() >= 20 && cases.miss.len() >= 20,
        "too few cases in {file}"
    );
}

#[test]
fn profanity_and_toxicity_lexicons() {
    check("lexicon_cases.toml");
}

#[test]
fn urgency_sentiment_and_promotion_lexicons() {
    check("cue_cases.toml");
}
