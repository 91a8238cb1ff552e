//! Prints every entity found (threshold 0) in several synthetic corpora, one line each: a developer's probe to check
//! that a speed change leaves detection unchanged (`diff` two runs).

use std::io::Write;

use medvault_phi::eval::{corpus, phi_free_text};
use medvault_phi::{AnalyzeOptions, Analyzer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = Analyzer::new()?;
    let options = AnalyzeOptions::default().with_threshold(0.0);
    let mut docs: Vec<String> = Vec::new();
    for seed in [1, 2, 3, 42] {
        docs.extend(corpus(seed, 1500).into_iter().map(|n| n.text));
    }
    docs.extend((0..300).map(|i| phi_free_text(i, 2048)));
    // The same notes with Unicode tricks everywhere: full-width digits, NBSP, zero-width spaces, dashes, upper case.
    let tricked: Vec<String> = docs
        .iter()
        .take(3000)
        .enumerate()
        .map(|(i, d)| match i % 4 {
            0 => d
                .chars()
                .map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 + 0xFEE0).unwrap_or(c) } else { c })
                .collect(),
            1 => d.replace(' ', "\u{00A0}").replace('-', "\u{2013}"),
            2 => d.replace(", ", ",\u{200B} ").replace('@', "\u{FF20}"),
            _ => d.to_uppercase(),
        })
        .collect();
    docs.extend(tricked);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (i, d) in docs.iter().enumerate() {
        for e in analyzer.analyze(d, &options) {
            writeln!(out, "{i} {} {} {} {:.3}", e.entity_type.as_str(), e.start, e.end, e.score)?;
        }
    }
    Ok(())
}
