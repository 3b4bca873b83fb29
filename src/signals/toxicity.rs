//! Insults, threats and identity attacks, and whether an insult is aimed at someone.
//!
//! An insult counts as aimed when the comment addresses someone (second person, a staff role, an
//! @mention), or is a bare insult of a few words in reply to another comment ("Idiootti.");
//! "idioottimainen sovellus" is criticism of a thing, "olette idiootteja" is an insult. Threats and
//! identity attacks need no target. Whether a hostile comment names one member of staff, for a
//! supervisor to handle, is [`ToxicityLexicons::staff_target`] (`staff.rs`).

use serde::{Deserialize, Serialize};

use crate::domain::{Reason, Span};
use crate::normalize::{NormalizedText, slice};
use crate::signals::lexicon::{Lexicon, NoMeta};

mod staff;

pub use staff::StaffTarget;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToxicKind {
    Insult,
    Threat,
    IdentityAttack,
}

/// A reply of at most this many words that holds an insult is aimed at the comment it answers.
const BARE_REPLY_WORDS: usize = 3;

#[derive(Debug, Deserialize)]
pub struct Meta {
    #[serde(default = "full_weight")]
    weight: f32,
}

fn full_weight() -> f32 {
    1.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToxicHit {
    pub kind: ToxicKind,
    pub word: String,
    pub span: Span,
    pub weight: f32,
    /// Aimed at a person or the company's people (insults only; threats and attacks always are).
    pub targeted: bool,
}

impl ToxicHit {
    pub fn reason(&self) -> Reason {
        let (code, what) = match self.kind {
            ToxicKind::Insult if self.targeted => ("toxicity.insult", "insult aimed at someone"),
            ToxicKind::Insult => ("toxicity.insult", "insulting word, not aimed at anyone"),
            ToxicKind::Threat => ("toxicity.threat", "threat"),
            ToxicKind::IdentityAttack => ("toxicity.identity_attack", "attack on a group"),
        };
        let scale = if self.kind == ToxicKind::Insult && !self.targeted {
            0.3
        } else {
            0.7
        };
        Reason::new(
            code,
            format!("{what}: \"{}\"", self.word),
            scale * self.weight,
        )
        .at(self.span)
    }
}

#[derive(Debug)]
pub struct ToxicityLexicons {
    insult: Lexicon<Meta>,
    threat: Lexicon<Meta>,
    identity: Lexicon<Meta>,
    target: Lexicon<NoMeta>,
    staff: staff::StaffLexicon,
}

impl ToxicityLexicons {
    pub fn shipped() -> Result<Self, String> {
        let load = |name: &str, src: &str| {
            Lexicon::from_toml(src).map_err(|e| format!("{name} lexicon: {e}"))
        };
        Ok(Self {
            insult: load("insult", include_str!("lexicon/insult.toml"))?,
            threat: load("threat", include_str!("lexicon/threat.toml"))?,
            identity: load("identity", include_str!("lexicon/identity.toml"))?,
            target: Lexicon::from_toml(include_str!("lexicon/target.toml"))
                .map_err(|e| format!("target lexicon: {e}"))?,
            staff: staff::StaffLexicon::shipped()?,
        })
    }

    /// The member of staff the comment is hostile toward, if it names one: a singular role
    /// and/or a first name, never the company. `hits` are this comment's [`Self::find`] hits.
    pub fn staff_target(
        &self,
        original: &str,
        text: &NormalizedText,
        hits: &[ToxicHit],
    ) -> Option<StaffTarget> {
        self.staff.target(original, text, hits)
    }

    /// Whether the comment addresses someone: second person, a staff role, an @mention.
    fn addresses_someone(&self, text: &NormalizedText) -> bool {
        !text.mentions.is_empty() || !self.target.find(text).is_empty()
    }

    /// `in_reply`: the comment answers another comment (its thread has a parent text).
    pub fn find(&self, original: &str, text: &NormalizedText, in_reply: bool) -> Vec<ToxicHit> {
        let kinds = [
            (ToxicKind::Insult, &self.insult),
            (ToxicKind::Threat, &self.threat),
            (ToxicKind::IdentityAttack, &self.identity),
        ];
        let mut hits: Vec<ToxicHit> = kinds
            .into_iter()
            .flat_map(|(kind, lexicon)| {
                lexicon.find(text).into_iter().map(move |h| ToxicHit {
                    kind,
                    word: slice(original, h.span),
                    span: h.span,
                    weight: h.meta.weight,
                    targeted: kind != ToxicKind::Insult,
                })
            })
            .collect();
        // Whom an insult is aimed at is asked only when there is an insult.
        if hits.iter().any(|h| h.kind == ToxicKind::Insult) {
            let bare_reply = in_reply && text.words().count() <= BARE_REPLY_WORDS;
            let targeted = bare_reply || self.addresses_someone(text);
            for h in hits.iter_mut().filter(|h| h.kind == ToxicKind::Insult) {
                h.targeted = targeted;
            }
        }
        hits
    }
}
