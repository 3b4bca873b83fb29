//! The whole CPU pipeline (`Pipeline::decide`: normalize, signals, scoring, policy; no register)
//! over a comment whose text is the input, as shipped (lexicons, default policy, built-in models).
//! Every span of every signal and reason lies inside the text on character boundaries, scores
//! are probabilities, the reply is not due before the comment, and the response serialises.
//!
//! The input's length picks the channel (none; `x`, with its own thresholds; `facebook`, with
//! the community word lists of `seula_fuzz::WORDS`) and the author's history, so channel
//! overrides, word lists and escalation are reached too.

#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use seula::api::wire::ScoreResponse;
use seula::domain::{Author, Comment};
use seula::policy::AuthorHistory;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pipeline = seula_fuzz::pipeline();
    let mut comment = Comment::new("fuzz:comment", text);
    comment.channel =
        [None, Some("x"), Some(seula_fuzz::WORDS_CHANNEL)][text.len() % 3].map(str::to_string);
    comment.author = Some(Author {
        id: Some("fuzz:author".into()),
        name: text.lines().next().map(str::to_string),
        ..Author::default()
    });
    let history = AuthorHistory {
        removed: (text.len() % 4) as u32,
    };
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .expect("a valid time");
    let outcome = pipeline.decide(&comment, history, now);
    seula_fuzz::check_outcome(&comment, &outcome, now);
    let response = ScoreResponse::new(comment.id.clone(), outcome);
    serde_json::to_string(&response).expect("a score response serialises");
});
