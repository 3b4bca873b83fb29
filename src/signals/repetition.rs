//! Repetition: one author saying the same thing again, and many authors pasting the same text.
//!
//! A text of three or more words becomes a set of features: its normalised words (numbers left
//! out) and its word pairs, so that word order counts. Two texts are near-duplicates when the
//! Jaccard similarity of their feature sets, estimated by MinHash, is at least `min_similarity`
//! (0.5 by default: in the tests, comments posted again with a few words changed score 0.57 to
//! 0.82, different comments on the same topic 0.16 and 0.45). The estimate comes from a
//! bottom-k sketch, the [`SKETCH`] smallest feature hashes: up to [`SKETCH`] features (about
//! 16 words) the sketch is the whole set and the similarity exact, which matters for short
//! comments, where one changed word moves it by a tenth; for longer texts it is a sample of
//! [`SKETCH`] or more.
//!
//! Per-author history lives in an LRU of authors, holding each text's sketch. Cross-author
//! look-up is locality-sensitive hashing: [`BANDS`] bands of two MinHash values (each the
//! smallest feature hash under one seeded xxh3 permutation) name buckets in a second LRU. Two
//! texts of similarity `s` share a bucket with probability `1 - (1 - s²)^BANDS`: 0.9 at 0.5,
//! 0.97 at 0.6, 0.999 at 0.75. A bucket holds only who posted what; each candidate is verified
//! against its sketch in its author's history, and skipped once that has forgotten it. History
//! older than the window is ignored and pruned. The similarities are computed after the lock is
//! released. Both LRUs have fixed capacities, so memory is bounded: see [`Memory::bound_bytes`].

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lru::LruCache;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::domain::Reason;
use crate::normalize::NormalizedText;

const MIN_WORDS: usize = 3;
/// Feature hashes kept per text: the similarity of two texts with at most this many is exact.
pub const SKETCH: usize = 32;
/// LSH bands per text, each of `ROWS` MinHash values; every band is one bucket look-up.
pub const BANDS: usize = 8;
const ROWS: usize = 2;
/// Pads a sketch of fewer than [`SKETCH`] features; no feature hash takes this value.
const EMPTY: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repetition {
    /// Earlier near-duplicates by the same author within the window.
    pub same_author: u32,
    /// Other authors who posted a near-duplicate within the window.
    pub other_authors: u32,
}

impl Repetition {
    pub fn reasons(&self) -> Vec<Reason> {
        let mut out = Vec::new();
        if self.same_author > 0 {
            let msg = format!(
                "same author posted this {} time(s) before",
                self.same_author
            );
            out.push(Reason::new(
                "repetition.same_author",
                msg,
                (0.15 * self.same_author as f32).min(0.45),
            ));
        }
        if self.other_authors > 0 {
            let msg = format!(
                "{} other author(s) posted the same text",
                self.other_authors
            );
            out.push(Reason::new(
                "repetition.coordinated",
                msg,
                (0.2 * self.other_authors as f32).min(0.8),
            ));
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub window: Duration,
    /// Authors remembered; the least recently seen is forgotten first.
    pub max_authors: usize,
    /// Texts remembered per author.
    pub per_author: usize,
    /// Band buckets remembered across authors; each text takes up to [`BANDS`] of them.
    pub max_buckets: usize,
    /// Texts remembered per bucket.
    pub per_bucket: usize,
    /// Estimated Jaccard similarity of two texts' words and word pairs from which they are
    /// near-duplicates.
    pub min_similarity: f32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(24 * 3600),
            max_authors: 50_000,
            per_author: 8,
            max_buckets: 100_000,
            per_bucket: 8,
            min_similarity: 0.5,
        }
    }
}

/// What [`Memory`] needs of one text: its MinHash sketch and its LSH bands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    sketch: Sketch,
    bands: [u64; BANDS],
}

/// A bottom-k MinHash sketch: the text's smallest feature hashes, ascending, padded with
/// [`EMPTY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sketch([u32; SKETCH]);

/// A text in an author's history.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Seen {
    sketch: Sketch,
    comment: u64,
    at: i64,
}

/// A text in a band bucket: whose it is, to be found in its author's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Posted {
    author: u64,
    comment: u64,
}

#[derive(Debug)]
struct State {
    authors: LruCache<u64, VecDeque<Seen>>,
    buckets: LruCache<u64, VecDeque<Posted>>,
}

#[derive(Debug)]
pub struct Memory {
    config: Config,
    state: Mutex<State>,
}

/// The MinHash sketch and LSH bands of a text's words and word pairs; `None` for texts too
/// short to compare.
pub fn fingerprint(text: &NormalizedText) -> Option<Fingerprint> {
    let words: Vec<u64> = text.words().map(|t| xxh3_64(t.text.as_bytes())).collect();
    if words.len() < MIN_WORDS {
        return None;
    }
    let pairs = words.windows(2).map(|w| {
        let mut pair = [0u8; 16];
        pair[..8].copy_from_slice(&w[0].to_le_bytes());
        pair[8..].copy_from_slice(&w[1].to_le_bytes());
        xxh3_64(&pair)
    });
    let mut features: Vec<u64> = words.iter().copied().chain(pairs).collect();
    features.sort_unstable();
    features.dedup();

    let mut smallest: Vec<u32> = features
        .iter()
        .map(|h| ((h >> 32) as u32).min(EMPTY - 1))
        .collect();
    smallest.sort_unstable();
    smallest.dedup();
    let mut sketch = [EMPTY; SKETCH];
    sketch.iter_mut().zip(&smallest).for_each(|(s, h)| *s = *h);

    // MinHash value `i`: the smallest feature hash under the permutation seeded with `i`.
    let min_hash = |i: usize| {
        features
            .iter()
            .map(|h| xxh3_64_with_seed(&h.to_le_bytes(), i as u64))
            .min()
            .unwrap_or(0)
    };
    let bands = std::array::from_fn(|band| {
        let mut rows = [0u8; 8 * ROWS];
        for (row, bytes) in rows.chunks_exact_mut(8).enumerate() {
            bytes.copy_from_slice(&min_hash(band * ROWS + row).to_le_bytes());
        }
        xxh3_64_with_seed(&rows, band as u64)
    });
    Some(Fingerprint {
        sketch: Sketch(sketch),
        bands,
    })
}

impl Fingerprint {
    /// Estimated Jaccard similarity of the two texts' words and word pairs, 0 to 1.
    pub fn similarity(&self, other: &Fingerprint) -> f32 {
        self.sketch.similarity(&other.sketch)
    }
}

impl Sketch {
    /// The Jaccard similarity of the two feature sets among the hashes both sketches hold all
    /// of: those up to the lower of their largest if full, so every feature if neither is.
    fn similarity(&self, other: &Sketch) -> f32 {
        // The last slot is the largest hash if the sketch is full, else EMPTY.
        let limit = self.0[SKETCH - 1].min(other.0[SKETCH - 1]);
        let held = |s: &[u32; SKETCH]| s.partition_point(|&h| h != EMPTY && h <= limit);
        let (a, b) = (&self.0[..held(&self.0)], &other.0[..held(&other.0)]);
        let (mut i, mut j, mut both) = (0, 0, 0);
        while i < a.len() && j < b.len() {
            let (x, y) = (a[i], b[j]);
            both += usize::from(x == y);
            i += usize::from(x <= y);
            j += usize::from(y <= x);
        }
        let union = a.len() + b.len() - both;
        if union == 0 {
            0.0
        } else {
            both as f32 / union as f32
        }
    }
}

impl Memory {
    pub fn new(config: Config) -> Self {
        let cap = |n: usize| NonZeroUsize::new(n.max(1)).unwrap_or(NonZeroUsize::MIN);
        let state = State {
            authors: LruCache::new(cap(config.max_authors)),
            buckets: LruCache::new(cap(config.max_buckets)),
        };
        Self {
            config,
            state: Mutex::new(state),
        }
    }

    /// The most memory the state can hold, in bytes: entries plus the LRUs' own overhead.
    pub fn bound_bytes(&self) -> usize {
        let c = &self.config;
        // An LRU entry: its boxed node (key, queue, two links) and its share of the hash table,
        // preallocated for the capacity at 7/8 load and rounded up to a power of two: at most
        // 16/7 slots of 17 bytes. Plus, per LRU, two sentinel nodes and trailing control bytes.
        let node = 8 + std::mem::size_of::<VecDeque<Seen>>() + 16 + 40;
        let fixed = 256;
        // A queue's buffer grows by doubling from four entries; it holds at most `cap`.
        let buffer = |cap: usize, entry: usize| cap.max(4).next_power_of_two() * entry;
        let lru =
            |len: usize, cap: usize, entry: usize| fixed + len.max(1) * (node + buffer(cap, entry));
        lru(c.max_authors, c.per_author, std::mem::size_of::<Seen>())
            + lru(c.max_buckets, c.per_bucket, std::mem::size_of::<Posted>())
    }

    /// Tells how often this comment was seen before and, when `keep`, remembers it; the same
    /// comment id twice counts once. Without `keep` (a client that asks nothing be stored) the
    /// memory is only read.
    pub fn observe(
        &self,
        comment_id: &str,
        author_id: Option<&str>,
        fingerprint: Option<Fingerprint>,
        at: DateTime<Utc>,
        keep: bool,
    ) -> Repetition {
        let Some(fingerprint) = fingerprint else {
            return Repetition::default();
        };
        let comment = xxh3_64(comment_id.as_bytes());
        // Without an author, the comment is its own author: never a repeat, still a candidate.
        let author = author_id.map_or(comment ^ 0x9e37_79b9_7f4a_7c15, |a| xxh3_64(a.as_bytes()));
        let seen = Seen {
            sketch: fingerprint.sketch,
            comment,
            at: at.timestamp(),
        };
        let oldest = seen.at - self.config.window.as_secs() as i64;
        let posted = Posted { author, comment };

        // Under the lock, only look-ups and copies: the earlier texts this one may repeat.
        let mut earlier: Vec<(u64, Seen)> = Vec::new();
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let State { authors, buckets } = &mut *state;
            let mut candidates: Vec<Posted> = Vec::new();
            for key in fingerprint.bands {
                if keep {
                    let bucket = buckets.get_or_insert_mut(key, VecDeque::new);
                    candidates.extend(bucket.iter().filter(|p| p.author != author));
                    remember(bucket, posted, self.config.per_bucket, |p| *p == posted);
                } else if let Some(bucket) = buckets.peek(&key) {
                    candidates.extend(bucket.iter().filter(|p| p.author != author));
                }
            }
            candidates.sort_unstable();
            candidates.dedup();
            for p in &candidates {
                let history = authors.peek(&p.author);
                if let Some(s) = history.and_then(|h| h.iter().find(|s| s.comment == p.comment)) {
                    earlier.push((p.author, *s));
                }
            }
            if keep {
                let history = authors.get_or_insert_mut(author, VecDeque::new);
                history.retain(|s| s.at >= oldest);
                earlier.extend(history.iter().map(|s| (author, *s)));
                remember(history, seen, self.config.per_author, |s| {
                    s.comment == comment
                });
            } else if let Some(history) = authors.peek(&author) {
                earlier.extend(history.iter().map(|s| (author, *s)));
            }
        }

        let near = |s: &Seen| {
            s.comment != comment
                && s.at >= oldest
                && s.sketch.similarity(&seen.sketch) >= self.config.min_similarity
        };
        let same_author = earlier
            .iter()
            .filter(|(a, s)| *a == author && near(s))
            .count();
        // Candidates came sorted by author, so one author's texts are next to each other.
        let mut others: Vec<u64> = earlier
            .iter()
            .filter(|(a, s)| *a != author && near(s))
            .map(|(a, _)| *a)
            .collect();
        others.dedup();
        Repetition {
            same_author: same_author as u32,
            other_authors: others.len() as u32,
        }
    }
}

impl Memory {
    /// Forgets everything remembered of an author's texts (their erasure); true when there was any.
    pub fn forget_author(&self, author_id: &str) -> bool {
        let author = xxh3_64(author_id.as_bytes());
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let State { authors, buckets } = &mut *state;
        let known = authors.pop(&author).is_some();
        for (_, bucket) in buckets.iter_mut() {
            bucket.retain(|p| p.author != author);
        }
        known
    }
}

/// Appends `item` unless the queue already holds it, dropping the oldest entry when full.
fn remember<T>(queue: &mut VecDeque<T>, item: T, cap: usize, is_item: impl Fn(&T) -> bool) {
    if queue.iter().any(is_item) {
        return;
    }
    if queue.len() >= cap {
        queue.pop_front();
    }
    queue.push_back(item);
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::normalize::normalize;

    const REFUND: &str =
        "Still waiting for my refund for order 77120, it's been 3 weeks. Can someone please reply?";
    const REFUND_AGAIN: &str =
        "Still waiting for my refund for order 77120, 3 weeks now. Can someone PLEASE reply??";
    const REFUND_FLIGHT: &str =
        "Still waiting for my refund for the cancelled flight, it's been 6 weeks";
    const PAKETTI: &str =
        "Tilasin paketin kolme viikkoa sitten eikä sitä ole vieläkään tullut, mitä ihmettä?";
    const PAKETTI_AGAIN: &str =
        "Tilasin paketin jo kolme viikkoa sitten eikä sitä ole vieläkään kuulunut??";
    const JUNA: &str = "Juna myöhässä taas, kiitos VR";
    const JUNA_OTHER: &str = "Juna on taas myöhässä, ja kahvilavaunu kiinni";
    const SCAM: &str = "NORDAIR IS A SCAM COMPANY, NEVER FLY WITH THEM #NordAirScam";
    const SCAM_B: &str = "NordAir is a scam company!! Never fly with them #NordAirScam";
    const SCAM_C: &str = "NORDAIR IS A SCAM COMPANY. NEVER EVER FLY WITH THEM #NordAirScam";
    const FIRMA: &str = "Tämä firma huijaa asiakkaitaan, älkää ostako mitään täältä koskaan";
    const LONG: &str = "Hei, tilasin teiltä kaksi viikkoa sitten uuden puhelimen ja maksoin sen \
        heti verkkopankissa, mutta tilauksen tila näyttää edelleen odottaa maksua eikä kukaan \
        ole vastannut sähköpostiini tai chattiin vaikka olen yrittänyt joka päivä";
    const LONG_EDITED: &str = "Hei, tilasin teiltä kolme viikkoa sitten uuden puhelimen ja \
        maksoin sen heti verkkopankissa, mutta tilauksen tila näyttää vieläkin odottaa maksua \
        eikä kukaan ole vastannut sähköpostiini tai chattiin vaikka olen yrittänyt monta kertaa";

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).unwrap_or_default()
    }

    fn fp(s: &str) -> Option<Fingerprint> {
        fingerprint(&normalize(s))
    }

    /// The Jaccard similarity of the two texts' word and word-pair sets, computed in full.
    fn exact(a: &str, b: &str) -> f32 {
        let features = |s: &str| {
            let text = normalize(s);
            let words: Vec<&str> = text.words().map(|t| t.text.as_str()).collect();
            let pairs = words.windows(2).map(|w| format!("{} {}", w[0], w[1]));
            words
                .iter()
                .map(|w| w.to_string())
                .chain(pairs)
                .collect::<HashSet<String>>()
        };
        let (a, b) = (features(a), features(b));
        a.intersection(&b).count() as f32 / a.union(&b).count() as f32
    }

    #[test]
    fn similarity_is_exact_for_short_texts_and_close_for_long_ones() {
        // (a, b, the exact similarity, whether they are near-duplicates at the default threshold)
        let cases = [
            (REFUND, REFUND, 1.0, true),
            (REFUND, REFUND_AGAIN, 0.667, true),
            (PAKETTI, PAKETTI_AGAIN, 0.571, true),
            (SCAM, SCAM_B, 1.0, true),
            (SCAM, SCAM_C, 0.818, true),
            (JUNA, JUNA_OTHER, 0.158, false),
            (REFUND, REFUND_FLIGHT, 0.455, false),
            (LONG, LONG_EDITED, 0.726, true),
            (LONG, PAKETTI, 0.075, false),
        ];
        let threshold = Config::default().min_similarity;
        for (a, b, want, near) in cases {
            let (Some(fa), Some(fb)) = (fp(a), fp(b)) else {
                panic!("{a} / {b}: too short to compare");
            };
            let (got, exact) = (fa.similarity(&fb), exact(a, b));
            assert!((exact - want).abs() < 0.001, "{a} / {b}: exact {exact}");
            let full = |f: &Fingerprint| f.sketch.0[SKETCH - 1] != EMPTY;
            let tolerance = if full(&fa) || full(&fb) { 0.1 } else { 1e-6 };
            assert!(
                (got - exact).abs() < tolerance,
                "{a} / {b}: {got}, exact {exact}"
            );
            assert_eq!(got >= threshold, near, "{a} / {b}: {got}");
        }
        assert_eq!(fp("ok kiitos"), None);
        assert_eq!(fp("tilaus 48213 ok"), None, "numbers are not words");
    }

    /// One comment: id, author, text, minute, and the expected (same author, other authors).
    type Step = (
        &'static str,
        Option<&'static str>,
        &'static str,
        i64,
        (u32, u32),
    );

    fn check(name: &str, config: &Config, steps: &[Step]) {
        let memory = Memory::new(config.clone());
        for &(id, author, text, minute, (same_author, other_authors)) in steps {
            let got = memory.observe(id, author, fp(text), at(minute), true);
            let want = Repetition {
                same_author,
                other_authors,
            };
            assert_eq!(got, want, "{name}: {id} at minute {minute}: {text}");
        }
    }

    #[test]
    fn counts_near_duplicates_by_the_same_and_other_authors() {
        let a = Some("fb:user:1");
        let b = Some("fb:user:2");
        let c = Some("x:user:3");
        let scenarios: &[(&str, &[Step])] = &[
            (
                "exact repeats",
                &[
                    ("c1", a, FIRMA, 0, (0, 0)),
                    ("c2", a, FIRMA, 5, (1, 0)),
                    ("c3", a, FIRMA, 9, (2, 0)),
                ],
            ),
            (
                "refund asked again",
                &[
                    ("c1", a, REFUND, 0, (0, 0)),
                    ("c2", a, REFUND_AGAIN, 40, (1, 0)),
                ],
            ),
            (
                "parcel asked again",
                &[
                    ("c1", a, PAKETTI, 0, (0, 0)),
                    ("c2", a, PAKETTI_AGAIN, 90, (1, 0)),
                ],
            ),
            (
                "same topic, another comment",
                &[
                    ("c1", a, JUNA, 0, (0, 0)),
                    ("c2", a, JUNA_OTHER, 10, (0, 0)),
                ],
            ),
            (
                "same complaint in different customers' words",
                &[
                    ("c1", a, REFUND, 0, (0, 0)),
                    ("c2", b, REFUND_FLIGHT, 10, (0, 0)),
                ],
            ),
            (
                "three authors pasting with small edits",
                &[
                    ("c1", a, SCAM, 0, (0, 0)),
                    ("c2", b, SCAM_B, 3, (0, 1)),
                    ("c3", c, SCAM_C, 4, (0, 2)),
                    ("c4", a, SCAM_C, 6, (1, 2)),
                ],
            ),
            (
                "outside the window",
                &[
                    ("c1", a, FIRMA, 0, (0, 0)),
                    ("c2", b, FIRMA, 24 * 60 + 1, (0, 0)),
                    ("c3", a, FIRMA, 24 * 60 + 2, (0, 1)),
                ],
            ),
            (
                "the same comment scored again",
                &[
                    ("c1", a, REFUND, 0, (0, 0)),
                    ("c1", a, REFUND, 1, (0, 0)),
                    ("c2", a, REFUND_AGAIN, 2, (1, 0)),
                    ("c2", a, REFUND_AGAIN, 3, (1, 0)),
                    ("c3", b, REFUND, 4, (0, 1)),
                    ("c3", b, REFUND, 5, (0, 1)),
                ],
            ),
            (
                "comments without an author",
                &[
                    ("c1", None, SCAM, 0, (0, 0)),
                    ("c1", None, SCAM, 1, (0, 0)),
                    ("c2", None, SCAM_B, 2, (0, 1)),
                    ("c3", a, SCAM_C, 3, (0, 2)),
                ],
            ),
            (
                "too short to compare",
                &[
                    ("c1", a, "ok kiitos", 0, (0, 0)),
                    ("c2", a, "ok kiitos", 1, (0, 0)),
                ],
            ),
        ];
        for (name, steps) in scenarios {
            check(name, &Config::default(), steps);
        }
    }

    #[test]
    fn forgets_beyond_its_capacities() {
        let (a, b, c) = (Some("a"), Some("b"), Some("c"));
        let small = Config {
            max_authors: 2,
            per_author: 2,
            max_buckets: BANDS,
            per_bucket: 1,
            ..Config::default()
        };
        let roomy = Config {
            max_authors: 3,
            per_author: 3,
            max_buckets: 3 * BANDS,
            per_bucket: 2,
            ..Config::default()
        };
        // (what is forgotten, the steps with their counts in `small`, the last count in `roomy`)
        let scenarios: &[(&str, &[Step], (u32, u32))] = &[
            (
                "the least recently seen author",
                &[
                    ("c1", a, FIRMA, 0, (0, 0)),
                    ("c2", b, JUNA, 1, (0, 0)),
                    ("c3", c, REFUND, 2, (0, 0)),
                    ("c4", a, FIRMA, 3, (0, 0)),
                ],
                (1, 0),
            ),
            (
                "an author's oldest text",
                &[
                    ("c1", a, FIRMA, 0, (0, 0)),
                    ("c2", a, JUNA, 1, (0, 0)),
                    ("c3", a, REFUND, 2, (0, 0)),
                    ("c4", a, FIRMA, 3, (0, 0)),
                ],
                (1, 0),
            ),
            (
                "a bucket's oldest text",
                &[
                    ("c1", a, SCAM, 0, (0, 0)),
                    ("c2", b, SCAM, 1, (0, 1)),
                    ("c3", c, SCAM, 2, (0, 1)),
                ],
                (0, 2),
            ),
            (
                "the least recently used buckets",
                &[
                    ("c1", a, SCAM, 0, (0, 0)),
                    ("c2", b, JUNA, 1, (0, 0)),
                    ("c3", c, SCAM, 2, (0, 0)),
                ],
                (0, 1),
            ),
        ];
        for (name, steps, roomy_last) in scenarios {
            check(name, &small, steps);
            let mut steps = steps.to_vec();
            if let Some(last) = steps.last_mut() {
                last.4 = *roomy_last;
            }
            check(name, &roomy, &steps);
        }
    }

    #[test]
    fn capacity_is_never_exceeded() {
        let config = Config {
            max_authors: 10,
            per_author: 2,
            max_buckets: 20,
            per_bucket: 2,
            ..Config::default()
        };
        let memory = Memory::new(config);
        for i in 0..500 {
            let text = fp(&format!("kommentti numero {i} kirjoittajalta {}", i % 37));
            memory.observe(
                &format!("c{i}"),
                Some(&format!("a{}", i % 37)),
                text,
                at(i),
                true,
            );
        }
        let state = memory.state.lock().expect("lock");
        assert!(state.authors.len() <= 10 && state.buckets.len() <= 20);
        assert!(
            state.authors.iter().all(|(_, q)| q.len() <= 2)
                && state.buckets.iter().all(|(_, q)| q.len() <= 2)
        );
    }
}
