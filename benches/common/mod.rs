//! What the benches share: the golden fixtures as validated comments.

use seula::api::wire;
use seula::domain::Comment;

/// The 297 golden fixtures (`fixtures/comments.jsonl`), in file order.
pub fn fixtures() -> Vec<Comment> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/comments.jsonl"
    ))
    .expect("fixtures");
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("fixture line");
            wire::comment_from_value(v["request"].clone()).expect("valid fixture")
        })
        .collect()
}
