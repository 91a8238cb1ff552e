//! Prints the evaluation table for a seed and, with `--misses`, every missed or spurious span (developer tool).

use medvault_phi::eval::{self, corpus};
use medvault_phi::{AnalyzeOptions, Analyzer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let seed = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(eval::BASELINE_SEED);
    let count = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(400);
    let misses = args.iter().any(|a| a == "--misses");
    if let Some(pos) = args.iter().position(|a| a == "--grep") {
        let needle = &args[pos + 1];
        for n in corpus(seed, count).iter().filter(|n| n.text.contains(needle.as_str())) {
            println!("=== {} {}\n{}\n", n.id, n.kind, n.text);
        }
        return Ok(());
    }
    let analyzer = Analyzer::new()?;
    let options = AnalyzeOptions::default();
    let notes = corpus(seed, count);
    let report = eval::evaluate(&analyzer, &options, &notes);
    println!("{}", report.table());
    if misses {
        for n in &notes {
            let chars: Vec<char> = n.text.chars().collect();
            let found = analyzer.analyze(&n.text, &options);
            let text = |s: usize, e: usize| chars[s..e].iter().collect::<String>();
            for g in &n.spans {
                if !found.iter().any(|p| {
                    p.entity_type.score_group() == g.entity_type.score_group() && p.start < g.end && g.start < p.end
                }) {
                    let ctx = text(g.start.saturating_sub(30), g.start);
                    println!(
                        "MISS {:<14} {:?}  ...{:?} [{}]",
                        g.entity_type.as_str(),
                        text(g.start, g.end),
                        ctx,
                        n.kind
                    );
                }
            }
            for p in &found {
                let outside: String = (p.start..p.end)
                    .filter(|&i| !chars[i].is_whitespace() && !n.spans.iter().any(|g| g.start <= i && i < g.end))
                    .map(|i| chars[i])
                    .collect();
                if !outside.is_empty() && n.spans.iter().any(|g| p.start < g.end && g.start < p.end) {
                    println!(
                        "LONG {:<14} {:?} extra {:?} [{}]",
                        p.entity_type.as_str(),
                        text(p.start, p.end),
                        outside,
                        n.kind
                    );
                }
                if !n.spans.iter().any(|g| {
                    p.entity_type.score_group() == g.entity_type.score_group() && p.start < g.end && g.start < p.end
                }) {
                    let ctx = text(p.start.saturating_sub(30), p.start);
                    println!(
                        "FP   {:<14} {:?} {:.2} ...{:?} [{}]",
                        p.entity_type.as_str(),
                        text(p.start, p.end),
                        p.score,
                        ctx,
                        n.kind
                    );
                }
            }
        }
    }
    Ok(())
}
