//! Language of a comment: Finnish, English, Swedish or undetermined, with `whatlang`.
//!
//! The request's `language`, when given, wins. Otherwise whatlang guesses among all languages it
//! knows; a confident guess outside fi/en/sv is `und`, an unconfident one is settled among fi/en/sv
//! (short texts: "ok kiitos" looks Portuguese to a guesser of 70 languages).

use std::sync::LazyLock;

use whatlang::{Detector, Lang};

use crate::domain::Language;

static OURS: LazyLock<Detector> =
    LazyLock::new(|| Detector::with_allowlist(vec![Lang::Fin, Lang::Eng, Lang::Swe]));

/// A guess of another language this confident means the comment is in neither of ours.
const OTHER_LANGUAGE: f64 = 0.5;
/// Fewer letters than this say too little to guess from.
const MIN_LETTERS: usize = 3;

pub fn detect(text: &str, requested: Option<Language>) -> Language {
    if let Some(lang) = requested {
        return lang;
    }
    if text.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return Language::Und;
    }
    match whatlang::detect(text) {
        Some(info) if ours(info.lang()).is_some() => ours(info.lang()).unwrap_or(Language::Und),
        Some(info) if info.confidence() >= OTHER_LANGUAGE => Language::Und,
        _ => OURS
            .detect_lang(text)
            .and_then(ours)
            .unwrap_or(Language::Und),
    }
}

fn ours(lang: Lang) -> Option<Language> {
    match lang {
        Lang::Fin => Some(Language::Fi),
        Lang::Eng => Some(Language::En),
        Lang::Swe => Some(Language::Sv),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_our_languages() {
        let cases = [
            (
                "Miksi tämä sovellus ei taaskaan toimi, vaikka maksoin lipun?",
                Language::Fi,
            ),
            (
                "Why does the app keep crashing when I try to pay for my ticket?",
                Language::En,
            ),
            (
                "Varför fungerar inte appen när jag försöker betala min biljett?",
                Language::Sv,
            ),
            ("!!!", Language::Und),
            (
                "Warum funktioniert die App nicht, wenn ich mein Ticket bezahlen möchte?",
                Language::Und,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text, None), want, "{text}");
        }
    }

    #[test]
    fn request_wins() {
        assert_eq!(
            detect("Why does the app keep crashing?", Some(Language::Fi)),
            Language::Fi
        );
    }
}
