//! Prints what the analyzer finds in each line of standard input (a developer's probe).

use std::io::BufRead;

use medvault_phi::{AnalyzeOptions, Analyzer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = Analyzer::new()?;
    let options = AnalyzeOptions::default().with_threshold(0.0);
    let whole = std::env::args().any(|a| a == "--doc");
    let inputs: Vec<String> = if whole {
        vec![std::io::read_to_string(std::io::stdin())?]
    } else {
        std::io::stdin().lock().lines().collect::<Result<_, _>>()?
    };
    for line in inputs {
        let chars: Vec<char> = line.chars().collect();
        for e in analyzer.analyze(&line, &options) {
            let value: String = chars[e.start..e.end].iter().collect();
            println!("{:<15} {:.2} {value:?}", e.entity_type.as_str(), e.score);
        }
        println!("--");
    }
    Ok(())
}
