//! Measures the heap the repetition memory really takes when filled past capacity, and checks it
//! stays within `Memory::bound_bytes`. Its own test binary, so the counting allocator sees nothing else.

use std::alloc::System;
use std::time::Duration;

use cap::Cap;
use chrono::DateTime;
use seula::normalize::normalize;
use seula::signals::repetition::{Config, Fingerprint, Memory, fingerprint};

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

#[test]
fn filled_memory_stays_within_its_bound() {
    let config = Config {
        max_authors: 2_000,
        per_author: 8,
        max_buckets: 4_000,
        per_bucket: 8,
        window: Duration::from_secs(86_400),
        min_similarity: 0.5,
    };
    let words = [
        "juna", "lippu", "sovellus", "maksu", "app", "refund", "train", "ticket", "asiakas",
        "palvelu", "vika", "late",
    ];
    let texts: Vec<Option<Fingerprint>> = (0..20_000usize)
        .map(|i| {
            let text: Vec<&str> = (0..6).map(|k| words[(i / 12usize.pow(k)) % 12]).collect();
            fingerprint(&normalize(&format!("{} {i}", text.join(" "))))
        })
        .collect();
    let before = ALLOCATOR.allocated();
    let memory = Memory::new(config);
    for (i, fingerprint) in texts.iter().enumerate() {
        let at = DateTime::from_timestamp(1_800_000_000 + i as i64, 0).unwrap_or_default();
        memory.observe(
            &format!("c{i}"),
            Some(&format!("author{}", i % 2_500)),
            fingerprint.clone(),
            at,
            true,
        );
    }
    let used = ALLOCATOR.allocated() - before;
    let bound = memory.bound_bytes();
    println!(
        "repetition memory: {used} bytes used, bound {bound} bytes ({:.0}%)",
        100.0 * used as f64 / bound as f64
    );
    assert!(used <= bound, "used {used} > bound {bound}");
    assert!(
        used * 4 >= bound,
        "bound {bound} is far above the real use {used}: the estimate is off"
    );
}
