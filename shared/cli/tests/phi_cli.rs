//! Drives the real `phi` binary: JSONL in, JSONL out, ordering, malformed lines, text files, operators.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn phi(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_phi"))
        .args(args)
        .env_remove("PHI_HASH_KEY")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("phi starts");
    // A run that fails before reading its input (a missing key) may close stdin first: that is not the test's failure.
    if let Err(error) = child.stdin.take().expect("stdin").write_all(stdin.as_bytes()) {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {error}");
    }
    child.wait_with_output().expect("phi finishes")
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("json line")).collect()
}

#[test]
fn analyze_writes_one_line_per_input_in_input_order() {
    // Arrange: more documents than one chunk, so ordering across parallel chunks is exercised.
    let input: String = (0..50)
        .map(|i| {
            format!(
                "{{\"id\": {i}, \"text\": \"Patient John Smith, MRN {:08}, call (415) 555-01{:02}\"}}\n",
                10_000 + i,
                i
            )
        })
        .collect();

    // Act
    let out = phi(&["analyze", "--chunk", "7"], &input, &[]);

    // Assert
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = lines(&out);
    assert_eq!(rows.len(), 50);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["id"], i);
        let types: Vec<&str> =
            row["entities"].as_array().expect("entities").iter().map(|e| e["type"].as_str().expect("type")).collect();
        assert_eq!(types, ["PERSON", "MRN", "PHONE"], "{row}");
        let first = &row["entities"][0];
        assert_eq!((first["start"].as_u64(), first["end"].as_u64()), (Some(8), Some(18)));
    }
}

#[test]
fn a_malformed_line_is_reported_with_its_number_and_skipped() {
    let input = "{\"id\":\"a\",\"text\":\"DOB 03/14/1962\"}\nnot json\n{\"id\":\"c\",\"text\":\"nothing here\"}\n";

    let out = phi(&["analyze"], input, &[]);

    assert!(out.status.success());
    let ids: Vec<String> = lines(&out).iter().map(|r| r["id"].as_str().expect("id").to_owned()).collect();
    assert_eq!(ids, ["a", "c"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn strict_mode_stops_at_the_malformed_line_with_a_non_zero_exit() {
    let input = "{\"id\":1,\"text\":\"x\"}\n{\"id\":2}\n{\"id\":3,\"text\":\"y\"}\n";

    let out = phi(&["analyze", "--strict"], input, &[]);

    assert!(!out.status.success());
    assert_eq!(lines(&out).len(), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}

#[test]
fn redact_replaces_entities_in_a_plain_text_file_and_keeps_its_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("note.txt");
    std::fs::write(&path, "Patient: Mary Johnson\nDOB: 03/14/1962\n\n\nBP 128/82, HR 72.\n").expect("write");

    let out =
        phi(&["redact", "--format", "text", "--operator", "replace", "--input", path.to_str().expect("path")], "", &[]);

    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Patient: [PERSON]\nDOB: [DATE]\n\n\nBP 128/82, HR 72.\n");
}

#[test]
fn scanned_reads_ocr_letters_inside_numbers_as_digits() {
    let input = "{\"id\":\"scan\",\"text\":\"DOB: 03/l4/1962\"}\n";

    let typed = phi(&["redact", "--operator", "replace"], input, &[]);
    let scanned = phi(&["redact", "--operator", "replace", "--scanned"], input, &[]);

    assert!(typed.status.success() && scanned.status.success(), "{}", String::from_utf8_lossy(&scanned.stderr));
    assert_eq!(lines(&typed)[0]["text"], "DOB: 03/l4/1962");
    assert_eq!(lines(&scanned)[0]["text"], "DOB: [DATE]");
}

#[test]
fn deidentify_applies_safe_harbor_to_jsonl() {
    let input = "{\"id\":\"n1\",\"text\":\"A 93-year-old seen 03/14/2021 in Springfield, IL 62704.\"}\n";

    let out = phi(&["deidentify"], input, &[]);

    assert!(out.status.success());
    let row = &lines(&out)[0];
    assert_eq!(row["text"], "A 90+-year-old seen 2021 in [CITY], IL 627.");
}

#[test]
fn hash_without_a_tenant_key_fails_with_a_clear_message() {
    let out = phi(&["redact", "--operator", "hash"], "{\"id\":1,\"text\":\"x\"}\n", &[]);

    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PHI_HASH_KEY"));
}

#[test]
fn hash_is_consistent_for_the_same_value_under_one_key() {
    let input = "{\"id\":1,\"text\":\"SSN 123-45-6789\"}\n{\"id\":2,\"text\":\"ssn: 123-45-6789\"}\n";

    let out = phi(&["redact", "--operator", "hash"], input, &[("PHI_HASH_KEY", "00112233445566778899aabbccddeeff")]);

    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = lines(&out);
    let hashed = |r: &serde_json::Value| r["text"].as_str().expect("text").rsplit(' ').next().expect("hash").to_owned();
    assert_eq!(hashed(&rows[0]).len(), 64);
    assert_eq!(hashed(&rows[0]), hashed(&rows[1]));
}

#[test]
fn corpus_analyze_and_score_form_an_evaluation_pipeline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gold = phi(&["corpus", "--count", "25", "--seed", "3"], "", &[]);
    let text = phi(&["corpus", "--count", "25", "--seed", "3", "--text-only"], "", &[]);
    let predicted = phi(&["analyze"], &String::from_utf8_lossy(&text.stdout), &[]);
    std::fs::write(dir.path().join("gold.jsonl"), &gold.stdout).expect("write");
    std::fs::write(dir.path().join("pred.jsonl"), &predicted.stdout).expect("write");

    let out = phi(
        &[
            "score",
            "--json",
            "--gold",
            dir.path().join("gold.jsonl").to_str().expect("path"),
            "--predicted",
            dir.path().join("pred.jsonl").to_str().expect("path"),
        ],
        "",
        &[],
    );

    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report json");
    assert_eq!(report["documents"], 25);
    assert!(report["overall"]["char_gold_found"].as_u64() > Some(0));
}
