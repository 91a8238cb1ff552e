//! The JSON bodies of the PHI routes, parsed once at the edge into the engine's types (options, policy, keys).
//!
//! The shapes follow the `phi` CLI: entities are `{type, start, end, score}` with Unicode code-point offsets, and the
//! `detection` object is exactly the CLI's `--config` file (`entities`, `exclude`, `threshold`, `recognizers`).

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use medvault_crypto::WrappedKey;
use medvault_phi::{
    AnalyzeConfig, AnalyzeOptions, Entity, EntityType, Operator, PhiError, Policy, RecognizerConfig, Transformed,
};
use medvault_platform::Phi;
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// Most extra recognizers one call may bring: each is compiled per call, so their number bounds the work.
pub const MAX_RECOGNIZERS: usize = 32;
/// Longest recognizer pattern, in characters.
pub const MAX_PATTERN_CHARS: usize = 1024;
/// Longest `replace` text, in characters: it is written once per entity, so it bounds the output's growth.
pub const MAX_REPLACEMENT_CHARS: usize = 64;
/// Largest KMS ciphertext blob (KMS's own limit), in bytes.
const MAX_WRAPPED_KEY_BYTES: usize = 6144;

/// The score a recognizer without one gets: the `phi` CLI's configuration default (a test checks they agree).
pub const DEFAULT_RECOGNIZER_SCORE: f32 = 0.85;
/// `mask` defaults, the same as the CLI's (a test checks they agree).
pub const DEFAULT_MASK_KEEP_LAST: usize = 4;
pub const DEFAULT_MASK_CHAR: char = '*';

/// Why a request body that parsed as JSON cannot be run. Every message is safe to return to the caller who sent it.
#[derive(Debug, thiserror::Error)]
pub enum InvalidRequest {
    #[error("detection.recognizers holds more than {MAX_RECOGNIZERS} recognizers")]
    TooManyRecognizers,
    #[error("detection.recognizers[{0}].pattern is longer than {MAX_PATTERN_CHARS} characters")]
    PatternTooLong(usize),
    #[error("a replace operator's `with` is longer than {MAX_REPLACEMENT_CHARS} characters")]
    ReplacementTooLong,
    #[error("wrapped_key is not the base64 of a KMS-wrapped data key")]
    WrappedKey,
    /// The engine refused the options (a score out of range, a pattern that does not compile).
    #[error("{0}")]
    Detection(#[source] PhiError),
}

impl InvalidRequest {
    /// The message for the caller, with the engine's reason where it has one (a regex syntax error points at the
    /// caller's own pattern; it goes back to them, never to the logs).
    pub fn detail(&self) -> String {
        match self {
            Self::Detection(PhiError::CustomPattern { index, source }) => {
                format!("detection.recognizers[{index}].pattern is not a valid regular expression: {source}")
            }
            other => other.to_string(),
        }
    }
}

/// An entity type of `shared/phi-taxonomy.md` as JSON spells it (`PERSON`, `AGE_OVER_89`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntityTypeName(pub EntityType);

impl PartialSchema for EntityTypeName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(EntityType::ALL.iter().map(|t| t.as_str())))
            .description(Some("A PHI entity type of medvault's taxonomy."))
            .into()
    }
}

impl ToSchema for EntityTypeName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PhiEntityType")
    }
}

/// Which entities to look for: the `phi` CLI's `--config` file.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectionOptions {
    /// Report only these types (every type when absent).
    #[serde(default)]
    entities: Option<Vec<EntityTypeName>>,
    /// Never report these types.
    #[serde(default)]
    exclude: Vec<EntityTypeName>,
    /// Minimum score, 0 to 1 (0.5 when absent).
    #[schema(minimum = 0.0, maximum = 1.0)]
    #[serde(default)]
    threshold: Option<f32>,
    /// Extra regex recognizers (at most 32).
    #[serde(default)]
    recognizers: Vec<RecognizerSpec>,
    /// The text was read from a scan by OCR: `l`, `I` and `O` inside numbers are read as digits (`03/l4/1962`).
    #[serde(default)]
    scanned: bool,
}

/// Options of `deidentify`: Safe Harbor removes every identifier type, so the types cannot be narrowed here (use
/// `redact` with a `safe-harbor` policy for that).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SafeHarborDetection {
    /// Minimum score, 0 to 1 (0.5 when absent).
    #[schema(minimum = 0.0, maximum = 1.0)]
    #[serde(default)]
    threshold: Option<f32>,
    /// Extra regex recognizers (at most 32), for identifiers particular to the caller.
    #[serde(default)]
    recognizers: Vec<RecognizerSpec>,
    /// The text was read from a scan by OCR: `l`, `I` and `O` inside numbers are read as digits (`03/l4/1962`).
    #[serde(default)]
    scanned: bool,
}

/// An extra recognizer: every match of `pattern` is an entity of `type` with `score`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecognizerSpec {
    #[serde(rename = "type")]
    entity_type: EntityTypeName,
    /// A Rust `regex` pattern (linear time: no look-around, no back-references), at most 1024 characters. It may
    /// name a value (a patient's name), so it is treated as PHI.
    #[schema(value_type = String, example = "\\bCASE-\\d{6}\\b")]
    pattern: Phi<String>,
    /// 0 to 1 (0.85 when absent).
    #[schema(minimum = 0.0, maximum = 1.0)]
    score: Option<f32>,
}

impl DetectionOptions {
    /// Validates and compiles the options.
    pub fn compile(&self) -> Result<AnalyzeOptions, InvalidRequest> {
        let config = AnalyzeConfig {
            entities: self.entities.as_ref().map(|list| list.iter().map(|t| t.0).collect()),
            exclude: self.exclude.iter().map(|t| t.0).collect(),
            threshold: self.threshold,
            recognizers: recognizers(&self.recognizers)?,
            scanned: self.scanned,
        };
        AnalyzeOptions::from_config(&config).map_err(InvalidRequest::Detection)
    }
}

impl SafeHarborDetection {
    /// Validates and compiles the options; every type stays in.
    pub fn compile(&self) -> Result<AnalyzeOptions, InvalidRequest> {
        let config = AnalyzeConfig {
            threshold: self.threshold,
            recognizers: recognizers(&self.recognizers)?,
            scanned: self.scanned,
            ..AnalyzeConfig::default()
        };
        AnalyzeOptions::from_config(&config).map_err(InvalidRequest::Detection)
    }
}

fn recognizers(specs: &[RecognizerSpec]) -> Result<Vec<RecognizerConfig>, InvalidRequest> {
    if specs.len() > MAX_RECOGNIZERS {
        return Err(InvalidRequest::TooManyRecognizers);
    }
    specs
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            if spec.pattern.expose().chars().count() > MAX_PATTERN_CHARS {
                return Err(InvalidRequest::PatternTooLong(index));
            }
            Ok(RecognizerConfig {
                entity_type: spec.entity_type.0,
                pattern: spec.pattern.expose().clone(),
                score: spec.score.unwrap_or(DEFAULT_RECOGNIZER_SCORE),
            })
        })
        .collect()
}

/// What to do with one entity.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(tag = "operator", rename_all = "kebab-case", deny_unknown_fields)]
pub enum OperatorSpec {
    /// Remove the text.
    Redact,
    /// Put `with` (at most 64 characters) in its place; `[TYPE]` when absent.
    Replace {
        #[serde(default)]
        with: Option<String>,
    },
    /// Hide every character but the last `keep_last` (4 when absent) behind `mask_char` (`*` when absent); at
    /// least one character is always hidden.
    Mask {
        #[serde(default)]
        keep_last: Option<usize>,
        #[serde(default)]
        mask_char: Option<char>,
    },
    /// HMAC-SHA256 of the type and the normalized value under this tenant's key, as hex: the same value gives the
    /// same hash in every document of the tenant.
    Hash,
    /// `<TYPE_n>`: the same value gets the same surrogate within one document.
    Pseudonymize,
    /// AES-256-GCM under a fresh KMS data key: `[enc:v1:TYPE:…]`. The response's `wrapped_key` and the text go to
    /// `POST /v1/phi/decrypt`, which only roles with `phi:decrypt` may call.
    Encrypt,
    /// 45 CFR 164.514(b)(2): dates to the year, ages over 89 to `90+`, ZIP codes to ZIP3 or `000`, any other
    /// identifier to `[TYPE]`.
    SafeHarbor,
}

impl OperatorSpec {
    fn to_operator(&self) -> Result<Operator, InvalidRequest> {
        Ok(match self {
            Self::Redact => Operator::Redact,
            Self::Replace { with } => {
                if with.as_ref().is_some_and(|w| w.chars().count() > MAX_REPLACEMENT_CHARS) {
                    return Err(InvalidRequest::ReplacementTooLong);
                }
                Operator::Replace { with: with.clone() }
            }
            Self::Mask { keep_last, mask_char } => Operator::Mask {
                keep_last: keep_last.unwrap_or(DEFAULT_MASK_KEEP_LAST),
                mask_char: mask_char.unwrap_or(DEFAULT_MASK_CHAR),
            },
            Self::Hash => Operator::Hash,
            Self::Pseudonymize => Operator::Pseudonymize,
            Self::Encrypt => Operator::Encrypt,
            Self::SafeHarbor => Operator::SafeHarbor,
        })
    }
}

/// An operator per entity type, with a default for the rest.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// The operator of every type `per_type` does not name (`replace` with `[TYPE]` when absent).
    #[serde(default)]
    default: Option<OperatorSpec>,
    /// Operators for particular types.
    #[schema(value_type = BTreeMap<String, OperatorSpec>)]
    #[serde(default)]
    per_type: BTreeMap<EntityTypeName, OperatorSpec>,
}

impl PolicySpec {
    /// The engine's policy.
    pub fn to_policy(&self) -> Result<Policy, InvalidRequest> {
        let default = match &self.default {
            Some(spec) => spec.to_operator()?,
            None => Operator::Replace { with: None },
        };
        let per_type = self
            .per_type
            .iter()
            .map(|(t, spec)| Ok((t.0, spec.to_operator()?)))
            .collect::<Result<_, InvalidRequest>>()?;
        Ok(Policy { default, per_type })
    }
}

/// Whether applying `policy` needs a data key (some type is encrypted).
pub fn uses_encrypt(policy: &Policy) -> bool {
    policy.default == Operator::Encrypt || policy.per_type.values().any(|op| *op == Operator::Encrypt)
}

/// `POST /v1/phi/analyze`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeRequest {
    /// The text to search.
    #[schema(value_type = String, example = "Patient: John Smith, DOB 03/14/1962, MRN 00456123")]
    pub text: Phi<String>,
    #[serde(default)]
    pub detection: DetectionOptions,
}

/// `POST /v1/phi/redact`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactRequest {
    /// The text to rewrite.
    #[schema(value_type = String, example = "Patient: John Smith, DOB 03/14/1962, MRN 00456123")]
    pub text: Phi<String>,
    #[serde(default)]
    pub detection: DetectionOptions,
    /// Operators per entity type (every entity replaced by `[TYPE]` when absent).
    #[serde(default)]
    pub policy: PolicySpec,
}

/// `POST /v1/phi/deidentify`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeidentifyRequest {
    /// The text to de-identify.
    #[schema(value_type = String, example = "Seen 03/14/2024 at 02139, age 93.")]
    pub text: Phi<String>,
    #[serde(default)]
    pub detection: SafeHarborDetection,
}

/// `POST /v1/phi/decrypt`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecryptRequest {
    /// Text holding `[enc:v1:…]` tokens made by one `redact` call.
    #[schema(value_type = String)]
    pub text: Phi<String>,
    /// The `wrapped_key` that `redact` call returned.
    pub wrapped_key: String,
}

/// Parses a `wrapped_key` field.
pub fn wrapped_key(text: &str) -> Result<WrappedKey, InvalidRequest> {
    let bytes = STANDARD.decode(text.trim()).map_err(|_| InvalidRequest::WrappedKey)?;
    if bytes.is_empty() || bytes.len() > MAX_WRAPPED_KEY_BYTES {
        return Err(InvalidRequest::WrappedKey);
    }
    Ok(WrappedKey(bytes))
}

/// Renders a wrapped key for a response.
pub fn wrapped_key_text(key: &WrappedKey) -> String {
    STANDARD.encode(&key.0)
}

/// A detected entity: `start` and `end` are Unicode code points of the submitted text, `end` exclusive.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhiEntity {
    #[serde(rename = "type")]
    pub entity_type: EntityTypeName,
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

impl From<&Entity> for PhiEntity {
    fn from(e: &Entity) -> Self {
        Self { entity_type: EntityTypeName(e.entity_type), start: e.start, end: e.end, score: e.score }
    }
}

/// The entities found, in text order, without overlaps.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalyzeResponse {
    pub entities: Vec<PhiEntity>,
}

/// One rewritten entity: where it was in the submitted text and where its replacement is in `text` (code points).
#[derive(Debug, Serialize, ToSchema)]
pub struct PhiTransformed {
    #[serde(rename = "type")]
    pub entity_type: EntityTypeName,
    pub start: usize,
    pub end: usize,
    pub output_start: usize,
    pub output_end: usize,
    pub score: f32,
    /// The operator applied (`replace`, `mask`, `safe-harbor`, ...).
    pub operator: String,
}

impl From<&Transformed> for PhiTransformed {
    fn from(t: &Transformed) -> Self {
        Self {
            entity_type: EntityTypeName(t.entity_type),
            start: t.start,
            end: t.end,
            output_start: t.output_start,
            output_end: t.output_end,
            score: t.score,
            operator: t.operator.clone(),
        }
    }
}

/// The rewritten text and what was rewritten.
#[derive(Serialize, ToSchema)]
pub struct TransformResponse {
    pub text: String,
    pub items: Vec<PhiTransformed>,
    /// Present when an `encrypt` operator ran: the data key of this call's tokens, wrapped by KMS under this
    /// tenant's context (base64). It reveals nothing without KMS; keep it with the text to decrypt it later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrapped_key: Option<String>,
}

impl std::fmt::Debug for TransformResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransformResponse").field("items", &self.items.len()).finish_non_exhaustive()
    }
}

/// The text with every token restored.
#[derive(Serialize, ToSchema)]
pub struct DecryptResponse {
    pub text: String,
}

impl std::fmt::Debug for DecryptResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecryptResponse([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(json: &str) -> Result<DetectionOptions, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn the_detection_object_reads_like_the_cli_config_file() {
        let options = detection(
            r#"{"entities":["MRN","PERSON"],"exclude":["PERSON"],"threshold":0.7,
                "recognizers":[{"type":"OTHER_ID","pattern":"CASE-\\d+"}]}"#,
        )
        .unwrap();

        let compiled = options.compile().unwrap();

        assert_eq!(compiled.threshold(), 0.7);
        assert_eq!(options.recognizers[0].score, None);
    }

    #[test]
    fn scanned_text_is_an_option_of_both_detection_objects() {
        assert!(detection(r#"{"scanned":true}"#).unwrap().compile().unwrap().scanned());
        assert!(!detection("{}").unwrap().compile().unwrap().scanned());
        let safe_harbor = serde_json::from_str::<SafeHarborDetection>(r#"{"scanned":true}"#).unwrap();
        assert!(safe_harbor.compile().unwrap().scanned());
    }

    #[test]
    fn unknown_fields_and_types_are_refused() {
        assert!(detection(r#"{"treshold":0.5}"#).is_err());
        assert!(detection(r#"{"entities":["NAME"]}"#).is_err());
        assert!(serde_json::from_str::<SafeHarborDetection>(r#"{"exclude":["DATE"]}"#).is_err());
    }

    #[test]
    fn limits_and_engine_refusals_are_invalid_requests() {
        let out_of_range = detection(r#"{"threshold":1.5}"#).unwrap().compile();
        let bad_regex = detection(r#"{"recognizers":[{"type":"MRN","pattern":"(unclosed"}]}"#).unwrap().compile();
        let long = format!(r#"{{"recognizers":[{{"type":"MRN","pattern":"{}"}}]}}"#, "a".repeat(MAX_PATTERN_CHARS + 1));
        let many = format!(
            r#"{{"recognizers":[{}]}}"#,
            vec![r#"{"type":"MRN","pattern":"x"}"#; MAX_RECOGNIZERS + 1].join(",")
        );

        assert!(matches!(out_of_range, Err(InvalidRequest::Detection(PhiError::ScoreRange { .. }))));
        let bad_regex = bad_regex.unwrap_err();
        assert!(bad_regex.detail().starts_with("detection.recognizers[0].pattern is not a valid regular expression"));
        assert!(matches!(detection(&long).unwrap().compile(), Err(InvalidRequest::PatternTooLong(0))));
        assert!(matches!(detection(&many).unwrap().compile(), Err(InvalidRequest::TooManyRecognizers)));
    }

    #[test]
    fn a_policy_maps_operators_per_type_and_defaults_to_replace() {
        let spec: PolicySpec = serde_json::from_str(
            r#"{"per_type":{"SSN":{"operator":"mask","keep_last":2},"PERSON":{"operator":"encrypt"}}}"#,
        )
        .unwrap();

        let policy = spec.to_policy().unwrap();

        assert_eq!(policy.default, Operator::Replace { with: None });
        assert_eq!(policy.operator_for(EntityType::Ssn), &Operator::Mask { keep_last: 2, mask_char: '*' });
        assert!(uses_encrypt(&policy));
        assert!(!uses_encrypt(&PolicySpec::default().to_policy().unwrap()));
    }

    #[test]
    fn a_long_replacement_is_refused() {
        let with = "x".repeat(MAX_REPLACEMENT_CHARS + 1);
        let spec: PolicySpec =
            serde_json::from_value(serde_json::json!({"default": {"operator": "replace", "with": with}})).unwrap();

        assert!(matches!(spec.to_policy(), Err(InvalidRequest::ReplacementTooLong)));
    }

    #[test]
    fn defaults_agree_with_the_engines_configuration_defaults() {
        let recognizer: RecognizerConfig = serde_json::from_str(r#"{"type":"MRN","pattern":"x"}"#).unwrap();
        let mask: Operator = serde_json::from_str(r#"{"operator":"mask"}"#).unwrap();

        assert_eq!(recognizer.score, DEFAULT_RECOGNIZER_SCORE);
        assert_eq!(mask, Operator::Mask { keep_last: DEFAULT_MASK_KEEP_LAST, mask_char: DEFAULT_MASK_CHAR });
    }

    #[test]
    fn wrapped_keys_are_base64_of_a_bounded_blob() {
        assert_eq!(wrapped_key(&wrapped_key_text(&WrappedKey(vec![1, 2, 3]))).unwrap(), WrappedKey(vec![1, 2, 3]));
        assert!(matches!(wrapped_key("not base64!"), Err(InvalidRequest::WrappedKey)));
        assert!(matches!(wrapped_key(""), Err(InvalidRequest::WrappedKey)));
        assert!(matches!(wrapped_key(&STANDARD.encode(vec![0; 6145])), Err(InvalidRequest::WrappedKey)));
    }

    #[test]
    fn request_text_never_prints() {
        let request: AnalyzeRequest = serde_json::from_str(r#"{"text":"John Smith 078-05-1120"}"#).unwrap();
        let spec: RecognizerSpec = serde_json::from_str(r#"{"type":"PERSON","pattern":"John Smith"}"#).unwrap();

        let printed = format!("{request:?} {spec:?}");

        assert!(!printed.contains("John"), "{printed}");
        assert!(!printed.contains("078-05"), "{printed}");
    }

    #[test]
    fn the_entity_type_schema_lists_every_taxonomy_name() {
        let schema = serde_json::to_value(EntityTypeName::schema()).unwrap();

        let names: Vec<&str> = schema["enum"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();

        assert_eq!(names.len(), EntityType::ALL.len());
        assert!(names.contains(&"AGE_OVER_89"));
    }
}
