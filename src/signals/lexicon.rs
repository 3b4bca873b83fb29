//! The word-pattern matcher behind every lexicon (profanity, insults, threats, urgency cues, …).
//!
//! A lexicon is TOML (`lexicon/FORMAT.md`): terms with patterns of one or more words, each word
//! exact (`ass`), a prefix for inflected stems and compounds (`vitu*`), a suffix (`*paska`), a
//! substring (`*fuck*`) or a gap of up to three tokens (`~`); a place may list alternatives
//! (`idiootti|ääliö|pelle*`); terms carry exceptions. Patterns are indexed by the words their
//! first place accepts, so a comment costs a few hash look-ups per token, not a scan of patterns.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::domain::Span;
use crate::normalize::{Boundary, NormalizedText, Token, WILDCARD};

const MAX_GAP: usize = 3;
/// Letters of a prefix or suffix that index it.
const KEY: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Exact,
    Prefix,
    Suffix,
    Contains,
}

/// One word of a pattern: `paska`, `pask*`, `*paska` or `*pask*`.
#[derive(Debug, Clone, PartialEq)]
struct Word {
    kind: Kind,
    text: String,
    /// `text` as letters, for tokens with wildcards.
    chars: Vec<char>,
}

impl Word {
    fn new(kind: Kind, text: String) -> Self {
        Word {
            kind,
            chars: text.chars().collect(),
            text,
        }
    }

    fn parse(w: &str) -> Result<Self, String> {
        let (kind, body) = match (w.strip_prefix('*'), w.strip_suffix('*')) {
            (Some(_), Some(_)) if w.len() > 2 => (Kind::Contains, &w[1..w.len() - 1]),
            (Some(rest), None) => (Kind::Suffix, rest),
            (None, Some(rest)) => (Kind::Prefix, rest),
            _ => (Kind::Exact, w),
        };
        if body.is_empty() || body.contains(['*', '~', '|']) || body.chars().any(char::is_uppercase)
        {
            return Err(format!(
                "bad pattern word {w:?}: lowercase letters with `*` only at its ends"
            ));
        }
        Ok(Word::new(kind, body.to_string()))
    }

    /// Whether the token matches; tokens with wildcards go letter by letter.
    fn matches(&self, token: &Token) -> bool {
        if token.has_wildcard() {
            let chars: Vec<char> = token.text.chars().collect();
            return plausible(&chars) && self.matches_wild(&chars);
        }
        self.matches_text(&token.text)
    }

    /// Whether a token without wildcards matches.
    fn matches_text(&self, t: &str) -> bool {
        let w = self.text.as_str();
        match self.kind {
            Kind::Exact => t == w,
            Kind::Prefix => t.starts_with(w),
            Kind::Suffix => t.ends_with(w),
            Kind::Contains => t.contains(w),
        }
    }

    fn matches_wild(&self, token: &[char]) -> bool {
        let (w, n) = (&self.chars, self.chars.len());
        token.len() >= n
            && match self.kind {
                Kind::Exact => token.len() == n && same(token, w),
                Kind::Prefix => same(&token[..n], w),
                Kind::Suffix => same(&token[token.len() - n..], w),
                Kind::Contains => token.windows(n).any(|win| same(win, w)),
            }
    }

    fn shrunk(&self) -> Self {
        Word::new(self.kind, squeeze(&self.text))
    }
}

/// One place in a pattern: `~` (0 to 3 tokens), or one token matching any of its alternative
/// words (`idiootti|ääliö|pelle*`). Exact alternatives are a set, so a long list costs one look-up.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Gap,
    Words(Alternatives),
}

/// A place's words, filed so that a token is checked against the few that could match it.
#[derive(Debug, Clone, PartialEq)]
struct Alternatives {
    exact: HashSet<String>,
    /// Prefixes and suffixes of at least [`KEY`] letters, by their first or last letters.
    prefixes: HashMap<String, Vec<Word>>,
    suffixes: HashMap<String, Vec<Word>>,
    /// Substrings and shorter affixes, checked one by one.
    rest: Vec<Word>,
    /// Every alternative, for tokens with wildcards.
    all: Vec<Word>,
}

impl Alternatives {
    fn new(all: Vec<Word>) -> Self {
        let mut a = Alternatives {
            exact: HashSet::new(),
            prefixes: HashMap::new(),
            suffixes: HashMap::new(),
            rest: Vec::new(),
            all: Vec::new(),
        };
        for w in &all {
            let long = w.chars.len() >= KEY;
            match w.kind {
                Kind::Exact => {
                    a.exact.insert(w.text.clone());
                }
                Kind::Prefix if long => a
                    .prefixes
                    .entry(head(&w.text).into())
                    .or_default()
                    .push(w.clone()),
                Kind::Suffix if long => a
                    .suffixes
                    .entry(tail(&w.text).into())
                    .or_default()
                    .push(w.clone()),
                _ => a.rest.push(w.clone()),
            }
        }
        a.all = all;
        a
    }

    fn matches(&self, token: &Token) -> bool {
        if token.has_wildcard() {
            let chars: Vec<char> = token.text.chars().collect();
            return plausible(&chars) && self.all.iter().any(|w| w.matches_wild(&chars));
        }
        let t = token.text.as_str();
        let filed = |map: &HashMap<String, Vec<Word>>, key: &str| {
            map.get(key)
                .is_some_and(|ws| ws.iter().any(|w| w.matches(token)))
        };
        self.exact.contains(t)
            || filed(&self.prefixes, head(t))
            || filed(&self.suffixes, tail(t))
            || self.rest.iter().any(|w| w.matches(token))
    }
}

impl Slot {
    fn parse(slot: &str) -> Result<Self, String> {
        if slot == "~" {
            return Ok(Slot::Gap);
        }
        let all = slot
            .split('|')
            .map(Word::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Slot::Words(Alternatives::new(all)))
    }

    fn matches(&self, token: &Token) -> bool {
        match self {
            Slot::Gap => true,
            Slot::Words(a) => a.matches(token),
        }
    }

    fn shrunk(&self) -> Self {
        match self {
            Slot::Gap => Slot::Gap,
            Slot::Words(a) => {
                Slot::Words(Alternatives::new(a.all.iter().map(Word::shrunk).collect()))
            }
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
fn squeeze(w: &str) -> String {
    let mut out: Vec<char> = w.chars().collect();
    out.dedup();
    out.into_iter().collect()
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
    slots: Vec<Slot>,
    shrunk: Vec<Slot>,
}

/// A compiled lexicon with metadata `M` on every term.
#[derive(Debug)]
pub struct Lexicon<M> {
    terms: Vec<Term<M>>,
    patterns: Vec<Pattern>,
    /// Patterns by the words their first place accepts: whole words, first and last letters.
    exact: HashMap<String, Vec<usize>>,
    by_prefix: HashMap<String, Vec<usize>>,
    by_suffix: HashMap<String, Vec<usize>>,
    /// The same by first or last letter alone, for tokens with wildcards (`p*ska`).
    by_first: HashMap<char, Vec<usize>>,
    by_last: HashMap<char, Vec<usize>>,
    /// Words that cannot be filed by three letters (substrings, shorter affixes), each with the
    /// patterns whose first place takes it: checked one by one at every token.
    by_rest: Vec<(Word, Vec<usize>)>,
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
            by_suffix: HashMap::new(),
            by_first: HashMap::new(),
            by_last: HashMap::new(),
            by_rest: Vec::new(),
        };
        for (term, def) in file.term.into_iter().enumerate() {
            let name = def
                .patterns
                .first()
                .cloned()
                .ok_or("a term needs at least one pattern")?;
            for p in &def.patterns {
                let slots = p
                    .split(' ')
                    .map(Slot::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                if matches!(slots.first(), Some(Slot::Gap) | None)
                    || matches!(slots.last(), Some(Slot::Gap))
                {
                    return Err(format!("pattern {p:?} must start and end with a word"));
                }
                lexicon.index(Pattern {
                    term,
                    shrunk: slots.iter().map(Slot::shrunk).collect(),
                    slots,
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

    /// Files the pattern under every word its first place accepts: exact words whole, prefixes
    /// and suffixes by their first or last three letters (and letter, for tokens with
    /// wildcards), substrings and shorter affixes in a list checked at every token.
    fn index(&mut self, pattern: Pattern) {
        let id = self.patterns.len();
        // The shrunk first place too, for elongated tokens (`fuuuck` -> `fuck`).
        for slot in [&pattern.slots[0], &pattern.shrunk[0]] {
            let Slot::Words(a) = slot else {
                continue;
            };
            for e in &a.exact {
                file(&mut self.exact, e.clone(), id);
            }
            for key in a.prefixes.keys() {
                file(&mut self.by_prefix, key.clone(), id);
            }
            for key in a.suffixes.keys() {
                file(&mut self.by_suffix, key.clone(), id);
            }
            for w in &a.rest {
                let at = match self.by_rest.iter().position(|(r, _)| r == w) {
                    Some(at) => at,
                    None => {
                        self.by_rest.push((w.clone(), Vec::new()));
                        self.by_rest.len() - 1
                    }
                };
                let ids = &mut self.by_rest[at].1;
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            }
            for w in &a.all {
                match (w.kind, w.chars.first(), w.chars.last()) {
                    (Kind::Contains, _, _) => {}
                    (Kind::Suffix, _, Some(&last)) => file(&mut self.by_last, last, id),
                    (_, Some(&first), _) => file(&mut self.by_first, first, id),
                    _ => {}
                }
            }
        }
        self.patterns.push(pattern);
    }
}

fn file<K: Eq + std::hash::Hash>(index: &mut HashMap<K, Vec<usize>>, key: K, id: usize) {
    let ids = index.entry(key).or_default();
    if ids.last() != Some(&id) {
        ids.push(id);
    }
}

/// The first [`KEY`] letters of a word (all of a shorter one).
fn head(word: &str) -> &str {
    word.char_indices()
        .nth(KEY)
        .map_or(word, |(i, _)| &word[..i])
}

/// The last [`KEY`] letters of a word (all of a shorter one).
fn tail(word: &str) -> &str {
    word.char_indices()
        .rev()
        .nth(KEY - 1)
        .map_or(word, |(i, _)| &word[i..])
}

impl<M> Lexicon<M> {
    /// Every term that fires, once per place, in text order. Overlapping hits of one term keep the first.
    pub fn find<'a>(&'a self, text: &NormalizedText) -> Vec<Hit<'a, M>> {
        let tokens = &text.tokens;
        let mut hits: Vec<Hit<'a, M>> = Vec::new();
        let mut candidates: Vec<usize> = Vec::new();
        let mut try_pattern = |id: usize, start: usize| {
            let pattern = &self.patterns[id];
            let Some(end) = self.match_at(pattern, tokens, start) else {
                return;
            };
            let term = &self.terms[pattern.term];
            let taken = hits
                .iter()
                .any(|h| std::ptr::eq(h.term, term.name.as_str()) && h.tokens.end > start);
            if !taken {
                hits.push(Hit {
                    term: &term.name,
                    meta: &term.meta,
                    span: tokens[start].span.cover(tokens[end - 1].span),
                    tokens: start..end,
                });
            }
        };
        for (start, token) in tokens.iter().enumerate() {
            if token.is_number {
                continue;
            }
            candidates.clear();
            if token.has_wildcard() {
                self.wild_candidates(token, &mut candidates);
            } else {
                let squeezed = token.elongated.then(|| squeeze(&token.text));
                for t in std::iter::once(token.text.as_str()).chain(squeezed.as_deref()) {
                    for (index, key) in [
                        (&self.exact, t),
                        (&self.by_prefix, head(t)),
                        (&self.by_suffix, tail(t)),
                    ] {
                        candidates.extend(index.get(key).into_iter().flatten());
                    }
                    for (w, ids) in &self.by_rest {
                        if w.matches_text(t) {
                            candidates.extend(ids);
                        }
                    }
                }
            }
            candidates.sort_unstable();
            candidates.dedup();
            candidates.iter().for_each(|&id| try_pattern(id, start));
        }
        hits
    }

    /// Patterns a token with wildcards (`p*ska`) may start: by its first letter (a plausible
    /// token starts with one), by its last unless that is a wildcard too, and by substring.
    fn wild_candidates(&self, token: &Token, out: &mut Vec<usize>) {
        let first = token.text.chars().next();
        out.extend(
            first
                .and_then(|c| self.by_first.get(&c))
                .into_iter()
                .flatten(),
        );
        match token.text.chars().last().filter(|c| *c != WILDCARD) {
            Some(last) => out.extend(self.by_last.get(&last).into_iter().flatten()),
            None => out.extend(self.by_last.values().flatten()),
        }
        for (w, ids) in &self.by_rest {
            if w.matches(token) {
                out.extend(ids);
            }
        }
    }

    /// The end (exclusive) of the tokens the pattern covers from `start`, if it matches there.
    fn match_at(&self, pattern: &Pattern, tokens: &[Token], start: usize) -> Option<usize> {
        let term = &self.terms[pattern.term];
        let word_ok = |w: usize, t: usize| -> bool {
            let token = &tokens[t];
            if token.is_number {
                return false;
            }
            let squeezed = || Token {
                text: squeeze(&token.text),
                ..token.clone()
            };
            let hit = pattern.slots[w].matches(token)
                || (token.elongated && pattern.shrunk[w].matches(&squeezed()));
            hit && !term.except.iter().any(|e| e.matches(token))
        };
        let end = match_slots(&pattern.slots, 0, start, tokens.len(), &word_ok)?;
        let crosses_sentence = tokens[start + 1..end]
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

fn match_slots(
    slots: &[Slot],
    w: usize,
    t: usize,
    n: usize,
    ok: &dyn Fn(usize, usize) -> bool,
) -> Option<usize> {
    if w == slots.len() {
        return Some(t);
    }
    if slots[w] == Slot::Gap {
        return (0..=MAX_GAP)
            .filter(|skip| t + skip <= n)
            .find_map(|skip| match_slots(slots, w + 1, t + skip, n, ok));
    }
    (t < n && ok(w, t))
        .then(|| match_slots(slots, w + 1, t + 1, n, ok))
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
