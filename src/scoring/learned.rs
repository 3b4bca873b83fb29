//! The shipped scorer: the rule scores, then the learned models on top.
//!
//! The rule scorer runs first and its scores become dense features of the learned models, so a
//! model can lean on the lexicons where its training data is thin. Where a language model has a
//! head for a score, the score is the larger of the head's calibrated output and the rule
//! score: a model may find what the lexicons miss, but never talks down a lexicon hit that the
//! reasons show (for intents, `intents::ranked` takes the larger of a head's and the cues'). Sentiment is the model's alone; scores without a head (spam, troll) stay rule
//! scores.
//!
//! `models/` holds `manifest.json`, `tokenizer.json`, `vectors.bin` (the subword vectors) and one
//! `<language>.bin` per language. Loading checks the feature schema and every file's SHA-256
//! against the manifest, and fails with a message that says which file and what to do.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::Language;
use crate::features::vectors::SubwordVectors;
use crate::features::{self, Featurizer};
use crate::normalize::NormalizedText;
use crate::scoring::linear::{LanguageModel, Linear, Prediction, Target};
use crate::scoring::rules::RuleScorer;
use crate::scoring::{Assessment, Scorer, Sentiment};
use crate::signals::Signals;

pub const MANIFEST: &str = "manifest.json";
pub const TOKENIZER: &str = "tokenizer.json";
pub const VECTORS: &str = "vectors.bin";

/// The models of the `models/` folder the binary was built from, so that it serves from any
/// directory; `--models` still loads others.
const EMBEDDED: [(&str, &[u8]); 5] = [
    (MANIFEST, include_bytes!("../../models/manifest.json")),
    (TOKENIZER, include_bytes!("../../models/tokenizer.json")),
    (VECTORS, include_bytes!("../../models/vectors.bin")),
    ("fi.bin", include_bytes!("../../models/fi.bin")),
    ("en.bin", include_bytes!("../../models/en.bin")),
];

/// The built-in models' manifest: their version and measures.
pub fn embedded_manifest() -> Result<Manifest, String> {
    serde_json::from_slice(EMBEDDED[0].1).map_err(|e| format!("the built-in {MANIFEST}: {e}"))
}

/// The file of one language's model.
pub fn model_file(language: &str) -> String {
    format!("{language}.bin")
}

/// What `models/manifest.json` says about the shipped models.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Recorded with every decision; derived from the models' checksums.
    pub version: String,
    pub feature_schema: u32,
    pub command: String,
    pub files: Vec<FileEntry>,
    pub data: Vec<DataEntry>,
    pub heads: Vec<HeadEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// One labelled file the models learned from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataEntry {
    pub file: String,
    pub rows: usize,
    pub sha256: String,
}

/// One head: what it learned from, the regularisation cross-validation chose, and how its served
/// score did, source by source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeadEntry {
    pub language: String,
    pub target: Target,
    pub train: Vec<String>,
    pub train_rows: usize,
    /// The inverse regularisation strength chosen by cross-validation.
    pub c: f64,
    /// Cross-validation on the training rows, then the development and held-out rows.
    pub measures: Vec<Measure>,
}

/// The served score of one head on the rows of one source in one part of the data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measure {
    pub source: String,
    /// `cross-validation`, `dev` or `held-out`.
    pub part: String,
    pub rows: usize,
    pub positives: usize,
    pub metrics: Vec<(String, f64)>,
}

impl Measure {
    /// `source part: name value, …` for progress lines.
    pub fn summary(&self) -> String {
        format!(
            "{} {}: {}",
            self.source,
            self.part,
            self.metrics
                .iter()
                .map(|(k, v)| format!("{k} {v:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub struct LearnedScorer {
    rules: RuleScorer,
    featurizer: Featurizer,
    fi: Linear,
    en: Linear,
    version: String,
}

impl LearnedScorer {
    /// Loads and checks the models in `dir`, or with `None` the models built into the binary
    /// (the `models/` folder it was built from).
    pub fn load(dir: Option<&Path>) -> Result<Self, String> {
        let origin = match dir {
            Some(dir) => dir.display().to_string(),
            None => "the built-in models".to_string(),
        };
        let read = |name: &str| -> Result<Vec<u8>, String> {
            match dir {
                Some(dir) => std::fs::read(dir.join(name)).map_err(|e| {
                    format!(
                        "reading {}: {e} (set --models or SEULA_MODELS to the models folder, or leave it unset for the built-in models)",
                        dir.join(name).display()
                    )
                }),
                None => EMBEDDED
                    .iter()
                    .find(|(file, _)| *file == name)
                    .map(|(_, bytes)| bytes.to_vec())
                    .ok_or_else(|| format!("no built-in {name}")),
            }
        };
        let manifest: Manifest = serde_json::from_slice(&read(MANIFEST)?)
            .map_err(|e| format!("{origin}: {MANIFEST}: {e}"))?;
        if manifest.feature_schema != features::SCHEMA {
            return Err(format!(
                "{origin} were trained on feature schema {}, this build computes schema {}: retrain with `seula train`",
                manifest.feature_schema,
                features::SCHEMA
            ));
        }
        let verified = |name: &str| -> Result<Vec<u8>, String> {
            let bytes = read(name)?;
            let entry = manifest
                .files
                .iter()
                .find(|f| f.name == name)
                .ok_or_else(|| format!("{origin}: {MANIFEST} lists no {name}"))?;
            let actual = sha256_hex(&bytes);
            if actual != entry.sha256 {
                return Err(format!(
                    "{origin}: {name} does not match {MANIFEST} (SHA-256 {actual}, expected {}): the file changed after training",
                    entry.sha256
                ));
            }
            Ok(bytes)
        };
        let tokenizer = tokenizers::Tokenizer::from_bytes(verified(TOKENIZER)?)
            .map_err(|e| format!("{origin}: {TOKENIZER}: {e}"))?;
        let vectors: SubwordVectors = postcard::from_bytes(&verified(VECTORS)?)
            .map_err(|e| format!("{origin}: {VECTORS}: {e}"))?;
        vectors
            .check()
            .map_err(|e| format!("{origin}: {VECTORS}: {e}"))?;
        let featurizer = Featurizer::new(tokenizer, vectors);
        let language = |name: &str| -> Result<Linear, String> {
            let file = model_file(name);
            let model: LanguageModel = postcard::from_bytes(&verified(&file)?)
                .map_err(|e| format!("{origin}: {file}: {e}"))?;
            let dense = featurizer.dense_width(model.vectors);
            Linear::new(model, dense)
        };
        Ok(Self {
            rules: RuleScorer,
            fi: language("fi")?,
            en: language("en")?,
            featurizer,
            version: manifest.version,
        })
    }

    /// The Finnish model for Finnish, the English one for English; for any other or unknown
    /// language, whichever knows more of the text's features.
    fn model_for(&self, language: Language, hashes: &[u64]) -> &Linear {
        match language {
            Language::Fi => &self.fi,
            Language::En => &self.en,
            Language::Sv | Language::Und => {
                if self.fi.known(hashes) > self.en.known(hashes) {
                    &self.fi
                } else {
                    &self.en
                }
            }
        }
    }
}

impl Scorer for LearnedScorer {
    fn score(&self, original: &str, text: &NormalizedText, signals: &Signals) -> Assessment {
        let mut assessment = self.rules.score(original, text, signals);
        let mut hashes = Vec::with_capacity(512);
        self.featurizer.hashes(original, text, &mut hashes);
        let model = self.model_for(signals.language, &hashes);
        let mut dense = Vec::with_capacity(self.featurizer.dense_width(model.uses_vectors()));
        self.featurizer.dense(
            (text, signals, &assessment),
            model.uses_vectors(),
            &mut dense,
        );
        let scores = &mut assessment.scores;
        for (target, prediction) in model.predict(&hashes, &dense) {
            let p = match prediction {
                Prediction::Classes(p) => {
                    assessment.sentiment = Sentiment::of(p);
                    continue;
                }
                Prediction::Probability(p) => p,
            };
            let score = match target {
                Target::Toxicity => &mut scores.toxicity,
                Target::SevereToxicity => &mut scores.severe_toxicity,
                Target::Insult => &mut scores.insult,
                Target::Threat => &mut scores.threat,
                Target::IdentityAttack => &mut scores.identity_attack,
                Target::Profanity => &mut scores.profanity,
                Target::Urgency => &mut scores.urgency,
                Target::Intent(intent) => {
                    assessment.intents.set(intent, p);
                    continue;
                }
                Target::Sentiment => continue,
            };
            *score = score.max(p);
        }
        assessment
    }

    fn version(&self) -> &str {
        &self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped_copy() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        for entry in std::fs::read_dir(&shipped).expect("models folder") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("file name");
            if path.is_dir() {
                continue; // the transformer's folder: not the linear models'
            }
            std::fs::copy(&path, dir.path().join(name)).expect("copy");
        }
        dir
    }

    fn load_error(dir: &Path) -> String {
        LearnedScorer::load(Some(dir)).err().expect("refused")
    }

    #[test]
    fn the_shipped_models_load_from_their_folder_and_built_in_alike() {
        let dir = shipped_copy();
        let scorer = LearnedScorer::load(Some(dir.path())).expect("shipped models");
        assert!(
            scorer.version().starts_with("linear-"),
            "{}",
            scorer.version()
        );
        let built_in = LearnedScorer::load(None).expect("built-in models");
        assert_eq!(built_in.version(), scorer.version());
        let manifest = embedded_manifest().expect("manifest");
        assert_eq!(manifest.version, scorer.version());
    }

    #[test]
    fn a_changed_model_file_is_refused_by_its_checksum() {
        let dir = shipped_copy();
        let path = dir.path().join("en.bin");
        let mut bytes = std::fs::read(&path).expect("en.bin");
        let last = bytes.len() - 2;
        bytes[last] ^= 1;
        std::fs::write(&path, bytes).expect("write");
        let err = load_error(dir.path());
        assert!(err.contains("en.bin does not match manifest.json"), "{err}");
    }

    #[test]
    fn another_feature_schema_is_refused() {
        let dir = shipped_copy();
        let path = dir.path().join(MANIFEST);
        let mut manifest: Manifest =
            serde_json::from_slice(&std::fs::read(&path).expect("manifest")).expect("JSON");
        manifest.feature_schema += 1;
        std::fs::write(&path, serde_json::to_vec(&manifest).expect("JSON")).expect("write");
        let err = load_error(dir.path());
        assert!(err.contains("feature schema"), "{err}");
        assert!(err.contains("seula train"), "{err}");
    }

    #[test]
    fn a_missing_folder_says_how_to_point_at_the_models() {
        let err = load_error(Path::new("/nonexistent/models"));
        assert!(err.contains("SEULA_MODELS"), "{err}");
    }
}
