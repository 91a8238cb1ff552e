//! Fuzz target: detection and every operator on arbitrary UTF-8. No panic; spans within bounds, on character
//! boundaries (code point offsets), sorted and disjoint; transformed text never holds a detected value in place.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use medvault_phi::{AnalyzeOptions, Analyzer, DataKey, Keys, Operator, Policy, TenantKey, transform};

fn analyzer() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(|| Analyzer::new().expect("built-in patterns compile"))
}

/// A value that the operators' own vocabulary can contain by construction (`ERSON` in `[PERSON]`), or so short
/// and hex/base64-like that a digest or ciphertext holds it by chance: not a leak.
fn incidental(type_name: &str, value: &str) -> bool {
    let vocabulary = format!("[{type_name}] <{type_name}_ [enc:v1:{type_name}: 90+ [DATE]");
    let coded = value.len() <= 8 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    // The tail of a pseudonym (`N_1>` of `<MRN_1>`).
    let stem = value.strip_suffix('>').map(|v| v.trim_end_matches(|c: char| c.is_ascii_digit()));
    let pseudonym_tail = stem.is_some_and(|s| !s.is_empty() && format!("<{type_name}_").ends_with(s));
    // Already masked (`************12`, `**** ********s.`): masking it again writes the same characters (the mask
    // keeps spaces).
    let masked = value.chars().filter(|c| *c != '*' && !c.is_whitespace()).count() <= 2;
    value.chars().count() < 3 || vocabulary.contains(value) || coded || pseudonym_tail || masked
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let chars: Vec<char> = text.chars().collect();
    // Every other input as text read by OCR, so that the scanned-text mending is fuzzed too.
    let scanned = data.len() % 2 == 0;
    let entities = analyzer().analyze(text, &AnalyzeOptions::default().with_threshold(0.0).with_scanned(scanned));
    for e in &entities {
        assert!(e.start < e.end && e.end <= chars.len(), "{e:?} outside {} code points", chars.len());
    }
    for pair in entities.windows(2) {
        assert!(pair[0].end <= pair[1].start, "overlap {:?} {:?}", pair[0], pair[1]);
    }
    let tenant = TenantKey::new(&[3u8; 32]).expect("key");
    let data_key = DataKey::from_bytes(&[4u8; 32]).expect("key");
    let keys = Keys { tenant: Some(&tenant), data: Some(&data_key) };
    for policy in [
        Policy::uniform(Operator::Redact),
        Policy::uniform(Operator::Replace { with: None }),
        Policy::uniform(Operator::Mask { keep_last: 2, mask_char: '*' }),
        Policy::uniform(Operator::Hash),
        Policy::uniform(Operator::Pseudonymize),
        Policy::uniform(Operator::Encrypt),
        Policy::safe_harbor(),
    ] {
        let out = transform(text, &entities, &policy, keys).expect("transform with keys never fails");
        let out_chars: Vec<char> = out.text.chars().collect();
        assert_eq!(out.items.len(), entities.len());
        for (e, item) in entities.iter().zip(&out.items) {
            assert!(item.output_start <= item.output_end && item.output_end <= out_chars.len());
            let value: String = chars[e.start..e.end].iter().collect();
            let replaced: String = out_chars[item.output_start..item.output_end].iter().collect();
            let generalizing =
                policy == Policy::safe_harbor() && matches!(e.entity_type.as_str(), "DATE" | "ZIP" | "AGE_OVER_89");
            if !generalizing && !incidental(e.entity_type.as_str(), &value) {
                assert!(!replaced.contains(value.as_str()), "{value:?} survived as {replaced:?}");
            }
        }
        if policy == Policy::uniform(Operator::Redact) {
            // Everything outside the entities is kept verbatim, in order.
            let kept: usize = chars.len() - entities.iter().map(|e| e.end - e.start).sum::<usize>();
            assert_eq!(out_chars.len(), kept);
        }
    }
});
