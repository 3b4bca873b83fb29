//! Hostile feedback aimed at one member of staff, and who that is, so that the case goes to a
//! supervisor rather than to the person named.
//!
//! A target is a singular staff role with the first name next to it if there is one ("se myyjä",
//! "asiakaspalvelija Mikko", "your agent Sarah"), a first name with its workplace ("Mikko
//! asiakaspalvelusta"), or a listed first name capitalised inside a sentence ("kiitos Mikolle").
//! Plural and collective staff and the service itself ("teidän myyjät", "staff",
//! "asiakaspalvelunne") are the company, not a person: `lexicon/role.toml` says where the line
//! runs. The comment is hostile toward the target when a toxic hit of some weight, or a
//! staff-criticism cue (`lexicon/staff.toml`) that no negator turns off, stands in the same
//! sentence (a mild insult: the same clause) and on the same side of a contrast ("mutta",
//! "but"). A role inside a request for a manager ("speak to a manager") is not a target.

use std::collections::HashSet;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::{ToxicHit, ToxicKind};
use crate::domain::{Reason, Span};
use crate::normalize::{Boundary, NormalizedText, Token, slice};
use crate::signals::is_vowel;
use crate::signals::lexicon::{Hit, Lexicon, NoMeta};

/// A negator this many tokens before a cue turns it off ("ei ollut töykeä").
const NEGATION_REACH: usize = 3;
/// How many tokens before a role or a name the `not_person` and `writer` words are looked for.
const LOOK_BACK: usize = 2;
/// Lighter toxic hits are mostly said of things ("idioottimainen sovellus") and are not
/// hostility toward a person on their own.
const MIN_HIT_WEIGHT: f32 = 0.65;
/// Insults below this (tyhmä, stupid) reach only their clause: "Tyhmä sääntö, myyjä ei voinut
/// mitään" is not about the seller.
const SENTENCE_INSULT_WEIGHT: f32 = 0.8;
/// What may follow a first name: Finnish case endings and clitics, the English possessive.
const NAME_ENDINGS: &[&str] = &[
    "n", "a", "ä", "ta", "tä", "lle", "lta", "ltä", "lla", "llä", "sta", "stä", "ssa", "ssä",
    "ksi", "na", "nä", "an", "en", "in", "on", "un", "yn", "än", "ön", "kin", "nkin", "han", "hän",
    "'s",
];

/// The person a hostile comment is aimed at: a staff role, a first name, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffTarget {
    /// Characters of the original text: the role and/or the name ("asiakaspalvelija Mikko").
    pub span: Span,
    /// The original text of `span`.
    pub target: String,
}

impl StaffTarget {
    pub fn reason(&self) -> Reason {
        Reason::new(
            "toxicity.staff_target",
            format!("hostile toward a member of staff: \"{}\"", self.target),
            0.5,
        )
        .at(self.span)
    }
}

#[derive(Debug, Deserialize)]
struct RoleMeta {
    #[serde(default)]
    kind: RoleKind,
    /// A role only right after a determiner ("se kassa", "the guard").
    #[serde(default)]
    determiner: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RoleKind {
    #[default]
    Role,
    /// Where the person named just before it works ("Mikko asiakaspalvelusta").
    Workplace,
    /// A request for someone higher up ("speak to a manager"): the role in it is no target.
    Escalation,
}

/// The word lists at the top of `staff.toml`.
#[derive(Debug, Deserialize)]
struct Words {
    not_person: HashSet<String>,
    determiners: HashSet<String>,
    writer: HashSet<String>,
    public: HashSet<String>,
    contrasts: HashSet<String>,
}

#[derive(Debug, Deserialize)]
struct Negators {
    negators: HashSet<String>,
}

#[derive(Debug, Deserialize)]
struct Names {
    finnish: Vec<String>,
    english: Vec<String>,
}

#[derive(Debug)]
pub struct StaffLexicon {
    cues: Lexicon<NoMeta>,
    roles: Lexicon<RoleMeta>,
    words: Words,
    /// The negators of `sentiment.toml`, so that both read "not" the same way.
    negators: HashSet<String>,
    /// First names, lowercase, with the gradated stem of a double k, p or t (`miko` for Mikko).
    names: HashSet<String>,
}

impl StaffLexicon {
    pub fn shipped() -> Result<Self, String> {
        let staff = include_str!("../lexicon/staff.toml");
        let words: Words = toml::from_str(staff).map_err(|e| format!("staff lexicon: {e}"))?;
        let negators: Negators = toml::from_str(include_str!("../lexicon/sentiment.toml"))
            .map_err(|e| format!("sentiment negators: {e}"))?;
        let names: Names = toml::from_str(include_str!("../lexicon/names.toml"))
            .map_err(|e| format!("names list: {e}"))?;
        Ok(Self {
            cues: Lexicon::from_toml(staff).map_err(|e| format!("staff lexicon: {e}"))?,
            roles: Lexicon::from_toml(include_str!("../lexicon/role.toml"))
                .map_err(|e| format!("role lexicon: {e}"))?,
            words,
            negators: negators.negators,
            names: names
                .finnish
                .into_iter()
                .chain(names.english)
                .flat_map(|n| {
                    let stem = gradated(&n);
                    std::iter::once(n).chain(stem)
                })
                .collect(),
        })
    }

    /// The earliest person in a hostile part of the comment, if any.
    pub fn target(
        &self,
        original: &str,
        text: &NormalizedText,
        hits: &[ToxicHit],
    ) -> Option<StaffTarget> {
        let tokens = &text.tokens;
        let mut hostile: Vec<Range<usize>> = hits
            .iter()
            .filter(|h| h.weight >= MIN_HIT_WEIGHT)
            .filter_map(|h| {
                let at = tokens.iter().position(|t| t.span.start == h.span.start)?;
                let clause = h.kind == ToxicKind::Insult && h.weight < SENTENCE_INSULT_WEIGHT;
                Some(self.reach(text, at, clause))
            })
            .collect();
        hostile.extend(
            self.cues
                .find(text)
                .iter()
                .filter(|h| !self.negated(text, h.tokens.start))
                .map(|h| self.reach(text, h.tokens.start, false)),
        );
        if hostile.is_empty() {
            return None;
        }
        let in_hostile = |i: usize| hostile.iter().any(|r| r.contains(&i));
        let found = self.roles.find(text);
        let of_kind = |kind: RoleKind| found.iter().filter(move |h| h.meta.kind == kind);
        let escalated = |i: usize| of_kind(RoleKind::Escalation).any(|h| h.tokens.contains(&i));
        let roles = of_kind(RoleKind::Role)
            .filter(|h| {
                let at = h.tokens.start;
                in_hostile(at) && !escalated(at) && self.specific(text, h)
            })
            .map(|h| self.with_name(original, text, h.tokens.clone()));
        let named_at_work = of_kind(RoleKind::Workplace).filter_map(|h| {
            let name = h.tokens.start.checked_sub(1)?;
            let joined = tokens[h.tokens.start].boundary == Boundary::None;
            (joined && in_hostile(name) && self.is_name(original, &tokens[name]))
                .then_some(name..h.tokens.end)
        });
        let named = (0..tokens.len())
            .filter(|&i| in_hostile(i) && self.named_alone(original, text, i))
            .map(|i| i..i + 1);
        let first = roles
            .chain(named_at_work)
            .chain(named)
            .min_by_key(|r| r.start)?;
        let span = tokens[first.start].span.cover(tokens[first.end - 1].span);
        Some(StaffTarget {
            span,
            target: slice(original, span),
        })
    }

    /// The tokens a hostile word at `at` speaks of: its sentence (or only its clause), cut at a
    /// contrast on either side.
    fn reach(&self, text: &NormalizedText, at: usize, clause: bool) -> Range<usize> {
        let tokens = &text.tokens;
        let starts_part = |i: usize| {
            let t = &tokens[i];
            t.boundary == Boundary::Sentence
                || (clause && t.boundary == Boundary::Clause)
                || self.words.contrasts.contains(&t.text)
        };
        let start = (1..=at).rev().find(|&i| starts_part(i)).unwrap_or(0);
        let end = (at + 1..tokens.len())
            .find(|&i| starts_part(i))
            .unwrap_or(tokens.len());
        start..end
    }

    /// A negator up to [`NEGATION_REACH`] tokens before `start`, in the same clause and not behind
    /// a contrast; a cue that starts with its own negator ("ei viitsinyt") is never turned off.
    fn negated(&self, text: &NormalizedText, start: usize) -> bool {
        let tokens = &text.tokens;
        let is_negator = |i: usize| self.negators.contains(&tokens[i].text);
        !is_negator(start)
            && (start.saturating_sub(NEGATION_REACH)..start)
                .rev()
                .take_while(|&i| {
                    tokens[i + 1].boundary == Boundary::None
                        && !self.words.contrasts.contains(&tokens[i].text)
                })
                .any(is_negator)
    }

    /// A role that stands for one person: no "jokainen", "any", "olen itse", "printer" before it,
    /// and the determiner a `determiner` role needs.
    fn specific(&self, text: &NormalizedText, role: &Hit<RoleMeta>) -> bool {
        let start = role.tokens.start;
        let mut before = words_before(text, start).peekable();
        let determined = before
            .peek()
            .is_some_and(|w| self.words.determiners.contains(*w));
        (determined || !role.meta.determiner) && !before.any(|w| self.words.not_person.contains(w))
    }

    /// The role's tokens, with the first name right after it ("asiakaspalvelija Mikko", "agent,
    /// Sarah") or right before it ("Mikko-myyjä").
    fn with_name(&self, original: &str, text: &NormalizedText, role: Range<usize>) -> Range<usize> {
        let tokens = &text.tokens;
        let name_after = tokens
            .get(role.end)
            .is_some_and(|t| t.boundary != Boundary::Sentence && self.is_name(original, t));
        let name_before = role.start > 0
            && tokens[role.start].boundary == Boundary::None
            && self.is_name(original, &tokens[role.start - 1]);
        match (name_after, name_before) {
            (true, _) => role.start..role.end + 1,
            (false, true) => role.start - 1..role.end,
            (false, false) => role,
        }
    }

    /// A first name on its own: inside a sentence (a capital at the start proves nothing), not
    /// the writer's own ("olen Mikko"), not a public figure's ("pääministeri Petteri", "Sanna
    /// Marin": a full name, whose surname may look like a first name too).
    fn named_alone(&self, original: &str, text: &NormalizedText, i: usize) -> bool {
        let tokens = &text.tokens;
        let surname = tokens.get(i + 1).is_some_and(|t| {
            t.boundary == Boundary::None && !t.is_number && capitalised(&slice(original, t.span))
        });
        let given_name =
            i > 0 && tokens[i].boundary == Boundary::None && self.is_name(original, &tokens[i - 1]);
        i > 0
            && tokens[i].boundary != Boundary::Sentence
            && self.is_name(original, &tokens[i])
            && !surname
            && !given_name
            && words_before(text, i)
                .next()
                .is_none_or(|w| !self.words.public.contains(w))
            && !words_before(text, i).any(|w| self.words.writer.contains(w))
    }

    /// A capitalised listed first name, maybe with a case ending ("Mikolle", "Sarah's").
    fn is_name(&self, original: &str, token: &Token) -> bool {
        let t = token.text.as_str();
        let listed = self.names.contains(t)
            || t.char_indices()
                .skip(1)
                .any(|(i, _)| self.names.contains(&t[..i]) && NAME_ENDINGS.contains(&&t[i..]));
        !token.is_number && !token.obfuscated && listed && capitalised(&slice(original, token.span))
    }
}

/// Up to [`LOOK_BACK`] tokens before `i`, nearest first, without crossing punctuation.
fn words_before(text: &NormalizedText, i: usize) -> impl Iterator<Item = &str> {
    (i.saturating_sub(LOOK_BACK)..i)
        .rev()
        .take_while(move |&j| text.tokens[j + 1].boundary == Boundary::None)
        .map(move |j| text.tokens[j].text.as_str())
}

/// Written with a capital and the rest in lowercase ("Mikko", not "MIKKO" or "mikko").
fn capitalised(word: &str) -> bool {
    let mut letters = word.chars().filter(|c| c.is_alphabetic());
    let mut rest = letters.clone().skip(1).peekable();
    letters.next().is_some_and(char::is_uppercase)
        && rest.peek().is_some()
        && rest.all(char::is_lowercase)
}

/// The stem of a name whose last syllable starts with a double k, p or t, which Finnish cases
/// shorten: Mikko -> Mikolle, Matti -> Matin, Jukka -> Jukan.
fn gradated(name: &str) -> Option<String> {
    let chars: Vec<char> = name.chars().collect();
    let n = chars.len();
    (n >= 4
        && is_vowel(chars[n - 1])
        && chars[n - 2] == chars[n - 3]
        && matches!(chars[n - 2], 'k' | 'p' | 't'))
    .then(|| chars[..n - 2].iter().chain(&chars[n - 1..]).collect())
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;
    use crate::normalize::normalize;
    use crate::signals::toxicity::ToxicityLexicons;

    static LEXICONS: LazyLock<ToxicityLexicons> =
        LazyLock::new(|| ToxicityLexicons::shipped().expect("lexicons"));

    /// The target found in a comment, checked against its span.
    fn target(text: &str) -> Option<String> {
        let n = normalize(text);
        let hits = LEXICONS.find(text, &n, false);
        LEXICONS.staff_target(text, &n, &hits).map(|t| {
            assert_eq!(slice(text, t.span), t.target, "{text:?}");
            t.target
        })
    }

    /// Each case is a comment and, after ` => `, the target it names (none without an arrow).
    fn check(cases: &[&str]) {
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|case| {
                let (text, want) = match case.split_once(" => ") {
                    Some((text, want)) => (text, Some(want)),
                    None => (*case, None),
                };
                let got = target(text);
                (got.as_deref() != want).then(|| format!("{text:?}: want {want:?}, got {got:?}"))
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn finnish_hostility_toward_a_person() {
        check(&[
            "asiakaspalvelija Mikko on täysi idiootti => asiakaspalvelija Mikko",
            "Asiakaspalvelija Mikko on täysi idiootti, ei osannut auttaa yhtään => Asiakaspalvelija Mikko",
            "se myyjä oli ihan pihalla ja töykeä => myyjä",
            "kuski Jari ajoi kuin hullu, erottakaa se => kuski Jari",
            "Mikko asiakaspalvelusta oli todella epäkohtelias. => Mikko asiakaspalvelusta",
            "Soitin eilen ja puhelimessa ollut nainen oli tosi tyly. => puhelimessa ollut nainen",
            "Teidän konduktööri oli ylimielinen ja huusi mulle koko matkan => konduktööri",
            "Bussikuskille pitäisi antaa potkut heti => Bussikuskille",
            "Tuo virkailija on niin laiska ettei jaksa vastata => virkailija",
            "Kiitos vaan Jarille, joka oli ihan ulalla koko asiasta => Jarille",
            "Myyjä Anna oli todella röyhkeä => Myyjä Anna",
            "Se neuvoja ei tiennyt mitään eikä viitsinyt selvittää => neuvoja",
            "Somettajanne on ammattitaidoton pelle => Somettajanne",
            "Tapan sen kassamyyjän => kassamyyjän",
            "Lipuntarkastaja Pekka oli täysi ääliö! => Lipuntarkastaja Pekka",
            "Eilinen työntekijä vittuili mulle kassalla => työntekijä",
            "Antakaa Mikolle kenkää, niin tyly se oli => Mikolle",
            "Toimitusjohtajanne on täysi idiootti => Toimitusjohtajanne",
            "Palvelu on ok. Mutta sairaanhoitaja oli tosi ylimielinen. => sairaanhoitaja",
            "Kiitos Mikko! Myyjä oli kuitenkin töykeä => Myyjä",
            "Se myyjä on tyhmä => myyjä",
            "Vakuutusneuvoja Petri on saatanan valehteleva mulkku => Vakuutusneuvoja Petri",
            "Myyjä vaan naureskeli, vitun ääliö => Myyjä",
            "Sille kuskille joka sulki ovet: varo selkääs => kuskille",
        ]);
    }

    #[test]
    fn english_hostility_toward_a_person() {
        check(&[
            "your agent Sarah was rude and useless => agent Sarah",
            "The driver was incredibly rude to my mother => driver",
            "That cashier is an idiot => cashier",
            "Sarah from support hung up on me => Sarah from support",
            "The guy at the counter was so condescending => guy at the counter",
            "Your rep Mike should be fired => rep Mike",
            "The conductor yelled at us for no reason! => conductor",
            "I spoke to Karen and she was completely clueless => Karen",
            "The manager was arrogant and dismissive => manager",
            "Fire that driver, he drove like a maniac => driver",
            "Your delivery guy is a lazy moron => delivery guy",
            "The lady who served me was a total bitch => lady who served",
            "Tell your technician he is incompetent => technician",
            "The agent, Emily, was unprofessional and rude => agent, Emily",
            "The waitress rolled her eyes at us, bad attitude => waitress",
            "Honestly Mike's attitude was terrible, fire him => Mike's",
            "I will kill the driver who left me at the stop => driver",
        ]);
    }

    #[test]
    fn finnish_company_criticism_praise_and_others_are_not_staff_cases() {
        check(&[
            "VR on surkea firma",
            "asiakaspalvelunne on ihan perseestä",
            "Teidän sovellus on ihan perseestä, taas kaatui",
            "kiitos asiakaspalvelija Mikolle, tosi ystävällinen",
            // Plural staff are the company: an ordinary complaint, not a case about one person.
            "teidän myyjät on ihan pihalla",
            "Teidän kuljettajat on ylimielisiä",
            "Henkilökunta oli töykeää",
            "Olen Mikko ja olette idiootteja",
            "Minusta Sanna Marin on täysi idiootti",
            "Pääministeri Petteri on pelle",
            "Myyjä ei ollut yhtään töykeä, päinvastoin",
            "Myyjä oli ystävällinen, mutta firma on ihan pihalla",
            "Olette idiootteja kaikki",
            "Jokainen myyjä teillä on laiska",
            "Olen itse myyjä ja tuo kommentti oli töykeä",
            "Mikko oli tosi mukava ja auttoi heti",
            "Myyjä oli pihalla tupakalla kun tulin",
            "Idioottimainen sovellus, myyjä suositteli sitä",
            "Annoitte huonoja neuvoja ja olette pellejä",
            "Tyhmä sääntö, myyjä ei voinut mitään",
            "Haluan puhua esimiehen kanssa, olette ihan pihalla",
        ]);
    }

    #[test]
    fn english_company_criticism_praise_and_others_are_not_staff_cases() {
        check(&[
            "your app is useless",
            "VR is a terrible company and your customer service is useless",
            "Your agents are rude and useless",
            "Your staff are incompetent",
            "Thanks to your agent Sarah, she was really kind",
            "I'm Sarah and your app is useless",
            "My name is Emily and this service is useless",
            "Honestly Donald Trump is an idiot",
            "I think President Joe is clueless",
            "The agent was not rude at all, very helpful",
            "The driver was friendly but the app is useless",
            "Every agent I talk to is useless",
            "As a driver myself I find this rude",
            "Support is useless and management is clueless",
            "You are all idiots",
            "The printer driver is useless",
            "Stupid app, the agent could not help",
            "I want to speak to a manager, your staff are rude",
            "Typical woman driver, women shouldn't be allowed behind the wheel",
        ]);
    }

    #[test]
    fn the_span_counts_characters_of_the_original() {
        let text = "Äää… kuski Jari ajoi kuin hullu";
        let n = normalize(text);
        let hits = LEXICONS.find(text, &n, false);
        let found = LEXICONS.staff_target(text, &n, &hits).expect("target");
        assert_eq!(found.span, Span::new(5, 15));
        assert_eq!(found.target, "kuski Jari");
    }

    #[test]
    fn names_take_case_endings_and_need_a_capital() {
        let staff = StaffLexicon::shipped().expect("staff lexicon");
        let cases = [
            ("Mikolle", true),
            ("Mikkoa", true),
            ("Matin", true),
            ("Sarah's", true),
            ("mikko", false),
            ("MIKKO", false),
            ("Mikkolalle", false),
        ];
        for (word, want) in cases {
            let n = normalize(word);
            assert_eq!(staff.is_name(word, &n.tokens[0]), want, "{word}");
        }
    }
}
