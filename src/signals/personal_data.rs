//! Personal data that customers post in public comments: Finnish identity codes (henkilötunnus),
//! phone numbers, e-mail addresses, IBANs, payment cards, street addresses, and customer, order
//! or contract numbers introduced by their word.
//!
//! Works on the original text, since normalisation folds digits into letters. Each kind is a
//! regex for candidates and a validator that keeps false positives low: date, individual number
//! and check character for identity codes; check digits and the country's format for IBANs
//! (`iban_validate`); Luhn and an issuer prefix for cards; a prefix and digit count for phones.
//! Where candidates overlap, a checksum-validated value or an e-mail address beats a customer
//! number, which beats an address, which beats a phone; among equals the longer wins.
//!
//! Deliberately not found: a postal code and town without a street ("00100 Helsinki" names a
//! district, not a person); Finnish service and business numbers (0800, 0600, 0700, 010, 020,
//! 029, 030), which belong to companies; phone numbers of countries other than Finland and
//! Britain written without their `+` or `00` prefix; identity codes with the temporary
//! individual numbers 900–999.

use std::cmp::Reverse;
use std::sync::LazyLock;

use iban::Iban;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::domain::{Reason, Span};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PersonalKind {
    /// Finnish personal identity code (henkilötunnus), DDMMYYCZZZQ.
    IdentityCode,
    Phone,
    Email,
    Iban,
    PaymentCard,
    /// A street address with a house number, and its postal code and town when given.
    Address,
    /// A customer, order, contract, invoice, booking or reference number introduced by its word.
    CustomerNumber,
}

impl PersonalKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::IdentityCode => "identity_code",
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Iban => "iban",
            Self::PaymentCard => "payment_card",
            Self::Address => "address",
            Self::CustomerNumber => "customer_number",
        }
    }

    /// Which kind keeps a stretch of text that two candidates claim: checksums and the shape of
    /// an e-mail address are surest, a number's introducing word comes next, phones last.
    fn strength(self) -> u8 {
        match self {
            Self::IdentityCode | Self::Iban | Self::PaymentCard | Self::Email => 3,
            Self::CustomerNumber => 2,
            Self::Address => 1,
            Self::Phone => 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PersonalData {
    pub kind: PersonalKind,
    /// In characters of the original text.
    pub span: Span,
}

impl PersonalData {
    /// Names the kind and where it is, never the value: reasons are answered and stored.
    pub fn reason(&self) -> Reason {
        Reason::new(
            "privacy.personal_data",
            format!("personal data in public: {}", self.kind.name()),
            0.5,
        )
        .at(self.span)
    }
}

/// Every piece of personal data in the text, sorted by start, none overlapping another.
pub fn find(original: &str) -> Vec<PersonalData> {
    let has_digit = original.bytes().any(|b| b.is_ascii_digit());
    let has_at = ["@", "(at)", "[at]"].iter().any(|at| original.contains(at));
    let mut found = Vec::new();
    if has_at {
        emails(original, &mut found);
    }
    if has_digit {
        identity_codes(original, &mut found);
        ibans(original, &mut found);
        payment_cards(original, &mut found);
        customer_numbers(original, &mut found);
        addresses(original, &mut found);
        phones(original, &mut found);
    }
    settle(original, found)
}

/// The text with every character of each found value replaced by `•`: "soita ••••••••••••".
/// The length in characters is kept, so every span computed on the original (reasons, signals)
/// still points at the same words in the masked text; the kinds stay in the signals.
pub fn mask(original: &str, found: &[PersonalData]) -> String {
    original
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if found
                .iter()
                .any(|p| (p.span.start..p.span.end).contains(&i))
            {
                MASK
            } else {
                c
            }
        })
        .collect()
}

/// What a masked character becomes.
pub const MASK: char = '•';

/// A candidate in bytes of the original text, before overlaps are settled.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    kind: PersonalKind,
    start: usize,
    end: usize,
}

/// Keeps the strongest, then longest, of overlapping candidates and turns bytes into characters.
fn settle(original: &str, mut candidates: Vec<Candidate>) -> Vec<PersonalData> {
    candidates.sort_by_key(|c| {
        (
            Reverse(c.kind.strength()),
            Reverse(c.end - c.start),
            c.start,
        )
    });
    let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
    for c in candidates {
        if kept.iter().all(|k| c.end <= k.start || k.end <= c.start) {
            kept.push(c);
        }
    }
    kept.sort_by_key(|c| c.start);
    let (mut byte, mut chars) = (0, 0);
    kept.into_iter()
        .map(|c| {
            let start = chars + original[byte..c.start].chars().count();
            chars = start + original[c.start..c.end].chars().count();
            byte = c.end;
            PersonalData {
                kind: c.kind,
                span: Span::new(start, chars),
            }
        })
        .collect()
}

/// Whether no letter or digit touches `start..end` (bytes) on either side.
fn standalone(text: &str, start: usize, end: usize) -> bool {
    starts_alone(text, start)
        && !text[end..]
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric)
}

/// Whether no letter or digit comes right before byte `start`.
fn starts_alone(text: &str, start: usize) -> bool {
    !text[..start]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
}

/// The digit groups of `text[start..end]`, as byte ranges of `text`.
fn digit_groups(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for (i, b) in text[start..end].bytes().enumerate() {
        if !b.is_ascii_digit() {
            continue;
        }
        let at = start + i;
        match groups.last_mut() {
            Some(last) if last.1 == at => last.1 = at + 1,
            _ => groups.push((at, at + 1)),
        }
    }
    groups
}

/// The most digit groups a phone or card number is written in ("+358 (0)40 123 45 67" has six).
/// It bounds the work on a long run of digits.
const WIDEST: usize = 8;

/// Stretches of at most [`WIDEST`] whole groups, each the longest that `valid(i, j)` accepts for
/// groups `i..j`: the first from the first group, each next one right after the one before. A
/// number glued to what follows it ("040 123 4567 2 kertaa") is still found; one that starts
/// inside a longer run of digits ("4532 0151 1283 0367") is not taken for another kind.
fn stretches(count: usize, mut valid: impl FnMut(usize, usize) -> bool) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(j) = (i + 1..=count.min(i + WIDEST)).rev().find(|&j| valid(i, j)) {
        found.push((i, j));
        i = j;
    }
    found
}

// --- Identity codes -----------------------------------------------------------------------------

static IDENTITY_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9]{6}[-+A-FU-Ya-fu-y][0-9]{3}[0-9A-Ya-y]").expect("identity code regex")
});

/// The check characters, indexed by `DDMMYYZZZ mod 31`.
const IDENTITY_CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

fn identity_codes(text: &str, found: &mut Vec<Candidate>) {
    for m in IDENTITY_CODE.find_iter(text) {
        if standalone(text, m.start(), m.end()) && valid_identity_code(m.as_str()) {
            found.push(Candidate {
                kind: PersonalKind::IdentityCode,
                start: m.start(),
                end: m.end(),
            });
        }
    }
}

/// A henkilötunnus: a real date in the century its sign names, an individual number 002–899
/// (900–999 are temporary codes) and the check character. Letters may be lower case.
fn valid_identity_code(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() != 11 {
        return false;
    }
    let number = |from: usize, to: usize| code[from..to].parse::<u32>().ok();
    let (Some(date), Some(individual)) = (number(0, 6), number(7, 10)) else {
        return false;
    };
    let century = match b[6].to_ascii_uppercase() {
        b'+' => 1800,
        b'-' | b'U'..=b'Y' => 1900,
        b'A'..=b'F' => 2000,
        _ => return false,
    };
    let (day, month, year) = (date / 10_000, date / 100 % 100, century + date % 100);
    (2..=899).contains(&individual)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && IDENTITY_CHECK[((date * 1000 + individual) % 31) as usize] == b[10].to_ascii_uppercase()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// --- Phones -------------------------------------------------------------------------------------

/// Digits with the spaces, hyphens and brackets phone numbers are written with. Dots, commas,
/// colons and slashes end a run, so dates, times and prices never form one.
static NUMBER_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\+?\(?[0-9](?:[0-9 ()\-\x{a0}]*[0-9])?").expect("number run regex")
});

fn phones(text: &str, found: &mut Vec<Candidate>) {
    for m in NUMBER_RUN.find_iter(text) {
        if !standalone(text, m.start(), m.end()) {
            continue;
        }
        let plus = m.as_str().starts_with('+');
        let groups = digit_groups(text, m.start(), m.end());
        let between = |a: usize, b: usize| &text[groups[a].1..groups[b].0];
        let spaced = |a: usize, b: usize| between(a, b).chars().all(char::is_whitespace);
        let valid = |i: usize, j: usize| {
            let starts = if i == 0 {
                plus || text[groups[0].0..].starts_with('0')
            } else {
                spaced(i - 1, i) && text[groups[i].0..].starts_with('0')
            };
            if !starts || (j < groups.len() && !spaced(j - 1, j)) {
                return false;
            }
            let stretch = &groups[i..j];
            if !(7..=17).contains(&stretch.iter().map(|g| g.1 - g.0).sum::<usize>()) {
                return false;
            }
            let hyphenated = (i + 1..j).any(|k| between(k - 1, k).contains('-'));
            if hyphenated && looks_like_date(stretch) {
                return false;
            }
            let digits: String = groups[i..j].iter().map(|g| &text[g.0..g.1]).collect();
            phone_number(&digits, plus && i == 0, j - i)
        };
        for (i, j) in stretches(groups.len(), valid) {
            let end = groups[j - 1].1;
            // The run's `+`, or its opening bracket when the bracket closes: "(09) 874 3210".
            let whole = i == 0 && (plus || text[m.start()..end].contains(')'));
            found.push(Candidate {
                kind: PersonalKind::Phone,
                start: if whole { m.start() } else { groups[i].0 },
                end,
            });
        }
    }
}

/// Day, month and year in three groups of digits ("05-12-2026").
fn looks_like_date(groups: &[(usize, usize)]) -> bool {
    let lengths: Vec<usize> = groups.iter().map(|g| g.1 - g.0).collect();
    matches!(lengths[..], [1 | 2, 1 | 2, 2 | 4])
}

/// `digits` after a `+` (`plus`), after `00`, or a Finnish or British number with its leading
/// 0. Numbers after `00` must be written in `groups`, unless they are Finnish (00358), so that a
/// code with leading zeros ("0012345678") is not taken for one.
fn phone_number(digits: &str, plus: bool, groups: usize) -> bool {
    if plus {
        return international(digits);
    }
    match digits.strip_prefix("00") {
        Some(rest) => (groups > 1 || rest.starts_with("358")) && international(rest),
        None => digits
            .strip_prefix('0')
            .is_some_and(|national| finnish(national) || british(national)),
    }
}

/// A number after the international prefix: Finnish ones checked closely (a stray trunk 0, as
/// in "+358 (0)40", is allowed), others by the E.164 length of 8–15 digits.
fn international(digits: &str) -> bool {
    match digits.strip_prefix("358") {
        Some(national) => finnish(national.strip_prefix('0').unwrap_or(national)),
        None => (8..=15).contains(&digits.len()) && !digits.starts_with('0'),
    }
}

/// A Finnish number without its trunk 0: a mobile number (040–046, 049, 050; 9–10 digits with
/// the 0) or a landline with its area code (02–09, 013–019; 8–10 digits) whose subscriber part
/// does not start with 0, which rules out the 0600, 0700 and 0800 service numbers.
fn finnish(national: &str) -> bool {
    let b = national.as_bytes();
    if matches!(b, [b'4', b'0'..=b'6' | b'9', ..] | [b'5', b'0', ..]) {
        return (8..=9).contains(&b.len());
    }
    let subscriber = match b {
        [b'1', b'3'..=b'9', rest @ ..] | [b'2' | b'3' | b'5' | b'6' | b'8' | b'9', rest @ ..] => {
            rest
        }
        _ => return false,
    };
    (7..=9).contains(&b.len()) && subscriber.first().is_some_and(|&d| d != b'0')
}

/// A British number in national format, 11 digits with the 0: geographic (01, 02),
/// non-geographic (03) or mobile (07). Finnish numbers have at most 10, so the two never meet.
fn british(national: &str) -> bool {
    national.len() == 10 && matches!(national.as_bytes()[0], b'1' | b'2' | b'3' | b'7')
}

// --- E-mail -------------------------------------------------------------------------------------

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        [\p{L}\p{N}_%+\-]+(?:\.[\p{L}\p{N}_%+\-]+)*         # local part
        (?:@|\(at\)|\[at\])
        [\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?         # domain labels
        (?:\.[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?)*
        \.\p{L}{2,24}                                         # top-level domain
        ",
    )
    .expect("e-mail regex")
});

/// An address with a dot in its domain; an @mention has none. "(at)" and "[at]" count as `@`.
fn emails(text: &str, found: &mut Vec<Candidate>) {
    for m in EMAIL.find_iter(text) {
        if standalone(text, m.start(), m.end()) {
            found.push(Candidate {
                kind: PersonalKind::Email,
                start: m.start(),
                end: m.end(),
            });
        }
    }
}

// --- IBAN ---------------------------------------------------------------------------------------

/// Country code, check digits, then up to 30 letters and digits, in groups or not. The regex
/// may run into the next word; the longest run of whole groups that validates is kept.
static IBAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[a-zA-Z]{2}[0-9]{2}(?: ?[a-zA-Z0-9]){10,30}").expect("IBAN regex")
});

fn ibans(text: &str, found: &mut Vec<Candidate>) {
    for m in IBAN.find_iter(text) {
        if !starts_alone(text, m.start()) {
            continue;
        }
        let groups: Vec<(usize, usize)> = m
            .as_str()
            .split(' ')
            .scan(m.start(), |at, g| {
                let range = (*at, *at + g.len());
                *at += g.len() + 1;
                Some(range)
            })
            .collect();
        let valid = (1..=groups.len()).rev().find(|&j| {
            let end = groups[j - 1].1;
            let compact = text[m.start()..end].replace(' ', "").to_ascii_uppercase();
            standalone(text, m.start(), end) && compact.parse::<Iban>().is_ok()
        });
        if let Some(j) = valid {
            found.push(Candidate {
                kind: PersonalKind::Iban,
                start: m.start(),
                end: groups[j - 1].1,
            });
        }
    }
}

// --- Payment cards ------------------------------------------------------------------------------

static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9](?:[ \-]?[0-9]){12,22}").expect("payment card regex"));

fn payment_cards(text: &str, found: &mut Vec<Candidate>) {
    for m in CARD.find_iter(text) {
        let groups = digit_groups(text, m.start(), m.end());
        let valid = |i: usize, j: usize| {
            let (start, end) = (groups[i].0, groups[j - 1].1);
            let digits: String = groups[i..j].iter().map(|g| &text[g.0..g.1]).collect();
            standalone(text, start, end) && payment_card(&digits)
        };
        for (i, j) in stretches(groups.len(), valid) {
            found.push(Candidate {
                kind: PersonalKind::PaymentCard,
                start: groups[i].0,
                end: groups[j - 1].1,
            });
        }
    }
}

/// 13–19 digits that pass Luhn and start with a known issuer's prefix at its length.
fn payment_card(digits: &str) -> bool {
    let len = digits.len();
    let Some(prefix) = digits.get(..4).and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    let (p1, p2, p3) = (prefix / 1000, prefix / 100, prefix / 10);
    let issuer = if p1 == 4 {
        // Visa
        matches!(len, 13 | 16 | 19)
    } else if (51..=55).contains(&p2) || (2221..=2720).contains(&prefix) {
        // Mastercard
        len == 16
    } else if p2 == 34 || p2 == 37 {
        // American Express
        len == 15
    } else if (300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39) {
        // Diners Club
        (14..=19).contains(&len)
    } else if prefix == 6011
        || (644..=649).contains(&p3)
        || p2 == 65
        || (3528..=3589).contains(&prefix)
        || p2 == 62
    {
        // Discover, JCB, UnionPay
        (16..=19).contains(&len)
    } else {
        // Maestro
        matches!(
            prefix,
            5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761..=6763
        )
    };
    issuer && (13..=19).contains(&len) && luhn(digits)
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            match (i % 2, d * 2) {
                (0, _) => d,
                (_, doubled) if doubled > 9 => doubled - 9,
                (_, doubled) => doubled,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

// --- Customer, order and contract numbers -------------------------------------------------------

/// The introducing word (Finnish with any inflection or possessive suffix, English with its
/// abbreviations), what may stand between it and the value, and the value: a code of letters and
/// digits with hyphens or slashes, or a reference number in groups of four or five digits. An
/// order or booking word alone ("Order 100234") is the `bare` form.
static CUSTOMER_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?-u:\b)
        (?i:
            (?:asiakas|tilaus|sopimus|varaus|viite|lasku|tapaus|jäsen)
            (?:numero|nro|tunnu[sk]|koodi)\p{L}*
          | (?:tilau[sk]|sopimu[sk]|varau[sk]|lasku)\p{L}*
            \s+(?:numero\p{L}*|nro(?-u:\b)|no(?-u:\b))
          | (?:order|customer|account|contract|booking|reservation|invoice|membership
              |reference|case)
            \s*(?:\#|(?:number|num|no|nr|id|ref|reference|code)s?(?-u:\b))
          | (?P<bare>order|booking|reservation|tilaus|varaus)(?-u:\b)
        )
        [\s.:=\#\-–]*
        (?i:(?:on|oli|is|was|siis|still|edelleen)(?-u:\b)[\s:]*)*
        (?P<value>[A-Za-z0-9]+(?:[\-/][A-Za-z0-9]+)*(?:\x20[0-9]{4,5}(?-u:\b))*)
        ",
    )
    .expect("customer number regex")
});

/// A value needs at least 4 characters and 3 digits; after a bare word, which may as well be
/// followed by a quantity ("order 100 pieces"), 5 digits.
fn customer_numbers(text: &str, found: &mut Vec<Candidate>) {
    for caps in CUSTOMER_NUMBER.captures_iter(text) {
        let Some(value) = caps.name("value") else {
            continue;
        };
        let digits = value.as_str().bytes().filter(u8::is_ascii_digit).count();
        let needed = if caps.name("bare").is_some() { 5 } else { 3 };
        if value.len() >= 4 && digits >= needed && standalone(text, value.start(), value.end()) {
            found.push(Candidate {
                kind: PersonalKind::CustomerNumber,
                start: value.start(),
                end: value.end(),
            });
        }
    }
}

// --- Addresses ----------------------------------------------------------------------------------

/// A Finnish (or Swedish-named) street, in the nominative or the genitive ("Kirkkokadun 5"), its
/// house number, staircase and flat, then a postal code and town, or a town after a comma.
static FINNISH_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?P<street>
            (?:(?:Pohjoinen|Eteläinen|Itäinen|Läntinen|Vanha|Iso|Pieni|Uusi)\x20)?
            \p{L}[\p{L}\-]*?
            (?:katu|kadun|tien?|kujan?|polku|polun|kaari|kaaren|kaarre|kaarteen|rinne|rinteen
              |väylän?|puistikko|puistikon|torin?|rannan?|ranta|mäki|mäen|raitti|raitin|pihan?
              |aukion?|kierros|kierroksen|kumpu|kummun|penger|penkereen|ahde|ahteen|tanhua|tanhuan
              |esplanadin?|bulevardin?|gatan|vägen|gränd)
        )
        \x20[0-9]{1,4}[a-zA-Z]?(?:\x20?[\-–]\x20?[0-9]{1,4})?
        (?:\x20(?:
            [A-Ha-h]\x20?[0-9]{1,3}(?-u:\b)               # staircase and flat: B 34
          | (?:as\.?|asunto)\x20?[0-9]{1,3}(?-u:\b)       # flat: as. 4
          | [A-Ha-h](?-u:\b)                              # staircase: A
        ))?
        (?:
            (?P<postal>,?\x20[0-9]{5}(?-u:\b))(?:\x20\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?)?
          | ,\x20\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?
        )?
        ",
    )
    .expect("Finnish address regex")
});

/// Roads named by number ("Valtatie 4", "valtatien 4 varrella") and words that only look like
/// streets, as stems of their lower-case forms.
const NOT_STREETS: [&str; 6] = [
    "valtatie",
    "kantatie",
    "seututie",
    "yhdystie",
    "moottoritie",
    "sateenkaar",
];

/// A house number and capitalised street words ending in a street type ("221B Baker Street",
/// "1600 Pennsylvania Avenue"), with an optional flat before it.
static ENGLISH_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?:(?:Flat|Apt\.?|Apartment|Unit|Suite)\x20[0-9]{1,4}[A-Za-z]?,?\x20)?
        [0-9]{1,5}[A-Za-z]?\x20
        (?:\p{Lu}\p{Ll}+(?:['’]s)?\x20){1,3}
        (?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl
          |Terrace|Crescent|Close|Square|Gardens|Parkway)
        (?-u:\b)
        ",
    )
    .expect("English address regex")
});

/// After an English street: a town after a comma (mid-sentence, English capitalises only names),
/// then a UK postcode or a US state and ZIP code.
static ENGLISH_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        ^(?:,\x20\p{Lu}\p{Ll}+(?:\x20\p{Lu}\p{Ll}+)?)?
        (?:,?\x20(?:
            [A-Z]{1,2}[0-9][A-Z0-9]?\x20?[0-9][A-Z]{2}      # UK postcode: SW1A 1AA
          | [A-Z]{2}\x20[0-9]{5}(?:-[0-9]{4})?              # US state and ZIP: DC 20500
        )(?-u:\b))?
        ",
    )
    .expect("English address tail regex")
});

fn addresses(text: &str, found: &mut Vec<Candidate>) {
    for caps in FINNISH_ADDRESS.captures_iter(text) {
        let (Some(all), Some(street)) = (caps.get(0), caps.name("street")) else {
            continue;
        };
        let street = street.as_str();
        let lowered = street.to_lowercase();
        let named = street.chars().next().is_some_and(char::is_uppercase);
        if (named || caps.name("postal").is_some())
            && !NOT_STREETS.iter().any(|w| lowered.contains(w))
            && standalone(text, all.start(), all.end())
        {
            found.push(Candidate {
                kind: PersonalKind::Address,
                start: all.start(),
                end: all.end(),
            });
        }
    }
    for m in ENGLISH_ADDRESS.find_iter(text) {
        if !standalone(text, m.start(), m.end()) {
            continue;
        }
        found.push(Candidate {
            kind: PersonalKind::Address,
            start: m.start(),
            end: m.end() + ENGLISH_TAIL.find(&text[m.end()..]).map_or(0, |t| t.end()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::PersonalKind::*;
    use super::*;
    use crate::normalize::slice;

    /// The kinds and exact values found in `text`.
    fn found(text: &str) -> Vec<(PersonalKind, String)> {
        find(text)
            .into_iter()
            .map(|p| (p.kind, slice(text, p.span)))
            .collect()
    }

    /// Each text must give exactly the listed values (an empty list: nothing at all).
    fn check(cases: &[(&str, &[(PersonalKind, &str)])]) {
        for (text, want) in cases {
            let want: Vec<(PersonalKind, String)> =
                want.iter().map(|(k, v)| (*k, (*v).to_string())).collect();
            assert_eq!(found(text), want, "in {text:?}");
        }
    }

    #[test]
    fn identity_codes_are_validated() {
        check(&[
            (
                "Hetuni on 131052-308T, korjatkaa",
                &[(IdentityCode, "131052-308T")],
            ),
            (
                "hetu 290200A4561 (karkauspäivä)",
                &[(IdentityCode, "290200A4561")],
            ),
            (
                "150690Y2349 on uusi välimerkki",
                &[(IdentityCode, "150690Y2349")],
            ),
            ("vanha 111199+099P", &[(IdentityCode, "111199+099P")]),
            ("pienillä 131052-308t", &[(IdentityCode, "131052-308t")]),
            ("050912B321X", &[(IdentityCode, "050912B321X")]),
            // Wrong check character.
            ("hetu 131052-308U", &[]),
            // 31 February, and month 13.
            ("310202A123K", &[]),
            ("311302A123X", &[]),
            // 29 February of a year that is not a leap year (2001).
            ("290201A4561", &[]),
            // A sign that is no century sign, and a temporary individual number.
            ("131052Q308T", &[]),
            ("131052-908T", &[]),
            // Inside a longer token.
            ("X131052-308T", &[]),
            ("131052-308TT", &[]),
            ("koodi ABCDEF-123X", &[]),
        ]);
    }

    #[test]
    fn phones_are_found_in_their_usual_shapes() {
        check(&[
            ("soita 040 123 4567", &[(Phone, "040 123 4567")]),
            ("numero 0401234567.", &[(Phone, "0401234567")]),
            ("050-123 4567 iltaisin", &[(Phone, "050-123 4567")]),
            ("044 1234567", &[(Phone, "044 1234567")]),
            ("kotiin 09 123 4567", &[(Phone, "09 123 4567")]),
            ("+358 40 123 4567", &[(Phone, "+358 40 123 4567")]),
            ("+358401234567", &[(Phone, "+358401234567")]),
            ("00358 50 765 4321", &[(Phone, "00358 50 765 4321")]),
            ("+358 (0)40 123 4567", &[(Phone, "+358 (0)40 123 4567")]),
            ("call +44 20 7946 0958", &[(Phone, "+44 20 7946 0958")]),
            (
                "or +1 (555) 123-4567 today",
                &[(Phone, "+1 (555) 123-4567")],
            ),
            ("0044 20 7946 0958", &[(Phone, "0044 20 7946 0958")]),
            ("soitin 040 123 4567 2 kertaa", &[(Phone, "040 123 4567")]),
            ("Matti (040 123 4567)", &[(Phone, "040 123 4567")]),
            ("kotiin (09) 874 3210", &[(Phone, "(09) 874 3210")]),
            (
                "040 123 4567 tai 050 765 4321",
                &[(Phone, "040 123 4567"), (Phone, "050 765 4321")],
            ),
        ]);
    }

    #[test]
    fn dates_times_prices_and_codes_are_not_phones() {
        check(&[
            ("juna lähti 12.11.2026 klo 08.15", &[]),
            ("05-12-2026 tilasin", &[]),
            ("hinta 49,90 € ja 0,99 €", &[]),
            ("vuonna 2026 ja 1 234 567 asiakasta", &[]),
            ("aukioloajat 08-16", &[]),
            ("postinumero 00100", &[]),
            ("tuotekoodi 0012345678", &[]),
            ("palvelunumero 0800 123 456", &[]),
            ("juna IC 27 ja lento AY 1331", &[]),
            ("+5 astetta", &[]),
        ]);
    }

    #[test]
    fn emails_need_a_domain() {
        check(&[
            (
                "laita matti.meikalainen@example.fi",
                &[(Email, "matti.meikalainen@example.fi")],
            ),
            (
                "mail: j.doe+orders@mail.example.co.uk.",
                &[(Email, "j.doe+orders@mail.example.co.uk")],
            ),
            ("@matti_m katso tämä", &[]),
            ("matti@localhost", &[]),
            (
                "maija.040123456@example.com",
                &[(Email, "maija.040123456@example.com")],
            ),
        ]);
    }

    #[test]
    fn ibans_have_valid_check_digits() {
        check(&[
            (
                "tilille FI21 1234 5600 0007 85 kiitos",
                &[(Iban, "FI21 1234 5600 0007 85")],
            ),
            ("FI2112345600000785", &[(Iban, "FI2112345600000785")]),
            (
                "fi21 1234 5600 0007 85",
                &[(Iban, "fi21 1234 5600 0007 85")],
            ),
            (
                "DE89 3704 0044 0532 0130 00",
                &[(Iban, "DE89 3704 0044 0532 0130 00")],
            ),
            (
                "GB29 NWBK 6016 1331 9268 19 ok",
                &[(Iban, "GB29 NWBK 6016 1331 9268 19")],
            ),
            // Wrong check digits, and a Finnish IBAN one digit short.
            ("FI22 1234 5600 0007 85", &[]),
            ("FI21 1234 5600 0007 8", &[]),
        ]);
    }

    #[test]
    fn cards_pass_luhn_and_name_an_issuer() {
        check(&[
            (
                "kortti 4532 0151 1283 0366",
                &[(PaymentCard, "4532 0151 1283 0366")],
            ),
            (
                "card 5520-4310-5847-2959 exp 12/28",
                &[(PaymentCard, "5520-4310-5847-2959")],
            ),
            ("amex 378282246310005", &[(PaymentCard, "378282246310005")]),
            (
                "2223 0012 3456 7894",
                &[(PaymentCard, "2223 0012 3456 7894")],
            ),
            // Luhn fails.
            ("kortti 4532 0151 1283 0367", &[]),
            // Luhn holds but no issuer starts with 1.
            ("1234 5678 9012 3452", &[]),
        ]);
        assert!(luhn("79927398713"));
        assert!(!luhn("79927398710"));
    }

    #[test]
    fn addresses_span_street_to_town() {
        check(&[
            (
                "Osoite Mannerheimintie 12 B 34, 00100 Helsinki.",
                &[(Address, "Mannerheimintie 12 B 34, 00100 Helsinki")],
            ),
            (
                "Hämeenkatu 5, 33100 Tampere",
                &[(Address, "Hämeenkatu 5, 33100 Tampere")],
            ),
            ("asun Kotikuja 3 as 4", &[(Address, "Kotikuja 3 as 4")]),
            (
                "Iso Roobertinkatu 20 A",
                &[(Address, "Iso Roobertinkatu 20 A")],
            ),
            (
                "hämeenkatu 5 a 12 33100 tampere",
                &[(Address, "hämeenkatu 5 a 12 33100")],
            ),
            (
                "I live at 221B Baker Street",
                &[(Address, "221B Baker Street")],
            ),
            (
                "to 12 High Street, London SW1A 1AA",
                &[(Address, "12 High Street, London SW1A 1AA")],
            ),
            (
                "1600 Pennsylvania Avenue, Washington DC 20500",
                &[(Address, "1600 Pennsylvania Avenue, Washington DC 20500")],
            ),
            (
                "at 12 High Street, London.",
                &[(Address, "12 High Street, London")],
            ),
            (
                "at 12 High Street, please help",
                &[(Address, "12 High Street")],
            ),
            // Road numbers, a lower-case street without a postal code, a bare postal code.
            ("Valtatie 4 on ruuhkainen", &[]),
            ("ylämäki 2 km", &[]),
            ("00100 Helsinki", &[]),
        ]);
    }

    #[test]
    fn customer_numbers_take_the_value_after_their_word() {
        check(&[
            ("asiakasnumeroni on 1234567", &[(CustomerNumber, "1234567")]),
            ("tilausnumero: AB-12345", &[(CustomerNumber, "AB-12345")]),
            (
                "Tilausnumerolla 778812 ei löydy",
                &[(CustomerNumber, "778812")],
            ),
            ("tilaus nro 55123", &[(CustomerNumber, "55123")]),
            (
                "Sopimukseni numero on 44-77821",
                &[(CustomerNumber, "44-77821")],
            ),
            ("Order 100234 arrived broken", &[(CustomerNumber, "100234")]),
            ("I'd like to order 1000 pieces", &[]),
            ("asiakastunnukseni 7782231", &[(CustomerNumber, "7782231")]),
            (
                "viitenumero 12345 67890 12345",
                &[(CustomerNumber, "12345 67890 12345")],
            ),
            ("order #12345678 is late", &[(CustomerNumber, "12345678")]),
            (
                "my customer number is 55512345",
                &[(CustomerNumber, "55512345")],
            ),
            ("Booking reference: X7K9P2", &[(CustomerNumber, "X7K9P2")]),
            // A ten-digit order number is not a phone.
            ("tilausnumero 0401234567", &[(CustomerNumber, "0401234567")]),
            // Too short, or not enough digits.
            ("tilausnumero 123", &[]),
            ("asiakasnumero ja salasana", &[]),
            ("booking reference ABC12", &[]),
        ]);
    }

    #[test]
    fn validated_values_win_over_overlapping_ones() {
        check(&[
            (
                "asiakastunnus 131052-308T",
                &[(IdentityCode, "131052-308T")],
            ),
            (
                "account number FI21 1234 5600 0007 85",
                &[(Iban, "FI21 1234 5600 0007 85")],
            ),
        ]);
    }

    #[test]
    fn long_runs_of_digits_stay_cheap() {
        let text = "1 ".repeat(20_000) + "0401234567";
        assert!(find(&text).is_empty());
    }

    #[test]
    fn spans_count_characters_not_bytes() {
        let text = "Äiti ö 😀 soita 040 123 4567";
        let found = find(text);
        assert_eq!(
            found,
            vec![PersonalData {
                kind: Phone,
                span: Span::new(15, 27)
            }]
        );
        assert_eq!(slice(text, found[0].span), "040 123 4567");
    }

    #[test]
    fn mask_hides_each_value_and_keeps_every_span() {
        let cases = [
            ("soita 040 123 4567", "soita ••••••••••••"),
            (
                "😀 hetu 131052-308T, maili a.b@example.fi, kiitos",
                "😀 hetu •••••••••••, maili ••••••••••••••, kiitos",
            ),
            ("ei mitään", "ei mitään"),
        ];
        for (text, want) in cases {
            let masked = mask(text, &find(text));
            assert_eq!(masked, want, "in {text:?}");
            assert_eq!(masked.chars().count(), text.chars().count());
        }
    }

    #[test]
    fn reasons_name_the_kind_but_not_the_value() {
        let text = "hetu 131052-308T";
        let reasons: Vec<Reason> = find(text).iter().map(PersonalData::reason).collect();
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].code, "privacy.personal_data");
        assert_eq!(reasons[0].span, Some(Span::new(5, 16)));
        assert!(reasons[0].message.contains("identity_code"));
        assert!(!reasons[0].message.contains("308T"));
    }

    #[test]
    fn names_match_the_serde_names() {
        for kind in [
            IdentityCode,
            Phone,
            Email,
            Iban,
            PaymentCard,
            Address,
            CustomerNumber,
        ] {
            let json = serde_json::to_string(&kind).expect("serialize");
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
    }
}
