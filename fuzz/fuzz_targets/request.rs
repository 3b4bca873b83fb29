//! The request path of `/v1/score` and `seula score` on arbitrary bytes: `wire::parse_json`, then
//! `wire::comment_from_value`. Neither panics; an error gives a status and an error line that
//! serialises; a comment that passes holds what validation promises (an id, a text of 1 to
//! 20,000 characters once trimmed, bounded fields, no NUL) and goes through the CPU pipeline
//! like the server's, with every span inside its text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use seula::api::error::ApiError;
use seula::api::wire::{self, ItemError, MAX_ID_CHARS, MAX_TEXT_CHARS};
use seula::policy::AuthorHistory;

fn refused(id: serde_json::Value, error: &ApiError) {
    let _ = error.status();
    serde_json::to_string(&ItemError::new(id, error)).expect("an error line serialises");
}

fuzz_target!(|data: &[u8]| {
    let value = match wire::parse_json(data) {
        Ok(value) => value,
        Err(e) => return refused(serde_json::Value::Null, &e),
    };
    let id = wire::id_of(&value);
    let comment = match wire::comment_from_value(value) {
        Ok(comment) => comment,
        Err(e) => return refused(id, &e),
    };
    assert!(
        !comment.id.trim().is_empty(),
        "blank id accepted: {comment:?}"
    );
    assert!(
        comment.id.chars().count() <= MAX_ID_CHARS,
        "long id accepted: {comment:?}"
    );
    let length = comment.text.trim().chars().count();
    assert!(
        (1..=MAX_TEXT_CHARS).contains(&length),
        "text of {length} characters accepted: {comment:?}"
    );
    assert!(
        !comment.id.contains('\0') && !comment.text.contains('\0'),
        "NUL accepted: {comment:?}"
    );
    let now = chrono::Utc::now();
    let outcome = seula_fuzz::pipeline().decide(&comment, AuthorHistory::default(), now);
    seula_fuzz::check_outcome(&comment, &outcome, comment.created_at.unwrap_or(now));
});
