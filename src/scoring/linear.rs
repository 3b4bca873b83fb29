//! Learned linear models, one per language, served with a sparse dot product.
//!
//! Each language's model is a vocabulary of feature hashes and a set of heads (sentiment, the
//! toxicity family, urgency, intents) trained by `seula train` on the same features; weights are stored
//! as half-precision floats. Serving fuses the heads into one matrix, so a comment costs one
//! hash look-up per text feature and one short row of multiply-adds per feature found, whatever
//! the number of heads.

use std::collections::HashMap;
use std::ops::Range;

use foldhash::fast::FixedState;
use half::f16;
use serde::{Deserialize, Serialize};

use crate::features;
use crate::signals::intents::Intent;

/// What a head predicts: the sentiment classes, one score of the contract, or one intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Sentiment,
    Toxicity,
    SevereToxicity,
    Insult,
    Threat,
    IdentityAttack,
    Profanity,
    Urgency,
    Intent(Intent),
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Sentiment => "sentiment",
            Target::Toxicity => "toxicity",
            Target::SevereToxicity => "severe_toxicity",
            Target::Insult => "insult",
            Target::Threat => "threat",
            Target::IdentityAttack => "identity_attack",
            Target::Profanity => "profanity",
            Target::Urgency => "urgency",
            Target::Intent(intent) => intent.as_str(),
        }
    }
}

/// A linear map from the head's raw outputs to calibrated ones: Platt scaling for a binary head
/// (its logit in, one output, then the logistic function), matrix scaling for sentiment (its
/// three log-probabilities in, three outputs, then softmax).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Inputs × outputs, row-major.
    pub weights: Vec<f32>,
    pub intercept: Vec<f32>,
}

/// One head as stored: weights over the vocabulary then the dense features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub target: Target,
    /// Rows (vocabulary, then the dense features) × outputs, row-major; one output for a binary
    /// head, the positive class's logit; three for sentiment (negative, neutral, positive).
    pub weights: Vec<f16>,
    pub intercept: Vec<f32>,
    pub calibration: Calibration,
}

/// One language's model as stored (postcard) in `models/<language>.bin`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageModel {
    pub language: String,
    pub vocabulary: Vec<u64>,
    /// The inverse document frequency of each vocabulary feature ([`features::idf`]).
    pub idf: Vec<f16>,
    /// Whether the dense features end with the pooled subword vectors.
    pub vectors: bool,
    /// How many dense features follow the vocabulary.
    pub dense: usize,
    pub heads: Vec<Head>,
}

/// A head's calibrated output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prediction {
    Probability(f32),
    /// Negative, neutral, positive.
    Classes([f32; 3]),
}

/// A language model ready to serve: the heads fused into one matrix.
pub struct Linear {
    vectors: bool,
    index: HashMap<u64, u32, FixedState>,
    idf: Vec<f32>,
    /// Rows (vocabulary, then dense) × `outputs`, row-major.
    weights: Vec<f32>,
    intercept: Vec<f32>,
    outputs: usize,
    heads: Vec<(Target, Range<usize>, Calibration)>,
}

impl Linear {
    /// The model ready to serve, if its heads fit its vocabulary and `dense` features (what the
    /// featurizer computes).
    pub fn new(model: LanguageModel, dense: usize) -> Result<Self, String> {
        if model.dense != dense {
            return Err(format!(
                "{} model: trained on {} dense features, the featurizer gives {dense}",
                model.language, model.dense
            ));
        }
        if model.idf.len() != model.vocabulary.len() {
            return Err(format!(
                "{} model: {} idf values for {} features",
                model.language,
                model.idf.len(),
                model.vocabulary.len()
            ));
        }
        let rows = model.vocabulary.len() + dense;
        let outputs: usize = model.heads.iter().map(|h| h.intercept.len()).sum();
        let mut weights = vec![0.0; rows * outputs];
        let mut intercept = Vec::with_capacity(outputs);
        let mut heads = Vec::with_capacity(model.heads.len());
        for head in model.heads {
            let (width, start) = (head.intercept.len(), intercept.len());
            let expected_width = if head.target == Target::Sentiment {
                3
            } else {
                1
            };
            if width != expected_width
                || head.weights.len() != rows * width
                || head.calibration.intercept.len() != width
                || head.calibration.weights.len() != width * width
            {
                return Err(format!(
                    "{} model, {} head: its shapes do not fit {rows} features",
                    model.language,
                    head.target.as_str()
                ));
            }
            for (r, row) in head.weights.chunks_exact(width).enumerate() {
                weights[r * outputs + start..r * outputs + start + width]
                    .iter_mut()
                    .zip(row)
                    .for_each(|(w, v)| *w = v.to_f32());
            }
            intercept.extend_from_slice(&head.intercept);
            heads.push((head.target, start..start + width, head.calibration));
        }
        let index = model
            .vocabulary
            .iter()
            .enumerate()
            .map(|(i, h)| (*h, i as u32))
            .collect();
        Ok(Self {
            vectors: model.vectors,
            index,
            idf: model.idf.iter().map(|v| v.to_f32()).collect(),
            weights,
            intercept,
            outputs,
            heads,
        })
    }

    /// Whether the model reads the pooled subword vectors among its dense features.
    pub fn uses_vectors(&self) -> bool {
        self.vectors
    }

    /// How many of these feature hashes the vocabulary knows.
    pub fn known(&self, hashes: &[u64]) -> usize {
        hashes.iter().filter(|h| self.index.contains_key(h)).count()
    }

    /// Every head's calibrated prediction for one comment's features: its text feature hashes
    /// (repeats kept; weighed by [`features::weigh`]) and its dense features.
    pub fn predict(&self, hashes: &[u64], dense: &[f32]) -> Vec<(Target, Prediction)> {
        let mut z = self.intercept.clone();
        let mut add = |row: usize, value: f32| {
            let w = &self.weights[row * self.outputs..(row + 1) * self.outputs];
            z.iter_mut().zip(w).for_each(|(z, w)| *z += value * w);
        };
        let mut columns: Vec<u32> = hashes
            .iter()
            .filter_map(|h| self.index.get(h).copied())
            .collect();
        let mut text = Vec::with_capacity(columns.len());
        features::weigh(&mut columns, &self.idf, &mut text);
        for (column, value) in text {
            add(column as usize, value);
        }
        let vocabulary = self.index.len();
        for (i, value) in dense.iter().enumerate() {
            add(vocabulary + i, *value);
        }
        self.heads
            .iter()
            .map(|(target, range, calibration)| {
                (*target, calibrate(calibration, &z[range.clone()]))
            })
            .collect()
    }
}

/// Platt scaling of a binary head's logit; matrix scaling of sentiment's log-probabilities.
fn calibrate(c: &Calibration, raw: &[f32]) -> Prediction {
    let width = raw.len();
    let inputs: Vec<f32> = match raw {
        [a, b, c] => softmax([*a, *b, *c])
            .iter()
            .map(|p| p.max(1e-9).ln())
            .collect(),
        _ => raw.to_vec(),
    };
    let mut out = c.intercept.clone();
    for (i, x) in inputs.iter().enumerate() {
        for (o, w) in out.iter_mut().zip(&c.weights[i * width..(i + 1) * width]) {
            *o += x * w;
        }
    }
    match out.as_slice() {
        [z] => Prediction::Probability(sigmoid(*z)),
        [a, b, c] => Prediction::Classes(softmax([*a, *b, *c])),
        _ => unreachable!("Linear::new admits one or three outputs"),
    }
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

pub fn softmax(z: [f32; 3]) -> [f32; 3] {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e = z.map(|x| (x - m).exp());
    let sum: f32 = e.iter().sum();
    e.map(|x| x / sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DENSE: usize = 3;

    fn model() -> LanguageModel {
        let rows = 2 + DENSE;
        let mut toxicity = vec![f16::ZERO; rows];
        toxicity[0] = f16::from_f32(4.0); // the first word pushes toxicity up
        let mut sentiment = vec![f16::ZERO; rows * 3];
        sentiment[3 + 2] = f16::from_f32(2.0); // the second word is positive
        LanguageModel {
            language: "fi".into(),
            vocabulary: vec![11, 22],
            idf: vec![f16::ONE; 2],
            vectors: false,
            dense: DENSE,
            heads: vec![
                Head {
                    target: Target::Toxicity,
                    weights: toxicity,
                    intercept: vec![-2.0],
                    calibration: Calibration {
                        weights: vec![1.0],
                        intercept: vec![0.0],
                    },
                },
                Head {
                    target: Target::Sentiment,
                    weights: sentiment,
                    intercept: vec![0.0; 3],
                    calibration: Calibration {
                        weights: vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
                        intercept: vec![0.0; 3],
                    },
                },
            ],
        }
    }

    #[test]
    fn fused_heads_give_each_head_its_own_dot_product() {
        let linear = Linear::new(model(), DENSE).expect("valid model");
        let dense = [0.0; DENSE];
        let out = linear.predict(&[11, 99], &dense);
        assert_eq!(
            out[0],
            (Target::Toxicity, Prediction::Probability(sigmoid(2.0)))
        );
        let Prediction::Classes(p) = out[1].1 else {
            panic!("sentiment has classes")
        };
        assert!(
            (p[0] - 1.0 / 3.0).abs() < 1e-6,
            "unknown words move nothing: {p:?}"
        );
        let Prediction::Classes(p) = linear.predict(&[22], &dense)[1].1 else {
            panic!("sentiment has classes")
        };
        assert!(p[2] > 0.7 && p[0] < 0.15, "{p:?}");
        assert_eq!(linear.known(&[11, 22, 33]), 2);
    }

    #[test]
    fn a_head_that_does_not_fit_the_vocabulary_is_refused() {
        let mut bad = model();
        bad.heads[0].weights.pop();
        let err = Linear::new(bad, DENSE).err().expect("refused");
        assert!(err.contains("toxicity head"), "{err}");
        let err = Linear::new(model(), DENSE + 1).err().expect("refused");
        assert!(err.contains("dense features"), "{err}");
    }
}
