//! A community's own word lists, part of its policy (`[words]`): `banned` words hide (or
//! delete) a comment, `suspect` words send it to review, `allowed` words are ones the shipped
//! lexicons flag that this community uses harmlessly. Entries are patterns of the shipped
//! lexicons' format (`src/signals/lexicon/FORMAT.md`), matched by the same matcher over the
//! normalised text, so `kusipää*` catches `kusipäät` and `k.u.s.i.p.ä.ä`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::{Action, Reason, Span};
use crate::normalize::{NormalizedText, slice};
use crate::signals::lexicon::{Lexicon, NoMeta};

/// The list a community word is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum List {
    Banned,
    Suspect,
}

/// A community word found in a comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordHit {
    pub list: List,
    /// The list's entry that matched.
    pub entry: String,
    /// The words of the comment it matched, as written.
    pub word: String,
    pub span: Span,
}

impl WordHit {
    pub fn reason(&self) -> Reason {
        let (code, what, weight) = match self.list {
            List::Banned => ("wordlist.banned", "banned", 0.9),
            List::Suspect => ("wordlist.suspect", "suspect", 0.5),
        };
        let message = format!("{what} by this community's word list: \"{}\"", self.word);
        Reason::new(code, message, weight).at(self.span)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    #[serde(default)]
    pub banned: Vec<String>,
    #[serde(default)]
    pub suspect: Vec<String>,
    #[serde(default)]
    pub allowed: Vec<String>,
    /// What a banned word does: `hide` (the default) or `delete`.
    #[serde(default = "hide")]
    pub banned_action: Action,
    #[serde(skip)]
    compiled: Option<Arc<Compiled>>,
}

fn hide() -> Action {
    Action::Hide
}

impl Default for Words {
    fn default() -> Self {
        Self {
            banned: Vec::new(),
            suspect: Vec::new(),
            allowed: Vec::new(),
            banned_action: Action::Hide,
            compiled: None,
        }
    }
}

/// Two word lists are the same when their entries and action are.
impl PartialEq for Words {
    fn eq(&self, other: &Self) -> bool {
        (
            &self.banned,
            &self.suspect,
            &self.allowed,
            self.banned_action,
        ) == (
            &other.banned,
            &other.suspect,
            &other.allowed,
            other.banned_action,
        )
    }
}

#[derive(Debug)]
struct Compiled {
    banned: Lexicon<NoMeta>,
    suspect: Lexicon<NoMeta>,
    allowed: Lexicon<NoMeta>,
}

/// A lexicon of one term per entry; every bad entry is named by its list and position.
fn compile(list: &str, entries: &[String], errors: &mut Vec<String>) -> Option<Lexicon<NoMeta>> {
    let term = |entry: &str| {
        let mut table = toml::Table::new();
        table.insert("match".into(), vec![toml::Value::from(entry)].into());
        toml::Value::Table(table)
    };
    let source = |terms: Vec<toml::Value>| {
        let mut file = toml::Table::new();
        file.insert("term".into(), terms.into());
        toml::to_string(&file).unwrap_or_default()
    };
    let before = errors.len();
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("words.{list}[{i}] {entry:?}");
        if entry.trim().is_empty() {
            errors.push(format!("{at}: empty entry"));
        } else if entry.trim() != entry || entry.contains("  ") {
            errors.push(format!(
                "{at}: words are separated by single spaces, none around"
            ));
        } else if entry.chars().any(char::is_uppercase) {
            errors.push(format!("{at}: write entries in lowercase"));
        } else if let Err(e) = Lexicon::<NoMeta>::from_toml(&source(vec![term(entry)])) {
            errors.push(format!("{at}: {e}"));
        }
    }
    if errors.len() > before {
        return None;
    }
    let all = source(entries.iter().map(|e| term(e)).collect());
    Lexicon::from_toml(&all)
        .map_err(|e| errors.push(format!("words.{list}: {e}")))
        .ok()
}

impl Words {
    /// Lists that hide banned words, compiled, or every bad entry named.
    pub fn new(
        banned: Vec<String>,
        suspect: Vec<String>,
        allowed: Vec<String>,
    ) -> Result<Self, Vec<String>> {
        let mut words = Words {
            banned,
            suspect,
            allowed,
            ..Words::default()
        };
        words.compile()?;
        Ok(words)
    }

    /// Compiles the lists, or names every bad entry.
    pub fn compile(&mut self) -> Result<(), Vec<String>> {
        if !matches!(self.banned_action, Action::Hide | Action::Delete) {
            return Err(vec![format!(
                "words.banned_action: {} is not hide or delete",
                self.banned_action.as_str()
            )]);
        }
        let mut errors = Vec::new();
        let banned = compile("banned", &self.banned, &mut errors);
        let suspect = compile("suspect", &self.suspect, &mut errors);
        let allowed = compile("allowed", &self.allowed, &mut errors);
        match (banned, suspect, allowed) {
            (Some(banned), Some(suspect), Some(allowed)) if errors.is_empty() => {
                self.compiled = Some(Arc::new(Compiled {
                    banned,
                    suspect,
                    allowed,
                }));
                Ok(())
            }
            _ => Err(errors),
        }
    }

    /// The banned and suspect words in the text (`original`, normalised as `text`), in order.
    pub fn find(&self, original: &str, text: &NormalizedText) -> Vec<WordHit> {
        let Some(c) = &self.compiled else {
            return Vec::new();
        };
        let mut hits: Vec<WordHit> = [(List::Banned, &c.banned), (List::Suspect, &c.suspect)]
            .into_iter()
            .flat_map(|(list, lexicon)| {
                lexicon.find(text).into_iter().map(move |h| WordHit {
                    list,
                    entry: h.term.to_string(),
                    word: slice(original, h.span),
                    span: h.span,
                })
            })
            .collect();
        hits.sort_by_key(|h| (h.span.start, h.span.end));
        hits
    }

    /// The places of allowed words: shipped-lexicon hits there are this community's usage.
    pub fn allowed(&self, text: &NormalizedText) -> Vec<Span> {
        self.compiled
            .as_ref()
            .map(|c| c.allowed.find(text).into_iter().map(|h| h.span).collect())
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.banned.is_empty() && self.suspect.is_empty() && self.allowed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn words(banned: &[&str], suspect: &[&str], allowed: &[&str]) -> Words {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        Words::new(list(banned), list(suspect), list(allowed)).expect("valid")
    }

    #[test]
    fn entries_match_inflected_and_disguised_forms_like_the_shipped_lexicons() {
        let w = words(&["kusipää*"], &["huijar*"], &[]);
        for (text, list) in [
            ("te ootte kusipäät", List::Banned),
            ("olet k.u.s.i.p.ä.ä", List::Banned),
            ("KUSIPÄÄ", List::Banned),
            ("olette huijareita", List::Suspect),
        ] {
            let hits = w.find(text, &normalize(text));
            assert_eq!(
                hits.iter().map(|h| h.list).collect::<Vec<_>>(),
                [list],
                "{text}"
            );
        }
        assert!(
            w.find("kiitos avusta", &normalize("kiitos avusta"))
                .is_empty()
        );
        let text = "te ootte kusipäät";
        let hit = &w.find(text, &normalize(text))[0];
        assert_eq!(
            (hit.entry.as_str(), hit.word.as_str()),
            ("kusipää*", "kusipäät")
        );
        assert_eq!(hit.span, Span::new(9, 17));
    }

    #[test]
    fn every_bad_entry_is_named_by_its_list_and_place() {
        let mut w = Words {
            banned: vec!["ok*".into(), " ".into(), "Iso".into()],
            suspect: vec!["~".into()],
            ..Words::default()
        };
        let errors = w.compile().expect_err("invalid");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].starts_with("words.banned[1] \" \": empty entry"),
            "{errors:?}"
        );
        assert!(errors[1].starts_with("words.banned[2] \"Iso\": write entries in lowercase"));
        assert!(
            errors[2].starts_with("words.suspect[0] \"~\": "),
            "{errors:?}"
        );
        let mut deleting = Words {
            banned_action: Action::Review,
            ..Words::default()
        };
        assert!(deleting.compile().is_err());
    }
}
