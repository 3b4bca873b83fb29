//! Criterion benches over the golden fixtures: normalisation, signals, and the whole CPU path
//! (normalize → signals → scores → policy), one comment per iteration, cycling through them all;
//! the worst case, the longest text allowed with every word disguised; and a community's word
//! lists of 1,000 entries.

mod common;

use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use seula::api::wire;
use seula::domain::Comment;
use seula::normalize::normalize;
use seula::pipeline::Pipeline;
use seula::policy::AuthorHistory;
use seula::policy::words::Words;
use seula::signals::{self, Lexicons};

/// Runs `f` on the next item each iteration, so the figure is a per-comment time over the mix.
fn per_comment<I, T>(c: &mut Criterion, name: &str, items: &[I], mut f: impl FnMut(&I) -> T) {
    let mut i = 0;
    c.bench_function(name, |b| {
        b.iter(|| {
            i = (i + 1) % items.len();
            black_box(f(&items[i]))
        })
    });
}

fn stages(c: &mut Criterion) {
    let comments = common::fixtures();
    let lexicons = Lexicons::shipped().expect("lexicons");
    let pipeline = Pipeline::shipped().expect("pipeline");
    let now = Utc::now();
    per_comment(c, "normalize", &comments, |comment| {
        normalize(&comment.text)
    });
    let normalized: Vec<_> = comments.iter().map(|c| (c, normalize(&c.text))).collect();
    per_comment(c, "signals", &normalized, |(comment, text)| {
        signals::extract(&lexicons, comment, text, now)
    });
    per_comment(c, "pipeline", &comments, |comment| {
        pipeline.decide(comment, AuthorHistory::default(), now)
    });
    // The comment of median length, alone: a typical comment's time.
    let mut by_length: Vec<&Comment> = comments.iter().collect();
    by_length.sort_by_key(|c| c.text.chars().count());
    let median = by_length[by_length.len() / 2];
    c.bench_function("pipeline_median_length_comment", |b| {
        b.iter(|| black_box(pipeline.decide(median, AuthorHistory::default(), now)))
    });
    // The worst a client can send: the longest text allowed, every word disguised.
    let disguised = "p*ska v1ttu f*cking sh!t P.A.S.K.A paskaaaa ";
    let text: String = disguised
        .chars()
        .cycle()
        .take(wire::MAX_TEXT_CHARS)
        .collect();
    let longest = Comment::new("longest", text);
    c.bench_function("pipeline_longest_disguised", |b| {
        b.iter(|| black_box(pipeline.decide(&longest, AuthorHistory::default(), now)))
    });
    // A community's word lists of 1,000 entries (stems, whole words and two-word phrases),
    // matched over each fixture comment: what they add to a comment's time.
    let entry = |i: usize| match i % 3 {
        0 => format!("sana{i}*"),
        1 => format!("word{i}"),
        _ => format!("kaksi{i} sanaa*"),
    };
    let words = Words::new(
        (0..500).map(entry).collect(),
        (500..900).map(entry).collect(),
        (900..1000).map(entry).collect(),
    )
    .expect("word lists");
    per_comment(c, "word_lists_1000", &normalized, |(comment, text)| {
        (words.find(&comment.text, text), words.allowed(text))
    });
}

criterion_group!(benches, stages);
criterion_main!(benches);
