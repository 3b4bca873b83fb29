//! How a comment is written, not what it says: shouting, stretched letters, `!!!` and `???`.

use serde::{Deserialize, Serialize};

use crate::domain::Reason;
use crate::normalize::NormalizedText;

/// Below this many letters a text is too short to call shouting.
const MIN_LETTERS: usize = 12;
/// Capitals share from which a text shouts.
pub const SHOUTING: f32 = 0.6;
/// All-capital words this short are acronyms (VR, HSL, GDPR) unless their neighbours shout too.
const ACRONYM_LEN: usize = 4;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Style {
    /// Share of capitals among the letters of words that are not acronyms, 0 for short texts.
    pub shouting: f32,
    /// 0 none, 0.5 one stretched word, 1 two or more.
    pub elongation: f32,
    pub exclamations: u32,
    pub questions: u32,
    /// The longest run of `!` and `?` marks.
    pub longest_mark_run: u32,
}

pub fn measure(original: &str, text: &NormalizedText) -> Style {
    let (mut exclamations, mut questions, mut run, mut longest) = (0, 0, 0, 0);
    for c in original.chars() {
        match c {
            '!' => exclamations += 1,
            '?' => questions += 1,
            _ => {}
        }
        run = if matches!(c, '!' | '?') { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let elongated = text.tokens.iter().filter(|t| t.elongated).count();
    Style {
        shouting: shouting(original, text),
        elongation: (elongated as f32 * 0.5).min(1.0),
        exclamations,
        questions,
        longest_mark_run: longest,
    }
}

fn shouting(original: &str, text: &NormalizedText) -> f32 {
    let chars: Vec<char> = original.chars().collect();
    let words: Vec<(usize, usize)> = text
        .words()
        .map(|t| {
            let letters = chars[t.span.start..t.span.end]
                .iter()
                .filter(|c| c.is_alphabetic());
            letters.fold((0, 0), |(n, up), c| {
                (n + 1, up + usize::from(c.is_uppercase()))
            })
        })
        .collect();
    let all_caps = |i: usize| words.get(i).is_some_and(|&(n, up)| n > 0 && n == up);
    let (mut letters, mut upper) = (0, 0);
    for (i, &(n, up)) in words.iter().enumerate() {
        let acronym =
            n <= ACRONYM_LEN && all_caps(i) && !(i > 0 && all_caps(i - 1)) && !all_caps(i + 1);
        if !acronym {
            letters += n;
            upper += up;
        }
    }
    if letters < MIN_LETTERS {
        0.0
    } else {
        upper as f32 / letters as f32
    }
}

impl Style {
    pub fn reasons(&self) -> Vec<Reason> {
        let mut out = Vec::new();
        if self.shouting >= SHOUTING {
            let pct = (self.shouting * 100.0).round();
            out.push(Reason::new(
                "style.shouting",
                format!("{pct}% of letters in capitals"),
                0.2 * self.shouting,
            ));
        }
        if self.elongation > 0.0 {
            out.push(Reason::new(
                "style.elongation",
                "stretched letters",
                0.1 * self.elongation,
            ));
        }
        if self.longest_mark_run >= 3 {
            let msg = format!(
                "a run of {} exclamation or question marks",
                self.longest_mark_run
            );
            out.push(Reason::new("style.punctuation", msg, 0.1));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn style(s: &str) -> Style {
        measure(s, &normalize(s))
    }

    #[test]
    fn shouting_ignores_acronyms_and_short_texts() {
        let cases = [
            ("MIKSI TÄÄ EI TOIMI!!!! vitun operaattori", 0.48),
            ("MIKSI TÄMÄ EI TOIMI OLLENKAAN", 1.0),
            ("WHY IS THIS NOT WORKING", 1.0),
            ("VR:n ja HSL:n GDPR-käytännöt ovat epäselviä", 0.0),
            ("EI TOIMI", 0.0),
            ("Tavallinen viesti ilman huutamista", 0.03),
        ];
        for (text, want) in cases {
            let got = style(text).shouting;
            assert!((got - want).abs() < 0.02, "{text}: {got}");
        }
    }

    #[test]
    fn counts_marks_and_stretching() {
        let s = style("Miksi??? EI!!!! noooo ja paskaaaa");
        assert_eq!((s.exclamations, s.questions, s.longest_mark_run), (4, 3, 4));
        assert_eq!(s.elongation, 1.0);
        let codes: Vec<String> = s.reasons().into_iter().map(|r| r.code).collect();
        assert_eq!(codes, ["style.elongation", "style.punctuation"]);
    }
}
