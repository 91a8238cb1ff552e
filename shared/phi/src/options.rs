//! Per-call detection options: which types, what score, and extra regex recognizers from configuration.

use serde::{Deserialize, Serialize};

use crate::detect::Candidate;
use crate::entity::EntityType;
use crate::error::PhiError;

/// Default minimum score: weak guesses (an unlabelled surname, a bare 9-digit number) stay below it.
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// Options as a caller sends them (JSON body, CLI flags, configuration file).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyzeConfig {
    /// Report only these types (all when absent).
    pub entities: Option<Vec<EntityType>>,
    /// Never report these types.
    pub exclude: Vec<EntityType>,
    /// Minimum score, 0..=1 ([`DEFAULT_THRESHOLD`] when absent).
    pub threshold: Option<f32>,
    /// Extra recognizers.
    pub recognizers: Vec<RecognizerConfig>,
    /// The text was read from a scan by OCR: `l`, `I` and `O` inside numbers are read as digits (`03/l4/1962`).
    /// Off by default, as the check costs a pass over every document and typed text never needs it.
    pub scanned: bool,
}

/// An extra recognizer: every match of `pattern` is an entity of `type` with `score`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecognizerConfig {
    #[serde(rename = "type")]
    pub entity_type: EntityType,
    /// A Rust `regex` pattern (linear time; no look-around or back-references).
    pub pattern: String,
    #[serde(default = "default_recognizer_score")]
    pub score: f32,
}

fn default_recognizer_score() -> f32 {
    0.85
}

/// Compiled options; build once per configuration and reuse.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    allowed: u32,
    threshold: f32,
    recognizers: Vec<(EntityType, regex::Regex, f32)>,
    scanned: bool,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        Self { allowed: u32::MAX, threshold: DEFAULT_THRESHOLD, recognizers: Vec::new(), scanned: false }
    }
}

fn bit(t: EntityType) -> u32 {
    1 << (t as u32)
}

/// Size limit of a compiled custom pattern, so that a configuration cannot make a call slow or huge.
const CUSTOM_PATTERN_SIZE_LIMIT: usize = 1 << 20;

impl AnalyzeOptions {
    /// Validates and compiles a configuration.
    pub fn from_config(config: &AnalyzeConfig) -> Result<Self, PhiError> {
        let mut allowed = match &config.entities {
            Some(list) => list.iter().fold(0, |acc, t| acc | bit(*t)),
            None => u32::MAX,
        };
        for t in &config.exclude {
            allowed &= !bit(*t);
        }
        let threshold = config.threshold.unwrap_or(DEFAULT_THRESHOLD);
        if !(0.0..=1.0).contains(&threshold) {
            return Err(PhiError::ScoreRange { what: "threshold" });
        }
        let recognizers = config
            .recognizers
            .iter()
            .enumerate()
            .map(|(index, r)| {
                if !(0.0..=1.0).contains(&r.score) {
                    return Err(PhiError::ScoreRange { what: "recognizer score" });
                }
                let re = regex::RegexBuilder::new(&r.pattern)
                    .size_limit(CUSTOM_PATTERN_SIZE_LIMIT)
                    .build()
                    .map_err(|source| PhiError::CustomPattern { index, source })?;
                Ok((r.entity_type, re, r.score))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed, threshold, recognizers, scanned: config.scanned })
    }

    /// Options for text read from a scan by OCR (see [`AnalyzeConfig::scanned`]).
    pub fn with_scanned(mut self, scanned: bool) -> Self {
        self.scanned = scanned;
        self
    }

    /// Whether the text is read as OCR output (see [`AnalyzeConfig::scanned`]).
    pub fn scanned(&self) -> bool {
        self.scanned
    }

    /// Options with a different threshold.
    pub fn with_threshold(mut self, threshold: f32) -> Self {
        self.threshold = threshold.clamp(0.0, 1.0);
        self
    }

    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    pub(crate) fn admits(&self, t: EntityType, score: f32) -> bool {
        self.allowed & bit(t) != 0 && score >= self.threshold
    }

    pub(crate) fn run_recognizers(&self, hay: &str, out: &mut Vec<Candidate>) {
        for (entity_type, re, score) in &self.recognizers {
            for m in re.find_iter(hay) {
                if !m.is_empty() {
                    out.push(Candidate { start: m.start(), end: m.end(), entity_type: *entity_type, score: *score });
                }
            }
        }
    }
}
