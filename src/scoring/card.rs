//! A transformer model's card: `seula-model.toml` in the model's folder says what the model is,
//! which languages it serves, how many tokens it reads, the checksums of its files, and what
//! each output means to Seula, with its calibration. Pure: reading the folder and running the
//! model are `transformer`'s.
//!
//! ```toml
//! name = "minilm-en"
//! languages = ["en"]
//! max_length = 128
//! rows_per_run = 1             # texts one run reads together (default 8); see `Card`
//!
//! [files]                      # SHA-256 of the files beside the card
//! model = "…"                  # model.onnx
//! tokenizer = "…"              # tokenizer.json
//!
//! [[outputs]]
//! name = "sentiment"           # an output of the ONNX graph: logits, [batch, labels]
//! activation = "softmax"       # or "sigmoid" (each label on its own)
//! labels = ["sentiment.negative", "sentiment.neutral", "sentiment.positive"]
//! temperature = 1.2            # logits are divided by it before the activation
//! bias = [0.0, 0.0, 0.0]       # then this is added, one per label (default none)
//! ```
//!
//! A label is `none` (a class Seula ignores), one of `sentiment.negative`, `.neutral`,
//! `.positive` (all three, in one softmax output), or the name of a text score (`toxicity`,
//! `severe_toxicity`, `insult`, `threat`, `identity_attack`, `profanity`, `spam`, `urgency`).

use serde::Deserialize;

use super::{Assessment, Scores, Sentiment, SentimentLabel};
use crate::domain::Language;

/// Scores a text model may give; `troll` and `fake_account` are about the author, not the text.
const TEXT_SCORES: [&str; 8] = [
    "toxicity",
    "severe_toxicity",
    "insult",
    "threat",
    "identity_attack",
    "profanity",
    "spam",
    "urgency",
];

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    pub name: String,
    pub languages: Vec<Language>,
    /// Tokens the model reads, its special tokens included; a longer text is cut to it.
    pub max_length: usize,
    /// Texts one run of the model reads together, at most, shortest with shortest so that
    /// padding stays small. 1 for a model whose answer for a text depends on the texts run
    /// beside it: dynamic int8 quantization scales each run by its largest activation, so
    /// batch mates would move a text's scores.
    #[serde(default = "eight")]
    pub rows_per_run: usize,
    pub files: Files,
    pub outputs: Vec<Output>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Files {
    /// SHA-256 of `model.onnx`, in hex.
    pub model: String,
    /// SHA-256 of `tokenizer.json`, in hex.
    pub tokenizer: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// The name of the graph's output.
    pub name: String,
    #[serde(default)]
    pub activation: Activation,
    pub labels: Vec<String>,
    #[serde(default = "one")]
    pub temperature: f32,
    /// Added to each label's logit after the temperature: where a yes/no head's 0.5 falls.
    #[serde(default)]
    pub bias: Vec<f32>,
}

fn one() -> f32 {
    1.0
}

fn eight() -> usize {
    8
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    #[default]
    Softmax,
    Sigmoid,
}

/// What one label means to Seula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meaning {
    Nothing,
    Sentiment(SentimentLabel),
    Score(&'static str),
}

impl Meaning {
    fn parse(label: &str) -> Option<Self> {
        Some(match label {
            "none" => Self::Nothing,
            "sentiment.negative" => Self::Sentiment(SentimentLabel::Negative),
            "sentiment.neutral" => Self::Sentiment(SentimentLabel::Neutral),
            "sentiment.positive" => Self::Sentiment(SentimentLabel::Positive),
            score => Self::Score(TEXT_SCORES.iter().find(|s| **s == score)?),
        })
    }
}

impl Card {
    /// Reads and checks a card; every problem is named, with its field.
    pub fn parse(source: &str) -> Result<Self, String> {
        let card: Card = toml::from_str(source).map_err(|e| e.message().to_string())?;
        let problems = card.problems();
        match problems.is_empty() {
            true => Ok(card),
            false => Err(problems.join("; ")),
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let name_ok = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
        if self.name.is_empty() || self.name.len() > 64 || !self.name.chars().all(name_ok) {
            problems.push("name: 1 to 64 of A-Z a-z 0-9 . _ -".to_string());
        }
        if self.languages.is_empty() || self.languages.contains(&Language::Und) {
            problems.push("languages: at least one of fi, en, sv".to_string());
        }
        if !(8..=8192).contains(&self.max_length) {
            problems.push("max_length: 8 to 8192 tokens".to_string());
        }
        if !(1..=256).contains(&self.rows_per_run) {
            problems.push("rows_per_run: 1 to 256 texts".to_string());
        }
        for (field, sum) in [
            ("files.model", &self.files.model),
            ("files.tokenizer", &self.files.tokenizer),
        ] {
            if sum.len() != 64 || !sum.chars().all(|c| c.is_ascii_hexdigit()) {
                problems.push(format!("{field}: a SHA-256 in hex (64 digits)"));
            }
        }
        if self.outputs.is_empty() {
            problems.push("outputs: at least one".to_string());
        }
        let mut given = Vec::new();
        for (i, output) in self.outputs.iter().enumerate() {
            let at = format!("outputs[{i}]");
            if self.outputs[..i].iter().any(|o| o.name == output.name) {
                problems.push(format!("{at}.name: {:?} listed twice", output.name));
            }
            if !(0.01..=100.0).contains(&output.temperature) {
                problems.push(format!("{at}.temperature: 0.01 to 100"));
            }
            if !output.bias.is_empty() && output.bias.len() != output.labels.len() {
                problems.push(format!("{at}.bias: one value per label, or none"));
            }
            if output
                .bias
                .iter()
                .any(|b| !b.is_finite() || b.abs() > 100.0)
            {
                problems.push(format!("{at}.bias: each from -100 to 100"));
            }
            if output.activation == Activation::Softmax && output.labels.len() < 2 {
                problems.push(format!("{at}.labels: a softmax needs two labels or more"));
            }
            let mut sentiment = Vec::new();
            for (j, label) in output.labels.iter().enumerate() {
                match Meaning::parse(label) {
                    None => problems.push(format!(
                        "{at}.labels[{j}]: {label:?} is none of none, sentiment.negative, \
                         sentiment.neutral, sentiment.positive, {}",
                        TEXT_SCORES.join(", ")
                    )),
                    Some(Meaning::Nothing) => {}
                    Some(meaning) if given.contains(&meaning) => {
                        problems.push(format!("{at}.labels[{j}]: {label:?} is given twice"))
                    }
                    Some(meaning) => {
                        if let Meaning::Sentiment(_) = meaning {
                            sentiment.push(meaning);
                        }
                        given.push(meaning);
                    }
                }
            }
            if !sentiment.is_empty()
                && (sentiment.len() != 3 || output.activation != Activation::Softmax)
            {
                problems.push(format!(
                    "{at}.labels: sentiment needs all three of sentiment.negative, \
                     sentiment.neutral and sentiment.positive in one softmax output"
                ));
            }
        }
        if !self.outputs.is_empty() && given.is_empty() {
            problems.push("outputs: no label means anything to Seula (all are none)".to_string());
        }
        problems
    }

    pub fn serves(&self, language: Language) -> bool {
        self.languages.contains(&language)
    }

    /// The scores the model gives, by name.
    pub fn scores(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.meanings().filter_map(|m| match m {
            Meaning::Score(name) => Some(name),
            _ => None,
        })
    }

    /// Whether the model gives the sentiment.
    pub fn gives_sentiment(&self) -> bool {
        self.meanings().any(|m| matches!(m, Meaning::Sentiment(_)))
    }

    fn meanings(&self) -> impl Iterator<Item = Meaning> + '_ {
        self.outputs
            .iter()
            .flat_map(|o| o.labels.iter().filter_map(|l| Meaning::parse(l)))
    }

    /// Puts the model's opinion into `assessment`: each output's `logits` (one row per output,
    /// in the card's order, one value per label) through its temperature and activation. The
    /// model's probability replaces the fast path's learned one, but a rule score stays the
    /// floor (a lexicon hit the response shows is never contradicted); its sentiment replaces
    /// the fast path's. An output whose logits are not one finite number per label is left
    /// out: the fast path's scores stand.
    pub fn apply(&self, assessment: &mut Assessment, logits: &[Vec<f32>]) {
        for (output, row) in self.outputs.iter().zip(logits) {
            let bias = |i: usize| output.bias.get(i).copied().unwrap_or(0.0);
            let scaled: Vec<f32> = row
                .iter()
                .enumerate()
                .map(|(i, x)| x / output.temperature + bias(i))
                .collect();
            if scaled.len() != output.labels.len() || !scaled.iter().all(|x| x.is_finite()) {
                continue;
            }
            let probabilities = match output.activation {
                Activation::Softmax => softmax(&scaled),
                Activation::Sigmoid => scaled.iter().map(|x| 1.0 / (1.0 + (-x).exp())).collect(),
            };
            let mut sentiment = [0.0f32; 3];
            for (label, p) in output.labels.iter().zip(probabilities) {
                match Meaning::parse(label) {
                    Some(Meaning::Score(name)) => {
                        let floor = assessment.floor.get(name).unwrap_or(0.0);
                        if let Some(score) = assessment.scores.get_mut(name) {
                            *score = p.max(floor);
                        }
                    }
                    Some(Meaning::Sentiment(label)) => sentiment[label as usize] = p,
                    _ => {}
                }
            }
            if output.labels.iter().any(|l| l.starts_with("sentiment.")) {
                assessment.sentiment = Sentiment::of(sentiment);
            }
        }
    }
}

/// Probabilities that sum to one; steady for large logits.
fn softmax(x: &[f32]) -> Vec<f32> {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = x.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = e.iter().sum();
    e.iter().map(|v| v / sum).collect()
}

impl Scores {
    /// A score by its name in the contract, to change; `None` for an unknown name.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut f32> {
        Some(match name {
            "toxicity" => &mut self.toxicity,
            "severe_toxicity" => &mut self.severe_toxicity,
            "insult" => &mut self.insult,
            "threat" => &mut self.threat,
            "identity_attack" => &mut self.identity_attack,
            "profanity" => &mut self.profanity,
            "spam" => &mut self.spam,
            "urgency" => &mut self.urgency,
            "troll" => &mut self.troll,
            "fake_account" => &mut self.fake_account,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::intents::IntentScores;

    const SUM: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn card(outputs: &str) -> Result<Card, String> {
        Card::parse(&format!(
            "name = \"m\"\nlanguages = [\"en\"]\nmax_length = 128\n\
             [files]\nmodel = \"{SUM}\"\ntokenizer = \"{SUM}\"\n{outputs}"
        ))
    }

    const THREE_HEADS: &str = r#"
        [[outputs]]
        name = "sentiment"
        labels = ["sentiment.negative", "sentiment.neutral", "sentiment.positive"]
        [[outputs]]
        name = "offensive"
        labels = ["none", "toxicity"]
        temperature = 2.0
        bias = [0.0, 1.0]
        [[outputs]]
        name = "labels"
        activation = "sigmoid"
        labels = ["threat", "insult"]
    "#;

    fn assessment() -> Assessment {
        let floor = Scores {
            toxicity: 0.3,
            ..Scores::default()
        };
        Assessment {
            scores: Scores {
                toxicity: 0.9,
                insult: 0.8,
                ..floor
            },
            floor,
            sentiment: Sentiment::of([0.1, 0.1, 0.8]),
            intents: IntentScores::default(),
        }
    }

    #[test]
    fn a_card_says_what_the_model_gives() {
        let card = card(THREE_HEADS).expect("valid card");
        assert!(card.serves(Language::En) && !card.serves(Language::Fi));
        assert!(card.gives_sentiment());
        assert_eq!(card.rows_per_run, 8, "the default");
        let scores: Vec<_> = card.scores().collect();
        assert_eq!(scores, ["toxicity", "threat", "insult"]);
    }

    #[test]
    fn the_model_replaces_learned_scores_and_sentiment_above_the_rule_floor() {
        let card = card(THREE_HEADS).expect("valid card");
        let mut a = assessment();
        // offensive: softmax([0, -2] / 2 + [0, 1]) = 0.5 each; the floor is 0.3, the fast path
        // said 0.9.
        card.apply(
            &mut a,
            &[vec![3.0, 0.0, 0.0], vec![0.0, -2.0], vec![0.0, -20.0]],
        );
        assert!((a.scores.toxicity - 0.5).abs() < 1e-6, "{:?}", a.scores);
        assert!((a.scores.threat - 0.5).abs() < 1e-6);
        assert!(a.scores.insult < 1e-6, "the model lowers a learned score");
        assert_eq!(a.sentiment.label, SentimentLabel::Negative);
        // Below the floor, the rule score stays.
        card.apply(
            &mut a,
            &[vec![0.0, 0.0, 0.0], vec![10.0, -10.0], vec![0.0, 0.0]],
        );
        assert!((a.scores.toxicity - 0.3).abs() < 1e-6);
    }

    #[test]
    fn logits_that_are_no_numbers_leave_the_fast_paths_scores() {
        let card = card(THREE_HEADS).expect("valid card");
        let mut a = assessment();
        let before = a;
        card.apply(
            &mut a,
            &[
                vec![f32::NAN, 0.0, 0.0],
                vec![f32::INFINITY, 0.0],
                vec![0.0],
            ],
        );
        assert_eq!(a, before);
    }

    #[test]
    fn every_mistake_in_a_card_is_named_with_its_field() {
        let wrong = card(
            r#"
            [[outputs]]
            name = "a"
            labels = ["toxicity"]
            [[outputs]]
            name = "a"
            activation = "sigmoid"
            labels = ["sentiment.negative", "rudeness", "toxicity"]
            temperature = 0.0
            bias = [1.0]
        "#,
        )
        .expect_err("invalid card");
        for expected in [
            "outputs[0].labels: a softmax needs two labels or more",
            "outputs[1].name: \"a\" listed twice",
            "outputs[1].temperature",
            "outputs[1].bias: one value per label",
            "outputs[1].labels[1]: \"rudeness\" is none of",
            "outputs[1].labels[2]: \"toxicity\" is given twice",
            "outputs[1].labels: sentiment needs all three",
        ] {
            assert!(wrong.contains(expected), "{expected} missing from: {wrong}");
        }
        let nothing = card("[[outputs]]\nname = \"a\"\nlabels = [\"none\", \"none\"]")
            .expect_err("nothing given");
        assert!(nothing.contains("no label means anything"), "{nothing}");
        let shape = Card::parse("name = 1").expect_err("wrong type");
        assert!(shape.contains("invalid type"), "{shape}");
        let rows = Card::parse(&format!(
            "name = \"m\"\nlanguages = [\"en\"]\nmax_length = 128\nrows_per_run = 0\n\
             [files]\nmodel = \"{SUM}\"\ntokenizer = \"{SUM}\"\n{THREE_HEADS}"
        ))
        .expect_err("no rows per run");
        assert!(rows.contains("rows_per_run: 1 to 256"), "{rows}");
        let unknown = card("colour = \"red\"").expect_err("unknown field");
        assert!(unknown.contains("unknown field"), "{unknown}");
    }
}
