//! Repetition: one author saying the same thing again, and many authors pasting the same text.
//!
//! Each text of three or more words gets a 64-bit SimHash over its words and word pairs; two texts
//! are near-duplicates within `max_distance` differing bits. Per-author history lives in an LRU of
//! authors; cross-author look-up uses four 16-bit bands of the hash (a near-duplicate within three
//! bits shares at least one band exactly) in a second LRU. Entries older than the window are
//! ignored and pruned. Both LRUs have fixed capacities, so memory is bounded: see [`Memory::bound_bytes`].

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lru::LruCache;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::domain::Reason;
use crate::normalize::NormalizedText;

const MIN_WORDS: usize = 3;
const BANDS: u32 = 4;

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
    /// Band buckets remembered across authors.
    pub max_buckets: usize,
    /// Texts remembered per bucket.
    pub per_bucket: usize,
    /// Differing bits within which two texts are near-duplicates (at most 3, see the module docs).
    pub max_distance: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(24 * 3600),
            max_authors: 50_000,
            per_author: 8,
            max_buckets: 100_000,
            per_bucket: 8,
            max_distance: 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Seen {
    hash: u64,
    author: u64,
    comment: u64,
    at: i64,
}

#[derive(Debug)]
struct State {
    authors: LruCache<u64, VecDeque<Seen>>,
    buckets: LruCache<(u32, u16), VecDeque<Seen>>,
}

#[derive(Debug)]
pub struct Memory {
    config: Config,
    state: Mutex<State>,
}

/// The SimHash of a text's words and word pairs; `None` for texts too short to compare.
pub fn fingerprint(text: &NormalizedText) -> Option<u64> {
    let words: Vec<&str> = text.words().map(|t| t.text.as_str()).collect();
    if words.len() < MIN_WORDS {
        return None;
    }
    let mut counts = [0i32; 64];
    let pairs = words
        .windows(2)
        .map(|w| xxh3_64(format!("{} {}", w[0], w[1]).as_bytes()));
    for h in words.iter().map(|w| xxh3_64(w.as_bytes())).chain(pairs) {
        for (bit, count) in counts.iter_mut().enumerate() {
            *count += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    }
    Some(counts.iter().enumerate().fold(
        0u64,
        |acc, (bit, c)| if *c > 0 { acc | 1 << bit } else { acc },
    ))
}

fn band(hash: u64, i: u32) -> u16 {
    (hash >> (16 * i)) as u16
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
        let node = 64; // an LRU node: key, two links, the hash-table slot
        let per_queue = std::mem::size_of::<VecDeque<Seen>>() + node;
        c.max_authors * (per_queue + 8 + c.per_author * std::mem::size_of::<Seen>())
            + c.max_buckets * (per_queue + 8 + c.per_bucket * std::mem::size_of::<Seen>())
    }

    /// Remembers this comment and tells how often it was seen before; the same comment id twice counts once.
    pub fn observe(
        &self,
        comment_id: &str,
        author_id: Option<&str>,
        hash: Option<u64>,
        at: DateTime<Utc>,
    ) -> Repetition {
        let Some(hash) = hash else {
            return Repetition::default();
        };
        let comment = xxh3_64(comment_id.as_bytes());
        let author = author_id.map_or(comment ^ 0x9e37_79b9_7f4a_7c15, |a| xxh3_64(a.as_bytes()));
        let seen = Seen {
            hash,
            author,
            comment,
            at: at.timestamp(),
        };
        let oldest = seen.at - self.config.window.as_secs() as i64;
        let near = |s: &Seen| {
            s.comment != comment
                && s.at >= oldest
                && (s.hash ^ hash).count_ones() <= self.config.max_distance
        };
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());

        let mut others: Vec<u64> = Vec::new();
        for i in 0..BANDS {
            let bucket = state
                .buckets
                .get_or_insert_mut((i, band(hash, i)), VecDeque::new);
            others.extend(
                bucket
                    .iter()
                    .filter(|s| near(s) && s.author != author)
                    .map(|s| s.author),
            );
            remember(bucket, seen, oldest, self.config.per_bucket);
        }
        others.sort_unstable();
        others.dedup();

        let same_author = match author_id {
            Some(_) => {
                let history = state.authors.get_or_insert_mut(author, VecDeque::new);
                let n = history.iter().filter(|s| near(s)).count();
                remember(history, seen, oldest, self.config.per_author);
                n
            }
            None => 0,
        };
        Repetition {
            same_author: same_author as u32,
            other_authors: others.len() as u32,
        }
    }
}

/// Adds `seen` unless its comment is already there, dropping expired and overflowing entries.
fn remember(queue: &mut VecDeque<Seen>, seen: Seen, oldest: i64, cap: usize) {
    queue.retain(|s| s.at >= oldest);
    if queue.iter().any(|s| s.comment == seen.comment) {
        return;
    }
    if queue.len() >= cap {
        queue.pop_front();
    }
    queue.push_back(seen);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).unwrap_or_default()
    }

    fn fp(s: &str) -> Option<u64> {
        fingerprint(&normalize(s))
    }

    #[test]
    fn near_duplicates_share_most_bits() {
        let a =
            fp("Tämä firma huijaa asiakkaitaan, älkää ostako mitään täältä koskaan").unwrap_or(0);
        let b = fp("Tämä firma huijaa asiakkaitaan!!! Älkää ostako mitään täältä koskaan!")
            .unwrap_or(0);
        let c = fp("Juna oli tänään myöhässä ja konduktööri oli ystävällinen").unwrap_or(0);
        assert!((a ^ b).count_ones() <= 3);
        assert!((a ^ c).count_ones() > 10);
        assert_eq!(fp("ok kiitos"), None);
    }

    #[test]
    fn counts_same_author_and_other_authors() {
        let memory = Memory::new(Config::default());
        let text = fp("Tämä firma huijaa asiakkaitaan, älkää ostako mitään");
        let seen = |id: &str, author: &str, minute: i64| {
            memory.observe(id, Some(author), text, at(minute))
        };
        assert_eq!(
            seen("c1", "a", 0),
            Repetition {
                same_author: 0,
                other_authors: 0
            }
        );
        assert_eq!(
            seen("c2", "a", 5),
            Repetition {
                same_author: 1,
                other_authors: 0
            }
        );
        assert_eq!(
            seen("c2", "a", 6),
            Repetition {
                same_author: 1,
                other_authors: 0
            },
            "same comment again"
        );
        assert_eq!(
            seen("c3", "b", 7),
            Repetition {
                same_author: 0,
                other_authors: 1
            }
        );
        assert_eq!(
            seen("c4", "c", 8),
            Repetition {
                same_author: 0,
                other_authors: 2
            }
        );
        assert_eq!(
            seen("c5", "a", 25 * 60),
            Repetition {
                same_author: 0,
                other_authors: 0
            },
            "outside the window"
        );
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
            memory.observe(&format!("c{i}"), Some(&format!("a{}", i % 37)), text, at(i));
        }
        let state = memory.state.lock().expect("lock");
        assert!(state.authors.len() <= 10 && state.buckets.len() <= 20);
        assert!(
            state.authors.iter().all(|(_, q)| q.len() <= 2)
                && state.buckets.iter().all(|(_, q)| q.len() <= 2)
        );
    }
}
