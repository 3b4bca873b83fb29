//! The word-pattern matcher behind every lexicon (profanity, insults, threats, urgency cues, …).
//!
//! A lexicon is TOML (`lexicon/FORMAT.md`): terms with patterns of one or more words, each word
//! exact (`ass`), a prefix for inflected stems and compounds (`vitu*`), a suffix (`*paska`), a
//! substring (`*fuck*`) or a gap of up to three tokens (`~`), plus exceptions. Patterns are indexed
//! by their first word so a comment costs a hash look-up or two per token, not a scan.

use std::collections::HashMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::domain::Span;
use crate::normalize::{Boundary, NormalizedText, Token, WILDCARD};

const MAX_GAP: usize = 3;
const PREFIX_KEY: usize = 3;

#[derive(Debug, Clone, PartialEq)]
enum Word {
    Exact(Vec<char>),
    Prefix(Vec<char>),
    Suffix(Vec<char>),
    Contains(Vec<char>),
    Gap,
}

impl Word {
    fn parse(w: &str) -> Result<Self, String> {
        let body = |s: &str| -> Result<Vec<char>, String> {
            if s.is_empty() || s.contains('*') || s.chars().any(char::is_uppercase) {
                Err(format!(
                    "bad pattern word {w:?}: lowercase letters with `*` only at its ends"
                ))
            } else {
                Ok(s.chars().collect())
            }
        };
        Ok(match (w.strip_prefix('*'), w.strip_suffix('*')) {
            _ if w == "~" => Word::Gap,
            (Some(_), Some(_)) if w.len() > 2 => Word::Contains(body(&w[1..w.len() - 1])?),
            (Some(rest), None) => Word::Suffix(body(rest)?),
            (None, Some(rest)) => Word::Prefix(body(rest)?),
            _ => Word::Exact(body(w)?),
        })
    }

    fn matches(&self, token: &[char]) -> bool {
        match self {
            Word::Exact(w) => token.len() == w.len() && same(token, w),
            Word::Prefix(w) => token.len() >= w.len() && same(&token[..w.len()], w),
            Word::Suffix(w) => token.len() >= w.len() && same(&token[token.len() - w.len()..], w),
            Word::Contains(w) => {
                token.len() >= w.len() && token.windows(w.len()).any(|win| same(win, w))
            }
            Word::Gap => true,
        }
    }

    fn shrunk(&self) -> Self {
        match self {
            Word::Exact(w) => Word::Exact(squeeze(w)),
            Word::Prefix(w) => Word::Prefix(squeeze(w)),
            Word::Suffix(w) => Word::Suffix(squeeze(w)),
            Word::Contains(w) => Word::Contains(squeeze(w)),
            Word::Gap => Word::Gap,
        }
    }
}

/// Letter by letter, where a wildcard in the token stands for any one letter, as long as real
/// letters carry at least half of the word (`f**k` is `fuck`, `****` is nothing).
fn same(token: &[char], word: &[char]) -> bool {
    let wild = token
        .iter()
        .take(word.len())
        .filter(|t| **t == WILDCARD)
        .count();
    wild * 2 <= word.len()
        && token
            .iter()
            .zip(word)
            .all(|(t, w)| t == w || *t == WILDCARD)
}

/// Every run of a repeated letter shrunk to one (`fuuck` -> `fuck`).
fn squeeze(w: &[char]) -> Vec<char> {
    let mut out = w.to_vec();
    out.dedup();
    out
}

/// The metadata of a lexicon whose terms carry nothing but their patterns.
#[derive(Debug, Deserialize)]
pub struct NoMeta {}

/// A term as written; other keys (`note`) are for people and ignored here.
#[derive(Debug, Deserialize)]
struct TermDef<M> {
    #[serde(rename = "match")]
    patterns: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
    #[serde(flatten)]
    meta: M,
}

#[derive(Debug, Deserialize)]
struct FileDef<M> {
    term: Vec<TermDef<M>>,
}

#[derive(Debug)]
struct Term<M> {
    name: String,
    except: Vec<Word>,
    meta: M,
}

#[derive(Debug)]
struct Pattern {
    term: usize,
    words: Vec<Word>,
    shrunk: Vec<Word>,
}

/// A compiled lexicon with metadata `M` on every term.
#[derive(Debug)]
pub struct Lexicon<M> {
    terms: Vec<Term<M>>,
    patterns: Vec<Pattern>,
    exact: HashMap<String, Vec<usize>>,
    by_prefix: HashMap<String, Vec<usize>>,
    /// Patterns whose first word cannot be indexed: suffixes, substrings, short prefixes.
    scan: Vec<usize>,
}

/// A term that fired, with the tokens it covered.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit<'a, M> {
    /// The term's first pattern, a stable name for it.
    pub term: &'a str,
    pub meta: &'a M,
    pub span: Span,
    pub tokens: std::ops::Range<usize>,
}

impl<M: DeserializeOwned> Lexicon<M> {
    pub fn from_toml(source: &str) -> Result<Self, String> {
        let file: FileDef<M> = toml::from_str(source).map_err(|e| e.to_string())?;
        let mut lexicon = Lexicon {
            terms: Vec::new(),
            patterns: Vec::new(),
            exact: HashMap::new(),
            by_prefix: HashMap::new(),
            scan: Vec::new(),
        };
        for (term, def) in file.term.into_iter().enumerate() {
            let name = def
                .patterns
                .first()
                .cloned()
                .ok_or("a term needs at least one pattern")?;
            for p in &def.patterns {
                let words = p
                    .split(' ')
                    .map(Word::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                if matches!(words.first(), Some(Word::Gap) | None)
                    || matches!(words.last(), Some(Word::Gap))
                {
                    return Err(format!("pattern {p:?} must start and end with a word"));
                }
                lexicon.index(Pattern {
                    term,
                    shrunk: words.iter().map(Word::shrunk).collect(),
                    words,
                });
            }
            let except = def
                .except
                .iter()
                .map(|w| Word::parse(w))
                .collect::<Result<_, _>>()?;
            lexicon.terms.push(Term {
                name,
                except,
                meta: def.meta,
            });
        }
        Ok(lexicon)
    }

    fn index(&mut self, pattern: Pattern) {
        let id = self.patterns.len();
        match &pattern.words[0] {
            Word::Exact(w) => self.exact.entry(w.iter().collect()).or_default().push(id),
            Word::Prefix(w) if w.len() >= PREFIX_KEY => self
                .by_prefix
                .entry(w[..PREFIX_KEY].iter().collect())
                .or_default()
                .push(id),
            _ => self.scan.push(id),
        }
        self.patterns.push(pattern);
    }
}

impl<M> Lexicon<M> {
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Every term that fires, once per place, in text order. Overlapping hits of one term keep the first.
    pub fn find<'a>(&'a self, text: &NormalizedText) -> Vec<Hit<'a, M>> {
        let tokens: Vec<Vec<char>> = text
            .tokens
            .iter()
            .map(|t| t.text.chars().collect())
            .collect();
        let mut hits: Vec<Hit<'a, M>> = Vec::new();
        for start in 0..tokens.len() {
            if text.tokens[start].is_number {
                continue;
            }
            for id in self.candidates(&text.tokens[start], &tokens[start]) {
                let pattern = &self.patterns[id];
                let Some(end) = self.match_at(pattern, &text.tokens, &tokens, start) else {
                    continue;
                };
                let term = &self.terms[pattern.term];
                let taken = hits
                    .iter()
                    .any(|h| std::ptr::eq(h.term, term.name.as_str()) && h.tokens.end > start);
                if !taken {
                    let span =
                        Span::new(text.tokens[start].span.start, text.tokens[end - 1].span.end);
                    hits.push(Hit {
                        term: &term.name,
                        meta: &term.meta,
                        span,
                        tokens: start..end,
                    });
                }
            }
        }
        hits
    }

    fn candidates(&self, token: &Token, chars: &[char]) -> Vec<usize> {
        if token.has_wildcard() || token.elongated {
            return (0..self.patterns.len()).collect();
        }
        let mut ids: Vec<usize> = self.scan.clone();
        if let Some(v) = self.exact.get(token.text.as_str()) {
            ids.extend(v);
        }
        if chars.len() >= PREFIX_KEY {
            let key: String = chars[..PREFIX_KEY].iter().collect();
            if let Some(v) = self.by_prefix.get(&key) {
                ids.extend(v);
            }
        }
        ids.sort_unstable();
        ids
    }

    /// The end (exclusive) of the tokens the pattern covers from `start`, if it matches there.
    fn match_at(
        &self,
        pattern: &Pattern,
        meta: &[Token],
        tokens: &[Vec<char>],
        start: usize,
    ) -> Option<usize> {
        let term = &self.terms[pattern.term];
        let word_ok = |w: usize, t: usize| -> bool {
            let token = &meta[t];
            if token.is_number || !plausible(&tokens[t]) {
                return false;
            }
            let hit = pattern.words[w].matches(&tokens[t])
                || (token.elongated && pattern.shrunk[w].matches(&squeeze(&tokens[t])));
            hit && !term.except.iter().any(|e| e.matches(&tokens[t]))
        };
        let end = match_words(&pattern.words, 0, start, tokens.len(), &word_ok)?;
        let crosses_sentence = meta[start + 1..end]
            .iter()
            .any(|t| t.boundary == Boundary::Sentence);
        (!crosses_sentence).then_some(end)
    }
}

/// A token that is mostly wildcards (`f***`) is too vague to match anything.
fn plausible(token: &[char]) -> bool {
    let wild = token.iter().filter(|c| **c == WILDCARD).count();
    wild == 0
        || (token.first() != Some(&WILDCARD) && token.len() - wild >= 2 && wild * 2 <= token.len())
}

fn match_words(
    words: &[Word],
    w: usize,
    t: usize,
    n: usize,
    ok: &dyn Fn(usize, usize) -> bool,
) -> Option<usize> {
    if w == words.len() {
        return Some(t);
    }
    if words[w] == Word::Gap {
        return (0..=MAX_GAP)
            .filter(|skip| t + skip <= n)
            .find_map(|skip| match_words(words, w + 1, t + skip, n, ok));
    }
    (t < n && ok(w, t))
        .then(|| match_words(words, w + 1, t + 1, n, ok))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    #[derive(Debug, Deserialize)]
    struct Meta {
        tag: String,
    }

    const LEXICON: &str = r#"
        [[term]]
        match = ["vitu*", "vitt*"]
        except = ["vitus*"]
        tag = "strong"
        [[term]]
        match = ["ass", "*hole"]
        except = ["*whole", "hole", "keyhole"]
        tag = "exact"
        [[term]]
        match = ["tapan ~ sut", "kill you"]
        tag = "threat"
        [[term]]
        match = ["*fuck*"]
        tag = "contains"
    "#;

    fn tags(text: &str) -> Vec<String> {
        let lex: Lexicon<Meta> = Lexicon::from_toml(LEXICON).expect("lexicon");
        lex.find(&normalize(text))
            .into_iter()
            .map(|h| h.meta.tag.clone())
            .collect()
    }

    #[test]
    fn matches_each_kind_of_word() {
        let cases: &[(&str, &[&str])] = &[
            ("vitun operaattori", &["strong"]),
            ("mene vittuun", &["strong"]),
            ("Vitus Bering", &[]),
            ("you ass, asshole", &["exact", "exact"]),
            ("class assistant, a hole, the whole keyhole", &[]),
            ("tapan kyllä vielä sut", &["threat"]),
            ("tapan aikaa", &[]),
            ("Tapan. Kyllä sut tunnen", &[]),
            ("I will kill you", &["threat"]),
            ("motherfucker", &["contains"]),
            ("f*cking and fuuuuck", &["contains", "contains"]),
            ("f*** off", &[]),
            ("kiitos t#####n", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(tags(text), *want, "{text:?}");
        }
    }

    #[test]
    fn rejects_malformed_patterns() {
        for bad in [
            r#"[[term]]
match = ["~ sut"]
tag = "x""#,
            r#"[[term]]
match = ["Vittu"]
tag = "x""#,
            r#"[[term]]
match = []
tag = "x""#,
        ] {
            assert!(Lexicon::<Meta>::from_toml(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn spans_cover_the_whole_phrase() {
        let lex: Lexicon<Meta> = Lexicon::from_toml(LEXICON).expect("lexicon");
        let hits = lex.find(&normalize("no tapan minä sut"));
        assert_eq!(hits[0].span, Span::new(3, 17));
    }
}
