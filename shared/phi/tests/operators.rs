//! Operators and policies on detected entities, end to end through the analyzer.

use medvault_phi::{
    AnalyzeConfig, AnalyzeOptions, Analyzer, DataKey, DecryptPermission, EntityType, Keys, Operator, PhiError, Policy,
    RecognizerConfig, TenantKey, deidentify, redact, reidentify,
};

struct Role(bool);

impl DecryptPermission for Role {
    fn may_decrypt_phi(&self) -> bool {
        self.0
    }
}

const NOTE: &str = "Patient: John Smith, DOB 03/14/1962, MRN 00456123. Smith's phone (415) 555-0134.";

fn run(policy: Policy, keys: Keys<'_>) -> String {
    let analyzer = Analyzer::new().expect("analyzer");
    redact(&analyzer, NOTE, &AnalyzeOptions::default(), &policy, keys).expect("redact").text
}

#[test]
fn replace_puts_type_tags_in_place() {
    let out = run(Policy::uniform(Operator::Replace { with: None }), Keys::default());
    assert_eq!(out, "Patient: [PERSON], DOB [DATE], MRN [MRN]. [PERSON]'s phone [PHONE].");
}

#[test]
fn redact_removes_the_text() {
    let out = run(Policy::uniform(Operator::Redact), Keys::default());
    assert_eq!(out, "Patient: , DOB , MRN . 's phone .");
}

#[test]
fn mask_keeps_only_the_last_characters() {
    let mut policy = Policy::uniform(Operator::Replace { with: None });
    policy.per_type.insert(EntityType::Mrn, Operator::Mask { keep_last: 3, mask_char: '#' });
    let out = run(policy, Keys::default());
    assert!(out.contains("MRN #####123."), "{out}");
}

#[test]
fn pseudonyms_are_consistent_within_a_document() {
    let analyzer = Analyzer::new().expect("analyzer");
    let text = "Dr. Okafor saw Mary Jones. Mary Jones thanked Dr. Okafor; MARY JONES left.";
    let out =
        redact(&analyzer, text, &AnalyzeOptions::default(), &Policy::uniform(Operator::Pseudonymize), Keys::default())
            .expect("redact")
            .text;
    assert_eq!(out, "Dr. <PERSON_1> saw <PERSON_2>. <PERSON_2> thanked Dr. <PERSON_1>; <PERSON_2> left.");
}

#[test]
fn hash_depends_on_the_tenant_key() {
    let a = TenantKey::new(b"tenant-a-key-0123456789").expect("key");
    let b = TenantKey::new(b"tenant-b-key-0123456789").expect("key");
    let with_a = run(Policy::uniform(Operator::Hash), Keys { tenant: Some(&a), data: None });
    let again_a = run(Policy::uniform(Operator::Hash), Keys { tenant: Some(&a), data: None });
    let with_b = run(Policy::uniform(Operator::Hash), Keys { tenant: Some(&b), data: None });
    assert_eq!(with_a, again_a);
    assert_ne!(with_a, with_b);
    assert!(!with_a.contains("Smith") && !with_a.contains("00456123"));
}

#[test]
fn hash_without_a_key_is_an_error_not_a_panic() {
    let analyzer = Analyzer::new().expect("analyzer");
    let err = redact(&analyzer, NOTE, &AnalyzeOptions::default(), &Policy::uniform(Operator::Hash), Keys::default());
    assert!(matches!(err, Err(PhiError::MissingKey { .. })));
}

#[test]
fn encryption_round_trips_only_for_a_permitted_role() {
    let key = DataKey::from_bytes(&[7u8; 32]).expect("key");
    let out = run(Policy::uniform(Operator::Encrypt), Keys { tenant: None, data: Some(&key) });
    assert!(!out.contains("John Smith") && out.contains("[enc:v1:PERSON:"), "{out}");

    assert_eq!(reidentify(&out, &key, &Role(true)).expect("decrypts"), NOTE);
    assert!(matches!(reidentify(&out, &key, &Role(false)), Err(PhiError::DecryptNotPermitted)));
    let other = DataKey::from_bytes(&[8u8; 32]).expect("key");
    assert!(matches!(reidentify(&out, &other, &Role(true)), Err(PhiError::Crypto(..))));
}

#[test]
fn safe_harbor_generalizes_dates_ages_and_zips_and_removes_the_rest() {
    let analyzer = Analyzer::new().expect("analyzer");
    let text = "Mr. Okafor, a 94-year-old from Springfield, IL 62704, was admitted 14-MAR-2023; ZIP 03601 on file.";
    let out = deidentify(&analyzer, text, &AnalyzeOptions::default()).expect("safe harbor");
    assert_eq!(out.text, "Mr. [PERSON], a 90+-year-old from [CITY], IL 627, was admitted 2023; ZIP 000 on file.");
}

#[test]
fn allow_and_deny_lists_threshold_and_custom_recognizers_apply_per_call() {
    let analyzer = Analyzer::new().expect("analyzer");
    let text = "Patient John Smith, MRN 00456123, token KX-77-ALPHA";
    let only_mrn =
        AnalyzeOptions::from_config(&AnalyzeConfig { entities: Some(vec![EntityType::Mrn]), ..Default::default() })
            .expect("options");
    let types: Vec<EntityType> = analyzer.analyze(text, &only_mrn).iter().map(|e| e.entity_type).collect();
    assert_eq!(types, [EntityType::Mrn]);

    let no_person =
        AnalyzeOptions::from_config(&AnalyzeConfig { exclude: vec![EntityType::Person], ..Default::default() })
            .expect("options");
    assert!(analyzer.analyze(text, &no_person).iter().all(|e| e.entity_type != EntityType::Person));

    let strict = AnalyzeOptions::default().with_threshold(0.99);
    assert!(analyzer.analyze(text, &strict).is_empty());

    let custom = AnalyzeOptions::from_config(&AnalyzeConfig {
        recognizers: vec![RecognizerConfig {
            entity_type: EntityType::OtherId,
            pattern: r"\bKX-\d{2}-[A-Z]+\b".into(),
            score: 0.9,
        }],
        ..Default::default()
    })
    .expect("options");
    let found = analyzer.analyze(text, &custom);
    assert!(found.iter().any(|e| e.entity_type == EntityType::OtherId && e.start == 40 && e.end == 51), "{found:?}");
    assert!(analyzer.analyze(text, &AnalyzeOptions::default()).iter().all(|e| e.entity_type != EntityType::OtherId));
}

#[test]
fn a_bad_custom_pattern_is_a_clear_error_with_its_source() {
    let config = AnalyzeConfig {
        recognizers: vec![RecognizerConfig {
            entity_type: EntityType::OtherId,
            pattern: "(unclosed".into(),
            score: 0.9,
        }],
        ..Default::default()
    };
    let err = AnalyzeOptions::from_config(&config).expect_err("invalid pattern");
    assert!(matches!(err, PhiError::CustomPattern { index: 0, .. }));
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn requests_and_entities_serialize_with_taxonomy_names() {
    let config: AnalyzeConfig =
        serde_json::from_str(r#"{"entities":["PERSON","AGE_OVER_89"],"threshold":0.6}"#).expect("config");
    assert_eq!(config.entities, Some(vec![EntityType::Person, EntityType::AgeOver89]));
    let analyzer = Analyzer::new().expect("analyzer");
    let entities = analyzer.analyze("age 95", &AnalyzeOptions::default());
    assert_eq!(
        serde_json::to_string(&entities).expect("json"),
        r#"[{"type":"AGE_OVER_89","start":4,"end":6,"score":0.9}]"#
    );
    let policy: Policy = serde_json::from_str(
        r#"{"default":{"operator":"replace"},"per_type":{"SSN":{"operator":"mask","keep_last":4}}}"#,
    )
    .expect("policy");
    assert_eq!(policy.operator_for(EntityType::Ssn), &Operator::Mask { keep_last: 4, mask_char: '*' });
}
