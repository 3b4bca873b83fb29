//! How well a comment is written, whether it answers a question with questions, links and promotion.

use serde::{Deserialize, Serialize};

use crate::domain::{Comment, Reason, Span};
use crate::normalize::{Boundary, NormalizedText, slice};
use crate::signals::is_vowel;
use crate::signals::lexicon::{Lexicon, NoMeta};

/// Below this the writing counts as very poor.
pub const POOR_WRITING: f32 = 0.4;
/// Fewer words than this say too little about writing.
const MIN_WORDS: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Writing {
    /// 1 clean sentences, 0 key-mashing.
    pub quality: f32,
    pub answers_with_question: bool,
    pub links: u32,
    pub promotion: Vec<Promotion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    pub words: String,
    pub span: Span,
    pub weight: f32,
}

/// Nothing noticed: clean writing, no questions back, no links, no promotion.
impl Default for Writing {
    fn default() -> Self {
        Self {
            quality: 1.0,
            answers_with_question: false,
            links: 0,
            promotion: Vec::new(),
        }
    }
}

impl Writing {
    pub fn reasons(&self) -> Vec<Reason> {
        let mut out = Vec::new();
        if self.quality < POOR_WRITING {
            out.push(Reason::new("writing.quality", "very poor writing", 0.1));
        }
        if self.answers_with_question {
            out.push(Reason::new(
                "writing.answers_with_question",
                "answers a question with questions",
                0.15,
            ));
        }
        if self.links > 0 {
            out.push(Reason::new(
                "writing.links",
                format!("{} link(s)", self.links),
                0.05 * self.links.min(4) as f32,
            ));
        }
        for p in &self.promotion {
            out.push(
                Reason::new(
                    "spam.promotion",
                    format!("promotion: \"{}\"", p.words),
                    0.4 * p.weight,
                )
                .at(p.span),
            );
        }
        out
    }
}

#[derive(Debug, Deserialize)]
pub struct Meta {
    weight: f32,
}

#[derive(Debug)]
pub struct WritingLexicons {
    spam: Lexicon<Meta>,
    challenge: Lexicon<NoMeta>,
}

impl WritingLexicons {
    pub fn shipped() -> Result<Self, String> {
        Ok(Self {
            spam: Lexicon::from_toml(include_str!("lexicon/spam.toml"))
                .map_err(|e| format!("spam lexicon: {e}"))?,
            challenge: Lexicon::from_toml(include_str!("lexicon/challenge.toml"))
                .map_err(|e| format!("challenge lexicon: {e}"))?,
        })
    }

    /// Questions that push back rather than ask: a sentence opening with a challenge ("miksi",
    /// "etkö", "why", "who asked") or a run of `??` / `?!`. "Onko tämä mahdollista?" is no challenge.
    fn challenges(&self, original: &str, text: &NormalizedText) -> bool {
        ["??", "?!", "!?"].iter().any(|m| original.contains(m))
            || self.challenge.find(text).iter().any(|h| {
                h.tokens.start == 0 || text.tokens[h.tokens.start].boundary == Boundary::Sentence
            })
    }

    pub fn assess(&self, comment: &Comment, text: &NormalizedText) -> Writing {
        let parent_asks = comment
            .thread
            .as_ref()
            .and_then(|t| t.parent_text.as_deref())
            .is_some_and(|p| p.contains('?'));
        Writing {
            quality: quality(text),
            answers_with_question: parent_asks
                && mostly_questions(&comment.text, text)
                && self.challenges(&comment.text, text),
            links: text.urls.len() as u32,
            promotion: self
                .spam
                .find(text)
                .into_iter()
                .map(|h| Promotion {
                    words: slice(&comment.text, h.span),
                    span: h.span,
                    weight: h.meta.weight,
                })
                .collect(),
        }
    }
}

const MASHES: &[&str] = &[
    "qwer", "asdf", "sdfg", "zxcv", "hjkl", "jklö", "ghjk", "fghj", "xcvb",
];

/// A word no language would write: no vowels in four letters or more, six consonants in a row, key-mashing.
fn garbled(word: &str) -> bool {
    let (mut letters, mut vowels, mut run, mut longest) = (0, 0, 0, 0);
    for c in word.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        run = if is_vowel(c) { 0 } else { run + 1 };
        vowels += usize::from(run == 0);
        longest = longest.max(run);
    }
    letters >= 4 && (vowels == 0 || longest >= 6 || MASHES.iter().any(|m| word.contains(m)))
}

fn quality(text: &NormalizedText) -> f32 {
    let words: Vec<&str> = text.words().map(|t| t.text.as_str()).collect();
    if words.len() < MIN_WORDS {
        return 1.0;
    }
    let garbled_share = words.iter().filter(|w| garbled(w)).count() as f32 / words.len() as f32;
    let stuttered = words
        .windows(3)
        .filter(|w| w[0] == w[1] && w[1] == w[2])
        .count() as f32;
    let stretched = text.tokens.iter().filter(|t| t.elongated).count() as f32 / words.len() as f32;
    (1.0 - 2.0 * garbled_share - 0.2 * stuttered - stretched).clamp(0.0, 1.0)
}

/// Most sentences are questions, and either two or more, or one short question and nothing else.
fn mostly_questions(original: &str, text: &NormalizedText) -> bool {
    let sentences: Vec<&str> = original
        .split_inclusive(['.', '!', '?', '\n'])
        .filter(|s| s.trim().len() > 1)
        .collect();
    let questions = sentences.iter().filter(|s| s.contains('?')).count();
    if questions == 0 || questions * 3 < sentences.len() * 2 {
        return false;
    }
    questions >= 2 || (sentences.len() == 1 && text.words().count() <= 8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Thread;
    use crate::normalize::normalize;

    fn writing(text: &str, parent: Option<&str>) -> Writing {
        let lex = WritingLexicons::shipped().expect("lexicons");
        let comment = Comment {
            thread: parent.map(|p| Thread {
                id: None,
                parent_text: Some(p.into()),
            }),
            ..Comment::new("c", text)
        };
        lex.assess(&comment, &normalize(text))
    }

    #[test]
    fn writing_quality() {
        let cases = [
            ("Hei, sovellus ei toimi ja lippu jäi ostamatta.", true),
            ("The strengths of your new app are obvious.", true),
            ("Kuluttajariitalautakunta käsittelee asian varmasti.", true),
            ("asdfgh qwerty sdfsdf lol lol lol", false),
            ("mtn prkl vttu hrrgh xddd", false),
        ];
        for (text, good) in cases {
            let q = writing(text, None).quality;
            assert_eq!(q >= POOR_WRITING, good, "{text}: {q}");
        }
    }

    #[test]
    fn answers_with_question() {
        let ask = Some("Miten voimme auttaa?");
        let cases = [
            ("Miksi kysyt? Etkö itse tiedä? Mitä luulet?", ask, true),
            (
                "Why do you ask? Don't you know?",
                Some("How can we help?"),
                true,
            ),
            ("Miksi kysyt?", ask, true),
            (
                "Lippu veloitettiin kahdesti. Voitteko palauttaa toisen?",
                ask,
                false,
            ),
            ("Miksi kysyt? Etkö itse tiedä?", None, false),
            (
                "Onko sovelluksessa mahdollista nähdä datan käyttö?",
                ask,
                false,
            ),
            ("Laitanko sen tänne vai yksityisviestillä?", ask, false),
            (
                "Can I change the delivery address?",
                Some("How can we help?"),
                false,
            ),
            ("ok but why tho??? why???", Some("Could you DM us?"), true),
            (
                "Who asked? Who even cares?",
                Some("Where are you flying?"),
                true,
            ),
            (
                "Miksi kysyt? Etkö itse tiedä?",
                Some("Hyvää viikonloppua kaikille."),
                false,
            ),
        ];
        for (text, parent, want) in cases {
            assert_eq!(writing(text, parent).answers_with_question, want, "{text}");
        }
    }

    #[test]
    fn counts_links() {
        assert_eq!(
            writing("katso https://a.example.com ja www.b.fi", None).links,
            2
        );
    }
}
