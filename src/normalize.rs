//! Raw comment text -> [`NormalizedText`]: folded word tokens that keep their spans in the original.
//!
//! Folding, in order: URLs and @mentions are masked; characters that render as nothing
//! (Unicode's default-ignorable code points: soft hyphen, zero-width spaces and joiners, word
//! joiner, BOM, bidirectional controls, variation selectors, tag characters, Hangul fillers) are
//! dropped, so they neither split nor disguise a word; text under a right-to-left override is
//! read in the order it is shown; each character cluster (a base and its combining marks) goes
//! through NFKC and lowercasing, and a Latin letter keeps no marks but the Finnish and Swedish
//! ones (`ä ö å`), so stacked "zalgo" marks fall away; letters outside the Latin blocks that look
//! Latin (Cyrillic `а`, Greek `ο`) become their Latin skeleton; inside tokens that mix letters and
//! digits, leetspeak digits and `$ @` become letters; runs of three or more identical letters
//! shrink to two; single letters spaced out (`v i t t u`, `p.a.s.k.a`) join into one token; `*`
//! and `#` inside a word stay as one-letter wildcards (`p*ska`). Never fails, and every span it
//! gives is inside the original text.

use std::ops::Range;
use std::sync::LazyLock;

use icu_properties::props::{BinaryProperty, DefaultIgnorableCodePoint};
use regex::Regex;
use unicode_bidi::{BidiInfo, Level};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::domain::Span;

/// The character that stands for one unknown letter inside a token (`p*ska`).
pub const WILDCARD: char = '*';

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Folded text: lowercase, look-alikes and leetspeak folded, elongation shrunk.
    pub text: String,
    /// Where the token stands in the original text.
    pub span: Span,
    pub is_number: bool,
    /// A run of three or more identical letters was shrunk.
    pub elongated: bool,
    /// Leetspeak, look-alikes, wildcards or spaced-out letters were folded.
    pub obfuscated: bool,
    /// What stands between this token and the one before it.
    pub boundary: Boundary,
}

/// The punctuation between two tokens: none, a clause mark (`, ; :`), or a sentence end (`. ! ?`,
/// a new line, a masked URL). Phrases do not run across a sentence end; negation does not reach
/// across either.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Boundary {
    #[default]
    None,
    Clause,
    Sentence,
}

impl Boundary {
    fn of(between: &[char]) -> Self {
        if between.iter().any(|c| matches!(c, '.' | '!' | '?' | '\n')) {
            Boundary::Sentence
        } else if between
            .iter()
            .any(|c| matches!(c, ',' | ';' | ':' | '–' | '—' | '(' | ')'))
        {
            Boundary::Clause
        } else {
            Boundary::None
        }
    }
}

impl Token {
    pub fn has_wildcard(&self) -> bool {
        self.text.contains(WILDCARD)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NormalizedText {
    pub tokens: Vec<Token>,
    pub urls: Vec<Span>,
    pub mentions: Vec<Span>,
}

impl NormalizedText {
    pub fn words(&self) -> impl Iterator<Item = &Token> {
        self.tokens.iter().filter(|t| !t.is_number)
    }
}

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:https?://|www\.)[^\s<>]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|fi|net|org|io|info|biz|xyz)(?:/[^\s<>]*)?")
        .expect("URL pattern")
});
static MENTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\w@])(@[\w.]+)").expect("mention pattern"));

/// Symbols that can stand for letters inside a token.
const LEET_SYMBOLS: &[char] = &['$', '@', '*', '#', '!', '|'];

pub fn normalize(original: &str) -> NormalizedText {
    let chars: Vec<char> = original.chars().collect();
    let byte_to_char = ByteToChar::new(original);
    let mut masked = vec![false; chars.len()];
    let mut mask = |re: &Regex, group: usize| -> Vec<Span> {
        re.captures_iter(original)
            .filter_map(|c| c.get(group))
            .map(|m| {
                let span = Span::new(byte_to_char.at(m.start()), byte_to_char.at(m.end()));
                masked[span.start..span.end]
                    .iter_mut()
                    .for_each(|b| *b = true);
                span
            })
            .collect()
    };
    let urls = mask(&URL, 0);
    let mentions = mask(&MENTION, 1);

    let folded = fold_chars(original, &chars, &masked);
    let raw = split_tokens(&folded);
    let mut tokens =
        join_spaced_letters(raw.into_iter().filter_map(finish_token).collect(), &chars);
    let mut previous_end = 0;
    for t in &mut tokens {
        // One character can fold into several tokens (`½` -> `1⁄2`), sharing its span.
        t.boundary = Boundary::of(&chars[previous_end.min(t.span.start)..t.span.start]);
        previous_end = t.span.end;
    }
    NormalizedText {
        tokens,
        urls,
        mentions,
    }
}

/// A folded character and the original character range it came from.
#[derive(Debug, Clone, Copy)]
struct Folded {
    c: char,
    from: usize,
    to: usize,
    changed: bool,
}

fn fold_chars(original: &str, chars: &[char], masked: &[bool]) -> Vec<Folded> {
    let mut out = Vec::with_capacity(chars.len());
    for range in reading_order(original, chars) {
        let (from, to) = (range.start, range.end);
        if masked[from] {
            out.push(Folded {
                c: ' ',
                from,
                to,
                changed: false,
            });
        } else if to == from + 1 && chars[from].is_ascii() {
            out.push(Folded {
                c: chars[from].to_ascii_lowercase(),
                from,
                to,
                changed: false,
            });
        } else {
            fold_cluster(chars, range, &mut out);
        }
    }
    out
}

/// Invisible characters: dropped before anything else looks at the text, so a word with them
/// is the same token, in every respect, as the word without them.
fn is_invisible(c: char) -> bool {
    !c.is_ascii() && DefaultIgnorableCodePoint::for_char(c)
}

/// The visible character clusters (a base and its combining marks, invisible characters left
/// out) as ranges of `chars`, in the order a reader sees them: logical order, but for text under
/// a bidirectional override, whose letters are shown reversed.
fn reading_order(original: &str, chars: &[char]) -> Vec<Range<usize>> {
    let mut clusters = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if is_invisible(chars[i]) {
            i += 1;
            continue;
        }
        // Marks belong to the base before them, also across invisible characters; the cluster
        // ends at its last mark, so trailing invisible characters stay outside every span.
        let (mut end, mut scan) = (i + 1, i + 1);
        while scan < chars.len() && (is_combining_mark(chars[scan]) || is_invisible(chars[scan])) {
            scan += 1;
            if is_combining_mark(chars[scan - 1]) {
                end = scan;
            }
        }
        clusters.push(i..end);
        i = scan;
    }
    if !chars.iter().any(|c| matches!(c, '\u{202d}' | '\u{202e}')) {
        return clusters;
    }
    let bidi = BidiInfo::new(original, None);
    let byte_of: Vec<usize> = original.char_indices().map(|(b, _)| b).collect();
    let levels: Vec<Level> = clusters
        .iter()
        .map(|r| bidi.levels[byte_of[r.start]])
        .collect();
    BidiInfo::reorder_visual(&levels)
        .into_iter()
        .map(|k| clusters[k].clone())
        .collect()
}

/// One cluster through NFKC and lowercasing. A Latin letter keeps at most one mark, and only one
/// that makes a Finnish or Swedish letter (`ä ö å`); other marks on it are dropped, like
/// invisible characters, without counting as a disguise (`ṽ̷̢ĩ` -> `vi`).
fn fold_cluster(chars: &[char], range: Range<usize>, out: &mut Vec<Folded>) {
    let (from, to) = (range.start, range.end);
    let cluster = chars[range]
        .iter()
        .copied()
        .filter(|&c| !is_invisible(c))
        .nfkc()
        .flat_map(char::to_lowercase);
    let (mut base, mut kept_mark, mut changed) = (None, false, false);
    let decomposed: String = cluster
        .nfd()
        .filter_map(|c| {
            if !is_combining_mark(c) {
                let latin = fold_lookalike(c);
                changed |= latin != c;
                base = Some(latin).filter(char::is_ascii_alphabetic);
                kept_mark = false;
                return Some(latin);
            }
            let Some(b) = base else { return Some(c) };
            let keep = !kept_mark && matches!((b, c), ('a' | 'o', '\u{308}') | ('a', '\u{30a}'));
            kept_mark |= keep;
            keep.then_some(c)
        })
        .collect();
    out.extend(decomposed.nfc().map(|c| Folded {
        c,
        from,
        to,
        changed,
    }));
}

/// Letters from outside the Latin blocks that are confusable with a Latin letter become that letter.
fn fold_lookalike(c: char) -> char {
    if (c as u32) < 0x250 || !c.is_alphabetic() {
        return c;
    }
    let mut buf = [0; 4];
    let mut skeleton = unicode_security::confusable_detection::skeleton(c.encode_utf8(&mut buf));
    match (skeleton.next(), skeleton.next()) {
        (Some(s), None) if s.is_ascii_alphabetic() => s.to_ascii_lowercase(),
        _ => c,
    }
}

fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || c == '\'' || c == '’' || LEET_SYMBOLS.contains(&c)
}

/// Runs of token characters. A lone `!` inside a word is a letter (`sh!t`); two or more in a row
/// are punctuation (`takasin!!!!11`).
fn split_tokens(folded: &[Folded]) -> Vec<&[Folded]> {
    let bang = |i: usize| folded.get(i).is_some_and(|f| f.c == '!');
    let breaks = |i: usize| {
        !is_token_char(folded[i].c) || (bang(i) && (bang(i + 1) || (i > 0 && bang(i - 1))))
    };
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 0..=folded.len() {
        if i == folded.len() || breaks(i) {
            if start < i {
                runs.push(&folded[start..i]);
            }
            start = i + 1;
        }
    }
    runs
}

/// Trims symbols off the ends, folds leetspeak and elongation; `None` when nothing word-like is left.
fn finish_token(run: &[Folded]) -> Option<Token> {
    let edge = |f: &Folded| matches!(f.c, '\'' | '’' | '*' | '#' | '!' | '|');
    let start = run.iter().position(|f| !edge(f))?;
    let end = run.iter().rposition(|f| !edge(f))? + 1;
    let run = &run[start..end];
    let letters = run.iter().filter(|f| f.c.is_alphabetic()).count();
    let digits = run.iter().filter(|f| f.c.is_ascii_digit()).count();
    if letters == 0 {
        return (digits > 0).then(|| Token {
            text: run.iter().map(|f| f.c).collect(),
            span: span_of(run),
            is_number: true,
            elongated: false,
            obfuscated: false,
            boundary: Boundary::None,
        });
    }
    let fold_digits = digits > 0 && !digits_are_one_edge_block(run);
    let mut obfuscated = run.iter().any(|f| f.changed);
    let mut text = String::with_capacity(run.len());
    let (mut last, mut run_len, mut elongated) = ('\0', 0, false);
    for f in run {
        let c = match f.c {
            '$' => 's',
            '@' => 'a',
            '#' | '*' | '!' | '|' => WILDCARD,
            '’' => '\'',
            d if fold_digits && d.is_ascii_digit() => leet_digit(d),
            c => c,
        };
        obfuscated |= (c != f.c && f.c != '’') || c == WILDCARD;
        run_len = if c == last { run_len + 1 } else { 1 };
        last = c;
        if run_len >= 3 && c.is_alphabetic() {
            elongated = true;
            continue;
        }
        text.push(c);
    }
    Some(Token {
        text,
        span: span_of(run),
        is_number: false,
        elongated,
        obfuscated,
        boundary: Boundary::None,
    })
}

/// The original characters a run of folded characters came from (read in reverse under an
/// override, so the ends are the least and greatest offsets, not the first and last).
fn span_of(run: &[Folded]) -> Span {
    let start = run.iter().map(|f| f.from).min().unwrap_or(0);
    let end = run.iter().map(|f| f.to).max().unwrap_or(start);
    Span::new(start, end)
}

/// `10min`, `covid19`: digits only at one end are a number next to a word, not leetspeak.
fn digits_are_one_edge_block(run: &[Folded]) -> bool {
    let is_digit: Vec<bool> = run.iter().map(|f| f.c.is_ascii_digit()).collect();
    let first = is_digit.iter().position(|&d| d).unwrap_or(0);
    let last = is_digit.iter().rposition(|&d| d).unwrap_or(0);
    let contiguous = is_digit[first..=last].iter().all(|&d| d);
    contiguous && (first == 0 || last == run.len() - 1)
}

fn leet_digit(d: char) -> char {
    match d {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '8' => 'b',
        _ => WILDCARD,
    }
}

/// Joins three or more one-letter tokens separated by single separators: `v i t t u`, `p.a.s.k.a`.
fn join_spaced_letters(tokens: Vec<Token>, original: &[char]) -> Vec<Token> {
    let single = |t: &Token| !t.is_number && t.text.chars().count() == 1;
    // Tokens folded from one character (`℅` -> `c/o`) share a span, and under an override they
    // run backwards: either way there is no gap of separators between them.
    let close = |a: &Token, b: &Token| {
        let (left, right) = if a.span.end <= b.span.start {
            (a.span, b.span)
        } else {
            (b.span, a.span)
        };
        let gap = original.get(left.end..right.start).unwrap_or_default();
        (1..=2).contains(&gap.len())
            && gap
                .iter()
                .all(|c| matches!(c, ' ' | '.' | '-' | '_' | '/' | '+'))
    };
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let mut j = i + 1;
        while single(&tokens[i])
            && j < tokens.len()
            && single(&tokens[j])
            && close(&tokens[j - 1], &tokens[j])
        {
            j += 1;
        }
        if j - i >= 3 {
            out.push(Token {
                text: tokens[i..j].iter().map(|t| t.text.as_str()).collect(),
                span: tokens[i..j]
                    .iter()
                    .fold(tokens[i].span, |s, t| s.cover(t.span)),
                is_number: false,
                elongated: false,
                obfuscated: true,
                boundary: Boundary::None,
            });
            i = j;
        } else {
            out.push(tokens[i].clone());
            i += 1;
        }
    }
    out
}

/// Maps byte offsets of a `&str` to char offsets.
struct ByteToChar(Vec<usize>);

impl ByteToChar {
    fn new(s: &str) -> Self {
        let mut map = vec![0; s.len() + 1];
        let mut n = 0;
        for (b, c) in s.char_indices() {
            map[b..b + c.len_utf8()].iter_mut().for_each(|m| *m = n);
            n += 1;
        }
        map[s.len()] = n;
        Self(map)
    }

    fn at(&self, byte: usize) -> usize {
        self.0[byte]
    }
}

/// The original text as a transformer model reads it, the way its training files have it:
/// every URL as `URL`, every @mention as `@user`, invisible characters dropped.
pub fn model_text(original: &str, text: &NormalizedText) -> String {
    let mut masks: Vec<(Span, &str)> = text.urls.iter().map(|s| (*s, "URL")).collect();
    masks.extend(text.mentions.iter().map(|s| (*s, "@user")));
    masks.sort_by_key(|(span, _)| span.start);
    let mut masks = masks.into_iter().peekable();
    let mut out = String::with_capacity(original.len());
    let mut skip_to = 0;
    for (i, c) in original.chars().enumerate() {
        while let Some((span, word)) = masks.next_if(|(span, _)| span.start <= i) {
            // A mention inside a URL is part of the URL.
            if span.start >= skip_to && span.end > span.start {
                out.push_str(word);
                skip_to = span.end;
            }
        }
        if i >= skip_to && !is_invisible(c) {
            out.push(c);
        }
    }
    out
}

/// The original text of a span, for messages.
pub fn slice(original: &str, span: Span) -> String {
    original
        .chars()
        .skip(span.start)
        .take(span.end.saturating_sub(span.start))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        normalize(s).tokens.into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn folds_case_leet_lookalikes_and_elongation() {
        let cases: &[(&str, &[&str])] = &[
            ("MIKSI TÄÄ EI TOIMI", &["miksi", "tää", "ei", "toimi"]),
            ("v1ttu sh1t $hit h3ll0", &["vittu", "shit", "shit", "hello"]),
            ("vіttu раska", &["vittu", "paska"]),
            ("paskaaaa HUUUUUTAAA", &["paskaa", "huutaa"]),
            ("p*ska f*cking f**k", &["p*ska", "f*cking", "f**k"]),
            ("p.a.s.k.a ja v i t t u", &["paska", "ja", "vittu"]),
            ("Ｆｕｌｌｗｉｄｔｈ", &["fullwidth"]),
            (
                "juna lähtee 10min päästä, covid19",
                &["juna", "lähtee", "10min", "päästä", "covid19"],
            ),
            ("don’t", &["don't"]),
            ("112 ja 2026", &["112", "ja", "2026"]),
            ("1½ vuotta", &["11", "2", "vuotta"]),
            (
                "sh!t takasin!!!!!11 kiitos!!",
                &["sh*t", "takasin", "11", "kiitos"],
            ),
        ];
        for (input, want) in cases {
            assert_eq!(texts(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn spans_point_into_the_original() {
        let original = "Äh, vіttu https://x.fi/paska @paskajuttu p.a.s.k.a!";
        let n = normalize(original);
        let words: Vec<(String, String)> = n
            .tokens
            .iter()
            .map(|t| (t.text.clone(), slice(original, t.span)))
            .collect();
        assert_eq!(
            words,
            vec![
                ("äh".to_string(), "Äh".to_string()),
                ("vittu".to_string(), "vіttu".to_string()),
                ("paska".to_string(), "p.a.s.k.a".to_string()),
            ]
        );
        assert_eq!(slice(original, n.urls[0]), "https://x.fi/paska");
        assert_eq!(slice(original, n.mentions[0]), "@paskajuttu");
    }

    #[test]
    fn marks_clause_and_sentence_boundaries() {
        let n = normalize("Ei hätää, toimii jo!!! Kiitos\nsulle https://x.fi ja");
        let got: Vec<(&str, Boundary)> = n
            .tokens
            .iter()
            .map(|t| (t.text.as_str(), t.boundary))
            .collect();
        let want = [
            ("ei", Boundary::None),
            ("hätää", Boundary::None),
            ("toimii", Boundary::Clause),
            ("jo", Boundary::None),
            ("kiitos", Boundary::Sentence),
            ("sulle", Boundary::Sentence),
            ("ja", Boundary::Sentence),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn sees_through_invisible_characters_marks_and_overrides() {
        let cases: &[(&str, &[&str])] = &[
            ("idi\u{ad}ootti olet", &["idiootti", "olet"]),
            ("f\u{200b}u\u{200b}c\u{200b}k you", &["fuck", "you"]),
            ("v\u{2060}i\u{feff}t\u{200d}t\u{200c}u", &["vittu"]),
            (
                "v\u{336}\u{321}i\u{31b}\u{330}t\u{334}tu\u{353}",
                &["vittu"],
            ),
            ("\u{202e}ittooidi olet\u{202c}", &["telo", "idiootti"]),
            ("paketti \u{2105} Matti", &["paketti", "c", "o", "matti"]),
            ("pa\u{308}a\u{308} A\u{30a}bo", &["pää", "åbo"]),
            ("café naïve", &["cafe", "naive"]),
        ];
        for (input, want) in cases {
            assert_eq!(texts(input), *want, "input {input:?}");
        }
        let original = "\u{202e}ittoidi\u{202c} ja";
        let n = normalize(original);
        assert_eq!(n.tokens[0].span, Span::new(1, 8));
        assert_eq!(slice(original, n.tokens[0].span), "ittoidi");
        assert!(n.tokens.iter().all(|t| !t.obfuscated));
    }

    #[test]
    fn combining_marks_fold_with_their_base() {
        let n = normalize("ta\u{0308}ma\u{0308}");
        assert_eq!(n.tokens[0].text, "tämä");
        assert_eq!(n.tokens[0].span, Span::new(0, 6));
    }

    #[test]
    fn marks_obfuscation_and_elongation() {
        let n = normalize("v1ttu noooo hyvä");
        let flags: Vec<(bool, bool)> = n
            .tokens
            .iter()
            .map(|t| (t.obfuscated, t.elongated))
            .collect();
        assert_eq!(flags, vec![(true, false), (false, true), (false, false)]);
    }

    #[test]
    fn a_model_reads_urls_and_mentions_masked_and_no_invisible_characters() {
        for (original, expected) in [
            (
                "@Mikko go to https://x.fi/@paska now",
                "@user go to URL now",
            ),
            ("ki\u{200b}ll y\u{ad}ou @a.b", "kill you @user"),
            ("see www.x.com/a @b", "see URL @user"),
            ("mail a@b.fi", "mail a@URL"),
            ("", ""),
        ] {
            assert_eq!(
                model_text(original, &normalize(original)),
                expected,
                "{original:?}"
            );
        }
    }

    #[test]
    fn never_fails_on_odd_input() {
        for s in [
            "",
            "   ",
            "!!!???",
            "\u{0308}\u{0308}",
            "@",
            "http://",
            "ｱｲｳ",
            "🙂🙂",
            "a\u{0}b",
        ] {
            let n = normalize(s);
            assert!(
                n.tokens.iter().all(|t| t.span.end <= s.chars().count()),
                "{s:?}"
            );
        }
    }
}
