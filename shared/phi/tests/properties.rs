//! Property tests of the invariants the fuzz target checks, so CI checks them without the fuzzer.

use medvault_phi::{AnalyzeOptions, Analyzer, DataKey, Keys, Operator, Policy, TenantKey, transform};
use proptest::prelude::*;

fn analyzer() -> &'static Analyzer {
    static A: std::sync::OnceLock<Analyzer> = std::sync::OnceLock::new();
    A.get_or_init(|| Analyzer::new().expect("analyzer"))
}

/// Text that mixes clinical fragments, identifiers and Unicode tricks.
fn clinical_text() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("Patient: John Smith ".to_owned()),
        Just("MRN 00456123 ".to_owned()),
        Just("DOB 03/14/1962 ".to_owned()),
        Just("call (415) 555-0134 ".to_owned()),
        Just("Dr. Okafor ".to_owned()),
        Just("BP 128/82 ".to_owned()),
        Just("４１５-５５５-０１３４ ".to_owned()),
        Just("\u{200B}\u{00A0}".to_owned()),
        Just("jane@example.org ".to_owned()),
        Just("Springfield, IL 62704\n".to_owned()),
        "[a-zA-Z0-9 ,.:/@()#-]{0,12}",
        "\\PC{0,6}",
    ];
    proptest::collection::vec(fragment, 0..12).prop_map(|v| v.concat())
}

/// Lower-case dictation with numbers spelled out (rewritten into digits before detection), Unicode tricks between.
fn dictated_text() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("one ".to_owned()),
        Just("twenty".to_owned()),
        Just("-".to_owned()),
        Just("first ".to_owned()),
        Just("hundred ".to_owned()),
        Just("thousand ".to_owned()),
        Just("and ".to_owned()),
        Just("oh ".to_owned()),
        Just("nineteen fifty two ".to_owned()),
        Just("march ".to_owned()),
        Just("the ".to_owned()),
        Just("phone ".to_owned()),
        Just("mrn ".to_owned()),
        Just("\u{200B}\u{00A0}é".to_owned()),
        "[a-z0-9 ,.-]{0,8}",
    ];
    proptest::collection::vec(fragment, 0..16).prop_map(|v| v.concat())
}

/// A value that the operators' own vocabulary can contain by construction (`ERSON` in `[PERSON]`), or so short
/// and hex/base64-like that a digest or ciphertext holds it by chance: not a leak.
fn incidental(type_name: &str, value: &str) -> bool {
    let vocabulary = format!("[{type_name}] <{type_name}_ [enc:v1:{type_name}: 90+ [DATE]");
    let coded = value.len() <= 8 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    // The tail of a pseudonym (`N_1>` of `<MRN_1>`).
    let stem = value.strip_suffix('>').map(|v| v.trim_end_matches(|c: char| c.is_ascii_digit()));
    let pseudonym_tail = stem.is_some_and(|s| !s.is_empty() && format!("<{type_name}_").ends_with(s));
    // Already masked (`************12`): masking it again writes the same characters.
    let masked = value.chars().filter(|c| *c != '*').count() <= 2;
    value.chars().count() < 3 || vocabulary.contains(value) || coded || pseudonym_tail || masked
}

/// Every entity of `text` (any score) lies within it, and they are sorted and disjoint.
fn spans_within_bounds_sorted_and_disjoint(text: &str) -> Result<(), TestCaseError> {
    let n = text.chars().count();
    let entities = analyzer().analyze(text, &AnalyzeOptions::default().with_threshold(0.0));
    for e in &entities {
        prop_assert!(e.start < e.end && e.end <= n, "{e:?} in {n} chars");
    }
    for w in entities.windows(2) {
        prop_assert!(w[0].end <= w[1].start, "{:?} overlaps {:?}", w[0], w[1]);
    }
    Ok(())
}

fn policies() -> Vec<Policy> {
    vec![
        Policy::uniform(Operator::Redact),
        Policy::uniform(Operator::Replace { with: None }),
        Policy::uniform(Operator::Mask { keep_last: 2, mask_char: '*' }),
        Policy::uniform(Operator::Hash),
        Policy::uniform(Operator::Pseudonymize),
        Policy::uniform(Operator::Encrypt),
        Policy::safe_harbor(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn spans_are_within_bounds_sorted_and_disjoint(text in clinical_text()) {
        spans_within_bounds_sorted_and_disjoint(&text)?;
    }

    #[test]
    fn spelled_out_numbers_keep_spans_within_bounds_sorted_and_disjoint(text in dictated_text()) {
        spans_within_bounds_sorted_and_disjoint(&text)?;
    }

    #[test]
    fn every_operator_removes_each_detected_value(text in clinical_text()) {
        let chars: Vec<char> = text.chars().collect();
        let entities = analyzer().analyze(&text, &AnalyzeOptions::default());
        let tenant = TenantKey::new(&[1u8; 32]).expect("key");
        let data = DataKey::from_bytes(&[2u8; 32]).expect("key");
        let keys = Keys { tenant: Some(&tenant), data: Some(&data) };
        for policy in policies() {
            let out = transform(&text, &entities, &policy, keys).expect("transform");
            for (e, item) in entities.iter().zip(&out.items) {
                let value: String = chars[e.start..e.end].iter().collect();
                let replaced: String = out.text.chars().skip(item.output_start).take(item.output_end - item.output_start).collect();
                // Safe Harbor keeps a year, ZIP3 or `90+` by design; every other output differs from the value.
                if policy != Policy::safe_harbor() || !matches!(e.entity_type.as_str(), "DATE" | "ZIP" | "AGE_OVER_89") {
                    prop_assert_ne!(&replaced, &value);
                    prop_assert!(!replaced.contains(value.as_str()) || incidental(e.entity_type.as_str(), &value), "{value:?} in {replaced:?}");
                }
            }
        }
    }
}

#[test]
fn inputs_the_fuzzer_found_stay_fixed() {
    // Arrange: every crash the fuzzer found, kept in `fuzz/regressions/`.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    for entry in std::fs::read_dir(dir).expect("regressions folder") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        let text = String::from_utf8_lossy(&bytes);

        // Act: as typed and as OCR output (the fuzzer reads every other input as scanned).
        let entities = analyzer().analyze(&text, &AnalyzeOptions::default().with_threshold(0.0));
        let scanned = analyzer().analyze(&text, &AnalyzeOptions::default().with_threshold(0.0).with_scanned(true));

        // Assert
        let n = text.chars().count();
        assert!(entities.iter().chain(&scanned).all(|e| e.start < e.end && e.end <= n));
        for policy in policies()
            .into_iter()
            .filter(|p| *p != Policy::uniform(Operator::Hash) && *p != Policy::uniform(Operator::Encrypt))
        {
            transform(&text, &entities, &policy, Keys::default()).expect("transform");
        }
    }
}
