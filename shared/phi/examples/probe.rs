//! Prints what the analyzer finds in each line of standard input (a developer's probe).

use std::io::BufRead;

use medvault_phi::{AnalyzeOptions, Analyzer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = Analyzer::new()?;
    let options = AnalyzeOptions::default().with_threshold(0.0);
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let chars: Vec<char> = line.chars().collect();
        for e in analyzer.analyze(&line, &options) {
            let value: String = chars[e.start..e.end].iter().collect();
            println!("{:<15} {:.2} {value:?}", e.entity_type.as_str(), e.score);
        }
        println!("--");
    }
    Ok(())
}
