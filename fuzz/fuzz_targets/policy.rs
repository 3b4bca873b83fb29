//! The policy and lexicon parsers on any UTF-8 text. None of them panics. As a policy file
//! (`Sources::from_file`, `Policies::resolve`) and as one channel's overrides on the shipped
//! default (what `seula policy validate --channel` and policy activation read): each policy that
//! resolves prints as TOML (`seula policy show`) that reads back as the same policy, and its
//! reply-time targets are never due before the comment. As a lexicon (`FORMAT.md`: profanity,
//! urgency cues, sentiment) and as a community's word lists (`Words::new`, one entry a line, the
//! lines dealt to banned, suspect and allowed in turn): what compiles matches sample comments
//! and the text itself with every hit's span inside the text it was found in. As a transformer
//! model's card (`seula-model.toml`): a card that reads turns logits of any value, huge,
//! infinite or not a number, into scores from 0 to 1 and a sentiment from -1 to 1.

#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use seula::domain::{Action, Priority};
use seula::normalize::normalize;
use seula::policy::words::Words;
use seula::policy::{self, Decision, Policies, Policy, Source, Sources};
use seula::scoring::card::Card;
use seula::scoring::{Assessment, Scores, Sentiment};
use seula::signals::intents::IntentScores;
use seula::signals::lexicon::Lexicon;
use seula::signals::profanity::ProfanityLexicon;
use seula::signals::sentiment::SentimentLexicon;
use seula::signals::urgency;
use seula_fuzz::Original;

const SHIPPED_POLICY: &str = include_str!("../../src/policy/default.toml");

/// Comments a fuzzed lexicon is tried on, beside its own text.
const SAMPLES: &[&str] = &[
    "MIKSI TÄÄ EI TOIMI!!!! vitun operaattori",
    "olet v i t u n idi\u{ad}ootti, p*ska palvelu",
    "\u{202e}ittooidi olet\u{202c} https://x.fi/paska @seula",
    "paketti \u{2105} Matti, juna lähtee 10min päästä",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sources) = Sources::from_file(text) {
        policies(&sources);
    }
    if let Ok(shipped) = Sources::from_file(SHIPPED_POLICY) {
        let source = Source {
            version: 2,
            toml: text.to_string(),
        };
        policies(&shipped.with("chat", source.clone()));
        policies(&shipped.with(policy::DEFAULT, source));
    }
    lexicons(text);
    words(text);
    card(text);
});

/// Logits a model might give, sane or not.
const LOGITS: [f32; 8] = [0.0, 2.5, -7.0, 1e30, -1e30, f32::INFINITY, f32::NAN, 88.0];

fn card(text: &str) {
    let Ok(card) = Card::parse(text) else {
        return;
    };
    for shift in 0..LOGITS.len() {
        let logits: Vec<Vec<f32>> = card
            .outputs
            .iter()
            .enumerate()
            .map(|(i, output)| {
                (0..output.labels.len())
                    .map(|j| LOGITS[(shift + 3 * i + j) % LOGITS.len()])
                    .collect()
            })
            .collect();
        let mut assessment = Assessment {
            scores: Scores::default(),
            floor: Scores::default(),
            sentiment: Sentiment::of([0.2, 0.6, 0.2]),
            intents: IntentScores::default(),
        };
        card.apply(&mut assessment, &logits);
        for name in card.scores() {
            let score = assessment.scores.get(name).expect("a score the card names");
            assert!(
                (0.0..=1.0).contains(&score),
                "{name} = {score} from {logits:?} under {card:?}"
            );
        }
        let sentiment = assessment.sentiment.score;
        assert!(
            (-1.0..=1.0).contains(&sentiment),
            "sentiment {sentiment} from {logits:?} under {card:?}"
        );
    }
}

fn policies(sources: &Sources) {
    let Ok(resolved) = Policies::resolve(sources) else {
        return;
    };
    for (name, _) in sources.iter() {
        let policy = resolved
            .named(name)
            .unwrap_or_else(|| panic!("{name} resolved but is not named in {sources:?}"));
        round_trip(policy);
        reply_times(policy);
    }
}

/// What `seula policy show` prints reads back as the same policy (named `default`, as a file).
fn round_trip(policy: &Policy) {
    let shown = toml::to_string(policy)
        .unwrap_or_else(|e| panic!("policy {policy:?} does not print as TOML: {e}"));
    let again = Policies::from_toml(&shown)
        .unwrap_or_else(|e| panic!("printed policy does not read back: {e}\n{shown}"));
    let mut expected = policy.clone();
    expected.name = policy::DEFAULT.to_string();
    assert_eq!(
        again.for_channel(None),
        &expected,
        "printed policy reads back differently:\n{shown}"
    );
}

/// A reply is never due before the comment it answers.
fn reply_times(policy: &Policy) {
    let times = [
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0),
        Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0),
        Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59),
    ];
    for created in times.into_iter().filter_map(|t| t.single()) {
        for priority in [
            Priority::Urgent,
            Priority::High,
            Priority::Normal,
            Priority::Low,
        ] {
            let decision = Decision {
                action: Action::Review,
                priority,
                route: None,
                reasons: Vec::new(),
                recommendations: Vec::new(),
                protective: false,
                notices: Vec::new(),
                intents: Vec::new(),
                incident: None,
            };
            if let Some(due) = policy.respond_by(&decision, created) {
                assert!(
                    due >= created,
                    "{priority:?} reply due {due}, before the comment at {created}, under {policy:?}"
                );
            }
        }
    }
}

fn lexicons(text: &str) {
    let profanity = ProfanityLexicon::from_toml(text).ok();
    let cues = Lexicon::<urgency::Meta>::from_toml(text).ok();
    let sentiment = SentimentLexicon::from_toml(text).ok();
    if profanity.is_none() && cues.is_none() && sentiment.is_none() {
        return;
    }
    for sample in SAMPLES.iter().copied().chain(std::iter::once(text)) {
        let original = Original::new(sample);
        let normalized = normalize(sample);
        if let Some(lexicon) = &profanity {
            for hit in lexicon.find(sample, &normalized) {
                original.check(hit.span, "profanity hit");
            }
        }
        if let Some(lexicon) = &cues {
            for hit in lexicon.find(&normalized) {
                original.check(hit.span, "cue hit");
                assert!(
                    hit.tokens.start < hit.tokens.end && hit.tokens.end <= normalized.tokens.len(),
                    "cue hit covers tokens {:?} of {} in {sample:?}",
                    hit.tokens,
                    normalized.tokens.len()
                );
            }
        }
        if let Some(lexicon) = &sentiment {
            // Weights are whatever the file says (`inf` included): only "no panic" holds here.
            lexicon.weigh(&normalized);
        }
    }
}

fn words(text: &str) {
    let mut lists: [Vec<String>; 3] = Default::default();
    for (i, line) in text.lines().enumerate() {
        lists[i % 3].push(line.to_string());
    }
    let [banned, suspect, allowed] = lists;
    let Ok(words) = Words::new(banned, suspect, allowed) else {
        return;
    };
    for sample in SAMPLES.iter().copied().chain(std::iter::once(text)) {
        let original = Original::new(sample);
        let normalized = normalize(sample);
        for hit in words.find(sample, &normalized) {
            original.check(hit.span, &format!("word list hit {:?}", hit.entry));
        }
        for span in words.allowed(&normalized) {
            original.check(span, "allowed word");
        }
    }
}
