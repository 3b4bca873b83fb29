//! Invisible and combining characters do not hide abuse: every disguised comment is decided at
//! least as strictly as its plain twin, with its strongest moderation score no lower. And they
//! do not change ordinary text: decomposed `ä ö å`, emoji joined by ZWJ and variation selectors
//! score exactly as their plain forms.

use chrono::{TimeZone, Utc};
use seula::domain::{Action, Comment};
use seula::pipeline::{Outcome, Pipeline};
use seula::policy::AuthorHistory;

/// Plain abusive comments, Finnish and English, each decided above `allow`.
const PLAIN: &[&str] = &[
    "vitun idiootti",
    "olet täysi idiootti",
    "painu vittuun",
    "haista paska kusipää",
    "senkin saatanan ääliö",
    "tapan sut",
    "te ootte pellejä",
    "vittu mikä paskafirma",
    "saatanan kusipäät",
    "olet säälittävä luuseri",
    "turpa kiinni mulkku",
    "fuck you",
    "you are an idiot",
    "shut up you moron",
    "i will kill you",
    "go to hell asshole",
    "you stupid bitch",
    "what a piece of shit",
    "fucking retard",
    "your agent is a moron",
];

/// A way to disguise a text, by name.
type Disguise = (&'static str, fn(&str) -> String);

/// Ways to disguise a text with characters a reader does not see.
const DISGUISES: &[Disguise] = &[
    ("soft hyphen inside words", |t| inside_words(t, "\u{ad}")),
    ("zero-width space between letters", |t| {
        between_letters(t, "\u{200b}")
    }),
    ("zero-width joiner and non-joiner", |t| {
        between_letters(t, "\u{200d}\u{200c}")
    }),
    ("word joiner and BOM", |t| {
        between_letters(t, "\u{2060}\u{feff}")
    }),
    ("right-to-left override, text reversed", |t| {
        format!("\u{202e}{}\u{202c}", t.chars().rev().collect::<String>())
    }),
    ("zalgo marks stacked on every letter", |t| {
        letters_with(t, &["\u{336}\u{321}", "\u{31b}\u{330}\u{353}", "\u{334}"])
    }),
    ("combining grapheme joiner and variation selector", |t| {
        between_letters(t, "\u{34f}\u{fe0e}")
    }),
];

fn between_letters(text: &str, insert: &str) -> String {
    let mut out = String::new();
    let mut previous_letter = false;
    for c in text.chars() {
        if previous_letter && c.is_alphabetic() {
            out.push_str(insert);
        }
        out.push(c);
        previous_letter = c.is_alphabetic();
    }
    out
}

/// `insert` after the second letter of every word of four or more letters.
fn inside_words(text: &str, insert: &str) -> String {
    text.split(' ')
        .map(|w| {
            if w.chars().count() < 4 {
                return w.to_string();
            }
            let (head, tail) = w.split_at(w.char_indices().nth(2).map_or(0, |(i, _)| i));
            format!("{head}{insert}{tail}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each letter followed by the next stack of marks, in turn.
fn letters_with(text: &str, stacks: &[&str]) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        out.push(c);
        if c.is_alphabetic() {
            out.push_str(stacks[i % stacks.len()]);
        }
    }
    out
}

fn pipeline() -> Pipeline {
    Pipeline::shipped().expect("pipeline")
}

fn decide(pipeline: &Pipeline, text: &str) -> Outcome {
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    pipeline.decide(
        &Comment::new("evasion", text),
        AuthorHistory::default(),
        now,
    )
}

/// The strongest of the moderation scores.
fn strongest(o: &Outcome) -> f32 {
    let s = &o.assessment.scores;
    [
        s.toxicity,
        s.severe_toxicity,
        s.insult,
        s.threat,
        s.identity_attack,
        s.profanity,
    ]
    .into_iter()
    .fold(0.0, f32::max)
}

#[test]
fn disguised_abuse_is_decided_like_its_plain_twin() {
    let pipeline = pipeline();
    let mut failures = Vec::new();
    let mut checked = 0;
    for plain in PLAIN {
        let twin = decide(&pipeline, plain);
        assert!(
            twin.decision.action > Action::Allow,
            "the plain twin {plain:?} must be flagged to test anything"
        );
        for (how, disguise) in DISGUISES {
            let text = disguise(plain);
            let got = decide(&pipeline, &text);
            checked += 1;
            if got.decision.action < twin.decision.action
                || strongest(&got) < strongest(&twin) - 0.1
            {
                failures.push(format!(
                    "{plain:?} with {how}: {:?} {:.2}, plain {:?} {:.2}",
                    got.decision.action,
                    strongest(&got),
                    twin.decision.action,
                    strongest(&twin)
                ));
            }
        }
    }
    assert!(checked >= 100, "only {checked} evasions checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ordinary_finnish_and_emoji_are_unchanged() {
    let pipeline = pipeline();
    let pairs = [
        // Decomposed letters (a + U+0308) against precomposed ones.
        (
            "Ha\u{308}ma\u{308}la\u{308}isen o\u{308}ljyt ja A\u{30a}bo",
            "Hämäläisen öljyt ja Åbo",
        ),
        (
            "Kiitos avusta, pa\u{308}a\u{308}sin junaan 👍",
            "Kiitos avusta, pääsin junaan 👍",
        ),
        // ZWJ emoji sequences and variation selectors against the bare pictographs.
        (
            "Ihana perhe 👨\u{200d}👩\u{200d}👧 ja sydän ❤\u{fe0f}",
            "Ihana perhe 👨👩👧 ja sydän ❤",
        ),
        (
            "Paketti tuli ajallaan 🏳\u{fe0f}\u{200d}🌈 kiitos",
            "Paketti tuli ajallaan 🏳🌈 kiitos",
        ),
    ];
    for (variant, plain) in pairs {
        let (a, b) = (decide(&pipeline, variant), decide(&pipeline, plain));
        assert_eq!(a.assessment.scores, b.assessment.scores, "{variant:?}");
        assert_eq!(a.decision.action, b.decision.action, "{variant:?}");
    }
    let tokens: Vec<String> = seula::normalize::normalize("Hyvää yötä, Åsa ja Jörö")
        .tokens
        .into_iter()
        .map(|t| t.text)
        .collect();
    assert_eq!(tokens, ["hyvää", "yötä", "åsa", "ja", "jörö"]);
}
