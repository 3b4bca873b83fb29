//! Whatever the text, the CPU pipeline answers: no panic, every span inside the original text,
//! every score a probability. Hand-picked hard cases, 4,000 deterministic random texts drawn
//! from characters that stress normalisation (NFKC expansions, combining marks, look-alikes,
//! leetspeak symbols, emoji sequences, direction marks and overrides, invisible and control
//! characters), and a property test over any Unicode text.

use std::sync::LazyLock;

use chrono::Utc;
use proptest::prelude::*;
use seula::domain::{Comment, Thread};
use seula::pipeline::Pipeline;
use seula::policy::AuthorHistory;
use seula::scoring::Scores;

/// Characters that each broke, or could break, a folding step.
const POOL: &[char] = &[
    'a',
    'e',
    'i',
    'k',
    'p',
    's',
    't',
    'u',
    'v',
    'ä',
    'ö',
    'A',
    'V',
    'Ä',
    '0',
    '1',
    '3',
    '4',
    '5',
    '7',
    ' ',
    ' ',
    ' ',
    '.',
    ',',
    '!',
    '?',
    '*',
    '#',
    '@',
    '$',
    '|',
    '\'',
    '’',
    '-',
    '_',
    '/',
    ':',
    '\n',
    '\t',
    '\0',
    '\u{0301}',
    '\u{0308}',
    '\u{200d}',
    '\u{200b}',
    '\u{202e}',
    '\u{feff}',
    '½',
    'ﬁ',
    'ﷺ',
    '㍿',
    'Ⅻ',
    'ß',
    'İ',
    'ŉ',
    'а',
    'е',
    'і',
    'ο',
    'Ω',
    '😀',
    '👍',
    '🏽',
    '🇫',
    '🇮',
    'Ｆ',
    '１',
    '\u{1f3f4}',
    '\u{e0067}',
    '𝔣',
    '𝕧',
    '℅',
    '㎧',
    '\u{0345}',
    '\u{00ad}',
    '\u{2060}',
    '\u{202d}',
    '\u{202c}',
    '\u{3164}',
    '\u{034f}',
];

const HARD: &[&str] = &[
    "1½ vuotta",
    "ﷺ ﷺ ﷺ",
    "!!!!!!!!!!!!!!!!!!!!",
    "v i t t u v i t t u v i t t u",
    "p.a.s.k.a.p.a.s.k.a",
    "********",
    "@@@@ $$$$ ####",
    "https://",
    "www. www. www.",
    "@ @ @",
    "\u{0301}\u{0301}\u{0301}",
    "👨\u{200d}👩\u{200d}👧 🏳️\u{200d}🌈",
    "\u{202e}ututtiv",
    "İstanbul ŉ ß",
    "a\u{0000}b",
    "paketti ℅ Matti",
    "℅ ℀ ℁ ℆ ㎧ ㏂ ㏘ ㏞ ㏟",
    "x\u{0345}\u{0301}",
    "a ℅ ℅ b c",
    "\u{202e}a b c ℅ d\u{202c} e f",
    "\u{202d}\u{202e}\u{202e}v i t\u{202c}",
];

/// xorshift64*: the same texts on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

static PIPELINE: LazyLock<Pipeline> = LazyLock::new(|| Pipeline::shipped().expect("pipeline"));

fn check(pipeline: &Pipeline, text: &str) {
    let chars = text.chars().count();
    let normalized = seula::normalize::normalize(text);
    for token in &normalized.tokens {
        assert!(
            token.span.start < token.span.end && token.span.end <= chars,
            "token {:?} in {text:?}: span {:?} outside {chars} characters",
            token.text,
            token.span
        );
    }
    let comment = Comment {
        thread: Some(Thread {
            id: None,
            parent_text: Some("Miten voimme auttaa?".into()),
        }),
        ..Comment::new("robust", text)
    };
    let outcome = pipeline.decide(&comment, AuthorHistory::default(), Utc::now());
    for reason in &outcome.decision.reasons {
        if let Some(span) = reason.span {
            assert!(
                span.start <= span.end && span.end <= chars,
                "{:?} in {text:?}: span {span:?} outside {chars} characters",
                reason.code
            );
        }
    }
    let scores = outcome.assessment.scores;
    for name in Scores::NAMES {
        let p = scores.get(name).unwrap_or(f32::NAN);
        assert!((0.0..=1.0).contains(&p), "{name} = {p} for {text:?}");
    }
    let s = outcome.assessment.sentiment.score;
    assert!((-1.0..=1.0).contains(&s), "sentiment {s} for {text:?}");
}

#[test]
fn any_text_gets_an_answer_with_spans_inside_it() {
    for text in HARD {
        check(&PIPELINE, text);
    }
    let mut rng = Rng(0x5e01a);
    for _ in 0..4_000 {
        let len = 1 + rng.below(40);
        let text: String = (0..len).map(|_| POOL[rng.below(POOL.len())]).collect();
        check(&PIPELINE, &text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// Any Unicode text, with the stressing characters mixed in often.
    #[test]
    fn spans_stay_in_order_and_inside_any_text(
        chars in prop::collection::vec(
            prop_oneof![prop::sample::select(POOL), any::<char>()],
            0..60,
        )
    ) {
        check(&PIPELINE, &chars.into_iter().collect::<String>());
    }
}
