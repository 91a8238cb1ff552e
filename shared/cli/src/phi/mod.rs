//! The `phi` command: `analyze`, `redact` and `deidentify` over JSONL or plain text, streamed in bounded chunks,
//! processed on every core with rayon, written in input order.

mod evaluation;
mod stream;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use medvault_phi::{AnalyzeConfig, AnalyzeOptions, Analyzer, DataKey, EntityType, Operator, Policy, TenantKey};

pub use stream::{Format, Job, Summary};

#[derive(Debug, Parser)]
#[command(name = "phi", version, about = "Find and de-identify PHI in JSON Lines or text")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read `{"id","text"}` lines, write `{"id","entities":[{"type","start","end","score"}]}` lines in input order.
    Analyze(Common),
    /// Rewrite every entity with one operator.
    Redact {
        #[command(flatten)]
        common: Common,
        #[arg(long, value_enum, default_value_t = OperatorName::Replace)]
        operator: OperatorName,
        /// Characters `mask` leaves visible at the end.
        #[arg(long, default_value_t = 4)]
        keep_last: usize,
        /// Environment variable holding the tenant HMAC key (hex) for `hash`.
        #[arg(long, default_value = "PHI_HASH_KEY")]
        hash_key_env: String,
        /// Environment variable holding the 32-byte AES-256-GCM data key (hex) for `encrypt`.
        #[arg(long, default_value = "PHI_DATA_KEY")]
        data_key_env: String,
    },
    /// Apply the HIPAA Safe Harbor profile (dates to years, ages over 89 to 90+, ZIP3, other identifiers removed).
    Deidentify(Common),
    /// Write the labelled synthetic clinical corpus as JSONL `{"id","kind","text","spans"}` (for evaluations).
    Corpus {
        #[arg(long, default_value_t = medvault_phi::eval::BASELINE_SEED)]
        seed: u64,
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// Write only `{"id","text"}` (the input `phi analyze` and other detectors read).
        #[arg(long)]
        text_only: bool,
        /// Write clinical text with no PHI at all (about 2 KB per document), for throughput measurements.
        #[arg(long)]
        no_phi: bool,
    },
    /// Score predictions (`{"id","entities"}` lines) against a labelled corpus; prints the table, or JSON.
    Score {
        #[arg(long)]
        gold: PathBuf,
        #[arg(long)]
        predicted: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OperatorName {
    Redact,
    Replace,
    Mask,
    Hash,
    Pseudonymize,
    Encrypt,
}

#[derive(Debug, Args)]
struct Common {
    /// Input file (standard input when absent).
    #[arg(long, short)]
    input: Option<PathBuf>,
    /// `jsonl` (one `{"id","text"}` per line) or `text` (plain text, processed paragraph by paragraph).
    #[arg(long, value_enum, default_value_t = FormatArg::Jsonl)]
    format: FormatArg,
    /// Minimum score (0..1).
    #[arg(long)]
    threshold: Option<f32>,
    /// Only these entity types (comma-separated taxonomy names).
    #[arg(long, value_delimiter = ',')]
    entities: Option<Vec<String>>,
    /// Never these entity types.
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
    /// JSON file with analysis options (`entities`, `exclude`, `threshold`, `recognizers`, `scanned`); flags
    /// override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The text was read from scans by OCR: `l`, `I` and `O` inside numbers are read as digits (`03/l4/1962`).
    #[arg(long)]
    scanned: bool,
    /// Stop with a non-zero exit at the first malformed line instead of reporting and skipping it.
    #[arg(long)]
    strict: bool,
    /// Worker threads (all cores when absent).
    #[arg(long)]
    threads: Option<usize>,
    /// Documents per parallel chunk (bounds memory).
    #[arg(long, default_value_t = 2048)]
    chunk: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Jsonl,
    Text,
}

/// Runs the command line; errors print on stderr.
pub fn main() -> ExitCode {
    stream::report_panics();
    match run(Cli::parse()) {
        Ok(summary) if summary.failed_strict => ExitCode::from(2),
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("phi: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn parse_types(names: &[String]) -> anyhow::Result<Vec<EntityType>> {
    names.iter().map(|n| n.trim().parse::<EntityType>().map_err(anyhow::Error::from)).collect()
}

fn options(common: &Common) -> anyhow::Result<AnalyzeOptions> {
    let mut config = match &common.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str::<AnalyzeConfig>(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => AnalyzeConfig::default(),
    };
    if let Some(list) = &common.entities {
        config.entities = Some(parse_types(list)?);
    }
    config.exclude.extend(parse_types(&common.exclude)?);
    if common.threshold.is_some() {
        config.threshold = common.threshold;
    }
    config.scanned |= common.scanned;
    Ok(AnalyzeOptions::from_config(&config)?)
}

fn key_from_env(var: &str) -> anyhow::Result<Vec<u8>> {
    let hex_key = std::env::var(var).with_context(|| format!("the key variable {var} is not set"))?;
    hex::decode(hex_key.trim()).with_context(|| format!("{var} is not hex"))
}

fn run(cli: Cli) -> anyhow::Result<Summary> {
    let (common, job) = match cli.command {
        Command::Corpus { seed, count, text_only, no_phi } => {
            return evaluation::write_corpus(seed, count, text_only, no_phi);
        }
        Command::Score { gold, predicted, json } => return evaluation::score_files(&gold, &predicted, json),
        Command::Analyze(common) => (common, Job::Analyze),
        Command::Deidentify(common) => {
            (common, Job::Transform { policy: Policy::safe_harbor(), tenant: None, data: None })
        }
        Command::Redact { common, operator, keep_last, hash_key_env, data_key_env } => {
            let (op, tenant, data) = match operator {
                OperatorName::Redact => (Operator::Redact, None, None),
                OperatorName::Replace => (Operator::Replace { with: None }, None, None),
                OperatorName::Mask => (Operator::Mask { keep_last, mask_char: '*' }, None, None),
                OperatorName::Pseudonymize => (Operator::Pseudonymize, None, None),
                OperatorName::Hash => (Operator::Hash, Some(TenantKey::new(&key_from_env(&hash_key_env)?)?), None),
                OperatorName::Encrypt => {
                    (Operator::Encrypt, None, Some(DataKey::from_bytes(&key_from_env(&data_key_env)?)?))
                }
            };
            (common, Job::Transform { policy: Policy::uniform(op), tenant, data })
        }
    };
    let options = options(&common)?;
    let analyzer = Analyzer::new()?;
    if let Some(n) = common.threads {
        rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global().context("starting the worker threads")?;
    }
    let format = match common.format {
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Text => Format::Text,
    };
    let total = common.input.as_ref().and_then(|p| std::fs::metadata(p).ok()).map(|m| m.len());
    let input: Box<dyn std::io::BufRead + Send> = match &common.input {
        Some(path) => Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        )),
        None => Box::new(std::io::BufReader::with_capacity(1 << 20, std::io::stdin())),
    };
    let stdout = std::io::stdout();
    let output = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let progress = std::io::stderr().is_terminal().then(|| stream::progress_bar(total));
    let summary = stream::run(
        &analyzer,
        &options,
        &job,
        format,
        input,
        output,
        stream::Settings { strict: common.strict, chunk: common.chunk.max(1), progress },
    )?;
    if summary.malformed > 0 {
        eprintln!("phi: {} malformed line(s) skipped", summary.malformed);
    }
    Ok(summary)
}
