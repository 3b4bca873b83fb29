//! The author's profile: account age, photo, connections, posts, bio, a suspicious name, and how
//! likely the profile is fake or a throwaway (`fake_account`).
//!
//! Unknown is never held against anyone: a missing field gives `None` and no reason, and adds
//! nothing to `fake_account`. These signals flag new and non-native users too, so the policy lets
//! them reach `review` at most.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Author, Reason};
use crate::signals::is_vowel;

pub const NEW_ACCOUNT_DAYS: u32 = 30;
pub const FEW_FOLLOWERS: u64 = 10;
pub const FEW_POSTS: u64 = 5;
/// From this score on a name counts as suspicious.
pub const SUSPICIOUS_NAME: f32 = 0.5;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountSignals {
    pub age_days: Option<u32>,
    pub has_photo: Option<bool>,
    pub few_connections: Option<bool>,
    pub few_posts: Option<bool>,
    pub empty_bio: Option<bool>,
    /// 0 ordinary, 1 certainly generated or disguised.
    pub name_suspicious: Option<f32>,
    /// The probability that the profile is fake or a throwaway (see [`fake_account`]).
    #[serde(skip)]
    pub fake_account: f32,
}

pub fn assess(author: &Author, now: DateTime<Utc>) -> AccountSignals {
    let age_days = author.account_age_days.or_else(|| {
        author
            .created_at
            .map(|c| (now - c).num_days().clamp(0, u32::MAX.into()) as u32)
    });
    let name = author.name.as_deref().filter(|n| !n.trim().is_empty());
    let handle = author.handle.as_deref().filter(|h| !h.trim().is_empty());
    let name_suspicious = (name.is_some() || handle.is_some()).then(|| name_score(name, handle));
    AccountSignals {
        age_days,
        has_photo: author.has_photo,
        few_connections: author.followers.map(|f| f < FEW_FOLLOWERS),
        few_posts: author.posts.map(|p| p < FEW_POSTS),
        empty_bio: author.bio.as_ref().map(|b| b.trim().is_empty()),
        name_suspicious,
        fake_account: fake_account(author, age_days, name_suspicious),
    }
}

/// The probability that a profile is fake or a throwaway, from what it shows: no or few posts,
/// following far more accounts than follow it back, few followers, no photo, no bio, a new
/// account, a generated-looking name or handle. Each known field moves the log-odds by a bounded
/// amount, on a log scale for counts; an unknown field moves nothing, so a comment without a
/// profile gets the prior, about 0.08. The weights are set by hand from what fake-account studies
/// report (InstaFake, Akyon & Kalfaoglu 2019; Cresci et al. 2015), not fitted to any data set.
pub fn fake_account(author: &Author, age_days: Option<u32>, name_suspicious: Option<f32>) -> f32 {
    // ln(1 + n) / ln(1 + full), capped at 1: how far a count is towards "plenty".
    let plenty = |n: u64, full: f32| ((n as f32).ln_1p() / full.ln_1p()).min(1.0);
    let mut z = -2.5;
    if let Some(posts) = author.posts {
        z += 1.6 * (1.0 - plenty(posts, 50.0));
    }
    if let (Some(followers), Some(following)) = (author.followers, author.following) {
        // ln(following / followers), in units of ten times: follows ten times more than it is
        // followed gives 0.8, a hundred times 1.6; followed ten times more gives -0.8.
        let ratio = ((following as f32).ln_1p() - (followers as f32).ln_1p()) / 10f32.ln();
        z += 0.8 * ratio.clamp(-1.0, 2.0);
    }
    if let Some(followers) = author.followers {
        z += 0.6 * (1.0 - plenty(followers, 200.0));
    }
    z += match author.has_photo {
        Some(false) => 1.0,
        Some(true) => -0.3,
        None => 0.0,
    };
    z += match author.bio.as_deref().map(|b| b.trim().is_empty()) {
        Some(true) => 0.7,
        Some(false) => -0.3,
        None => 0.0,
    };
    z += match age_days {
        Some(d) if d < 7 => 1.2,
        Some(d) if d < NEW_ACCOUNT_DAYS => 0.7,
        Some(d) if d >= 365 => -0.7,
        _ => 0.0,
    };
    z += 2.0 * name_suspicious.unwrap_or(0.0);
    1.0 / (1.0 + (-z).exp())
}

impl AccountSignals {
    pub fn is_new(&self) -> bool {
        self.age_days.is_some_and(|d| d < NEW_ACCOUNT_DAYS)
    }

    pub fn reasons(&self) -> Vec<Reason> {
        let mut out = Vec::new();
        if let Some(days) = self.age_days.filter(|_| self.is_new()) {
            let weight = if days < 7 { 0.2 } else { 0.12 };
            out.push(Reason::new(
                "account.new",
                format!("account is {days} days old"),
                weight,
            ));
        }
        if self.has_photo == Some(false) {
            out.push(Reason::new("account.no_photo", "no profile photo", 0.1));
        }
        if self.few_connections == Some(true) {
            out.push(Reason::new(
                "account.few_connections",
                format!("fewer than {FEW_FOLLOWERS} followers"),
                0.1,
            ));
        }
        if self.few_posts == Some(true) {
            out.push(Reason::new(
                "account.few_posts",
                format!("fewer than {FEW_POSTS} posts"),
                0.05,
            ));
        }
        if self.empty_bio == Some(true) {
            out.push(Reason::new("account.empty_bio", "empty bio", 0.05));
        }
        if let Some(s) = self.name_suspicious.filter(|s| *s >= SUSPICIOUS_NAME) {
            out.push(Reason::new(
                "account.name_suspicious",
                "name looks generated or disguised",
                0.2 * s,
            ));
        }
        if self.fake_account >= 0.5 {
            out.push(Reason::new(
                "account.fake",
                format!(
                    "profile looks fake or throwaway ({:.0} %)",
                    100.0 * self.fake_account
                ),
                0.3 * self.fake_account,
            ));
        }
        out
    }
}

const KEYBOARD_RUNS: &[&str] = &[
    "qwer", "wert", "asdf", "sdfg", "zxcv", "xcvb", "hjkl", "jklö", "uiop", "yxcv",
];

/// How random, number-laden or mismatched a display name and handle look.
fn name_score(name: Option<&str>, handle: Option<&str>) -> f32 {
    let parts = [name, handle];
    let own = parts
        .iter()
        .flatten()
        .map(|s| string_score(s))
        .fold(0.0, f32::max);
    let mismatch = match (name, handle) {
        (Some(n), Some(h)) if mismatched(n, h) => 0.5,
        _ => 0.0,
    };
    own.max(mismatch)
}

fn string_score(s: &str) -> f32 {
    let lower = s.to_lowercase();
    let digits = lower.chars().filter(char::is_ascii_digit).count();
    let longest_digits = longest_run(&lower, |c| c.is_ascii_digit());
    let letters: Vec<char> = lower.chars().filter(|c| c.is_alphabetic()).collect();
    let vowels = letters.iter().filter(|c| is_vowel(**c)).count();
    let mut score: f32 = 0.0;
    if longest_digits >= 6
        || (digits >= 3 && digits * 2 >= lower.chars().count() && !has_year(&lower))
    {
        score = score.max(0.85);
    } else if longest_digits >= 5 || (longest_digits == 4 && !has_year(&lower)) {
        score = score.max(0.6);
    }
    if letters.len() >= 5 && (vowels as f32) < 0.2 * letters.len() as f32 {
        score = score.max(0.7);
    }
    if KEYBOARD_RUNS.iter().any(|k| lower.contains(k))
        || longest_run(&lower, |c| c.is_alphabetic() && !is_vowel(c)) >= 6
    {
        score = score.max(0.75);
    }
    let leet = digits > 0
        && letters.len() >= 3
        && lower.chars().any(|c| "0134".contains(c))
        && longest_digits <= 2;
    if leet || (lower.starts_with("xx") && lower.ends_with("xx")) {
        score = score.max(0.55);
    }
    score
}

/// `anna1985`: a birth year in a handle is ordinary.
fn has_year(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_digit())
        .any(|run| run.len() == 4 && (run.starts_with("19") || run.starts_with("20")))
}

fn longest_run(s: &str, pred: impl Fn(char) -> bool) -> usize {
    s.chars()
        .fold((0, 0), |(best, cur), c| {
            if pred(c) {
                (best.max(cur + 1), cur + 1)
            } else {
                (best, 0)
            }
        })
        .0
}

/// A real-looking name ("Liisa Virtanen") whose handle shares nothing with it ("br0k3r_2291").
fn mismatched(name: &str, handle: &str) -> bool {
    let fold = |s: &str| -> String {
        s.to_lowercase()
            .chars()
            .map(|c| match c {
                'ä' | 'å' => 'a',
                'ö' => 'o',
                c => c,
            })
            .filter(|c| c.is_ascii_alphabetic())
            .collect()
    };
    let handle = fold(handle);
    let words: Vec<String> = name
        .split_whitespace()
        .map(fold)
        .filter(|w| w.len() >= 3)
        .collect();
    if words.len() < 2 || handle.len() < 4 {
        return false;
    }
    !words.iter().any(|w| {
        let w: Vec<char> = w.chars().collect();
        w.windows(3)
            .any(|tri| handle.contains(&tri.iter().collect::<String>()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn author(name: &str, handle: &str) -> Author {
        Author {
            name: Some(name.into()),
            handle: Some(handle.into()),
            ..Author::default()
        }
    }

    #[test]
    fn suspicious_names() {
        let now = Utc::now();
        let cases = [
            ("Matti Meikäläinen", "matti_m", false),
            ("Liisa Virtanen", "liisavirtanen", false),
            ("Sarah O'Connor", "sarahoc", false),
            ("Jouni Ääriö", "jouni.aario", false),
            ("user84729103", "user84729103", true),
            ("xX_k1ller_99Xx", "k1ller99", true),
            ("asdfgh", "asdfgh", true),
            ("Liisa Virtanen", "br0k3r_2291", true),
            ("Pekka Qwrtzk", "pekkaq", true),
            ("Anna", "anna1985", false),
            ("Jere Holmström", "jereholmstrom", false),
            ("Anna-Kaisa Engström", "akengstrom", false),
            ("Kwrxtzpl Hjk", "kwrxtzpl", true),
        ];
        for (name, handle, want) in cases {
            let s = assess(&author(name, handle), now)
                .name_suspicious
                .unwrap_or(0.0);
            assert_eq!(s >= SUSPICIOUS_NAME, want, "{name} / {handle}: {s}");
        }
    }

    #[test]
    fn unknown_is_not_held_against_anyone() {
        let signals = assess(&Author::default(), Utc::now());
        assert_eq!(
            signals,
            AccountSignals {
                fake_account: signals.fake_account,
                ..AccountSignals::default()
            }
        );
        assert!(signals.reasons().is_empty());
        assert!(
            signals.fake_account < 0.1,
            "the prior: {}",
            signals.fake_account
        );
        // Every unknown field moves nothing: a profile known to be old and active scores below
        // the prior, one with only unknown fields scores exactly the prior.
        let known_good = Author {
            posts: Some(800),
            followers: Some(450),
            following: Some(300),
            has_photo: Some(true),
            bio: Some("Pyöräilijä ja kahvinjuoja".into()),
            account_age_days: Some(2_000),
            ..author("Liisa Virtanen", "liisavirtanen")
        };
        assert!(assess(&known_good, Utc::now()).fake_account < 0.03);
    }

    #[test]
    fn a_throwaway_profile_looks_fake_and_says_why() {
        let throwaway = Author {
            posts: Some(0),
            followers: Some(3),
            following: Some(1_900),
            has_photo: Some(false),
            bio: Some(String::new()),
            account_age_days: Some(2),
            ..author("user84729103", "user84729103")
        };
        let s = assess(&throwaway, Utc::now());
        assert!(s.fake_account > 0.95, "{}", s.fake_account);
        let reason = s
            .reasons()
            .into_iter()
            .find(|r| r.code == "account.fake")
            .expect("a reason");
        assert!(
            reason.message.contains("fake or throwaway"),
            "{}",
            reason.message
        );
        // Each sign alone moves it up from the prior, none alone makes it certain.
        let prior = assess(&Author::default(), Utc::now()).fake_account;
        for one in [
            Author {
                posts: Some(0),
                ..Author::default()
            },
            Author {
                has_photo: Some(false),
                ..Author::default()
            },
            Author {
                followers: Some(5),
                following: Some(900),
                ..Author::default()
            },
            Author {
                account_age_days: Some(1),
                ..Author::default()
            },
        ] {
            let f = assess(&one, Utc::now()).fake_account;
            assert!(f > prior && f < 0.5, "{one:?}: {f}");
        }
    }

    #[test]
    fn age_from_created_at() {
        let now: DateTime<Utc> = "2026-11-22T10:00:00Z".parse().expect("time");
        let a = Author {
            created_at: Some("2026-11-20T09:00:00Z".parse().expect("time")),
            ..Author::default()
        };
        let s = assess(&a, now);
        assert_eq!(s.age_days, Some(2));
        assert_eq!(s.reasons()[0].code, "account.new");
    }
}
