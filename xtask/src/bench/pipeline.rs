//! `cargo xtask bench pipeline`: OCR pages per second per core through medvault's Tesseract engine next to the
//! `tesseract` CLI on the same images, text-layer PDF pages per second, the speech real-time factor, and seconds
//! from upload to `ready` for a one-page image on the local stack.
//!
//! Inputs are made fresh (ImageMagick, fpdf2, festival, sox) under `target/bench-pipeline`. The measured programs
//! are the crates' examples, built in release mode without LTO (the engines' time is spent in libtesseract and
//! libpocketsphinx, which LTO does not touch; it would only make the build minutes longer on two cores). The
//! upload-to-ready run drives the template's functions as release binaries (the deployed profile, LTO included)
//! behind the local stack on moto: records API, ingest, OCR and PHI workers, with their queues' event sources.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use local_stack::emulator::Moto;

use crate::{dev, pipeline_env, python, workspace};

/// Uploads timed after the first (which pays every function's cold start).
const READY_RUNS: &str = "10";

const LINES: [&str; 4] = [
    "Patient: Jane Roe, DOB 03/14/1961, MRN 448812",
    "Seen on 2024-02-09 by Dr. Alan Smith for chest pain.",
    "Assessment: stable angina; continue aspirin 81 mg daily.",
    "Follow up in six weeks; call 555-0147 with questions.",
];

/// Rounds of the engine measurements: the machine is shared, so each number is reported as the median round with
/// the spread of all rounds. The CLI and the engine alternate within a round, so that load falls on both alike. The
/// median, not the best: the CLI's seconds per page is a difference of two timings, whose best round is biased low
/// (a slow one-page run and a fast full run in the same round).
const ROUNDS: usize = 5;

/// The median of some measurements and their spread.
struct Spread {
    median: f64,
    low: f64,
    high: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = match sorted.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Self {
            median,
            low: sorted.first().copied().unwrap_or(f64::NAN),
            high: sorted.last().copied().unwrap_or(f64::NAN),
        }
    }

    fn show(&self, decimals: usize) -> String {
        format!(
            "{:.*} (median; range {:.*}–{:.*} over {ROUNDS} rounds)",
            decimals, self.median, decimals, self.low, decimals, self.high
        )
    }
}

/// Runs the pipeline benchmarks and prints their numbers.
pub async fn run() -> anyhow::Result<()> {
    let env = pipeline_env::ensure()?;
    let dir = workspace::target_dir().join("bench-pipeline");
    std::fs::create_dir_all(&dir)?;
    let images = make_images(&dir, 8)?;
    let pdf = make_text_pdf(&dir, &env, 100)?;
    let wav = make_dictation(&dir, 12)?;
    let image_args: Vec<String> = images.iter().map(|p| p.display().to_string()).collect();

    // libtesseract may use OpenMP threads of its own; one thread keeps "per core" honest for both sides.
    let mut cli = Vec::new();
    let mut ocr: Vec<serde_json::Value> = Vec::new();
    let mut pdf_text = Vec::new();
    let mut speech: Vec<serde_json::Value> = Vec::new();
    for round in 1..=ROUNDS {
        eprintln!("xtask: pipeline benchmark round {round} of {ROUNDS}");
        cli.push(tesseract_cli_seconds_per_page(&dir, &images)?);
        ocr.push(example(&env, &[], "medvault-ocr", "ocr_throughput", &image_args)?);
        pdf_text.push(example(
            &env,
            &[],
            "medvault-intake",
            "pdf_text_throughput",
            &[pdf.display().to_string(), "20".into()],
        )?);
        speech.push(example(&env, &[], "medvault-speech", "speech_rtf", &[wav.display().to_string()])?);
    }
    let ready = upload_to_ready(&env, &images[0]).await?;

    println!("\n== pipeline benchmark ({} cores)", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let cli_per_page = Spread::of(&cli);
    println!(
        "tesseract CLI, one thread: {} s/page = {:.2} pages/s (model load excluded)",
        cli_per_page.show(3),
        1.0 / cli_per_page.median
    );
    let runs = |value: &serde_json::Value| value["runs"].as_array().cloned().unwrap_or_default();
    for (index, first) in runs(&ocr[0]).iter().enumerate() {
        let threads = first["threads"].as_u64().unwrap_or(1);
        let per_core: Vec<f64> = ocr
            .iter()
            .filter_map(|round| runs(round).get(index).map(|r| r["pages_per_second"].as_f64().unwrap_or(0.0)))
            .map(|pps| pps / threads as f64)
            .collect();
        let per_core = Spread::of(&per_core);
        println!(
            "medvault OCR engine, {threads} engine(s): {} pages/s per core = {:+.1}% vs the CLI per core (median vs \
             median); load {:.2} s",
            per_core.show(2),
            (per_core.median * cli_per_page.median - 1.0) * 100.0,
            first["load_seconds"].as_f64().unwrap_or(0.0)
        );
    }
    println!(
        "(intake PNG decode to greyscale for all pages: {:.3} s)",
        ocr[0]["decode_seconds"].as_f64().unwrap_or(0.0)
    );
    let pages_per_second: Vec<f64> = pdf_text.iter().map(|r| r["pages_per_second"].as_f64().unwrap_or(0.0)).collect();
    println!(
        "text-layer PDF: {} pages/s ({} pages a round)",
        Spread::of(&pages_per_second).show(0),
        pdf_text[0]["pages"]
    );
    for (index, first) in runs(&speech[0]).iter().enumerate() {
        let rtf: Vec<f64> = speech
            .iter()
            .filter_map(|round| runs(round).get(index).map(|r| r["rtf"].as_f64().unwrap_or(0.0)))
            .collect();
        println!(
            "speech, {} decoder(s): real-time factor {} ({} s of audio; load {} s)",
            first["threads"],
            Spread::of(&rtf).show(3),
            first["audio_seconds"],
            first["load_seconds"]
        );
    }
    println!(
        "upload to ready, one-page PNG through the local stack (release binaries, moto): median {:.3} s over {} warm \
         runs (min {:.3}, max {:.3}); the first, with every cold start: {:.3} s",
        ready["median"].as_f64().unwrap_or(0.0),
        ready["warm_seconds"].as_array().map(Vec::len).unwrap_or(0),
        ready["min"].as_f64().unwrap_or(0.0),
        ready["max"].as_f64().unwrap_or(0.0),
        ready["cold_seconds"].as_f64().unwrap_or(0.0),
    );
    Ok(())
}

/// Seconds from the upload's PUT to the document's `ready`, through the whole stack on moto (medvault-pipeline's
/// `upload_to_ready` example, which starts the stack from the template with the release binaries).
async fn upload_to_ready(env: &[(String, String)], image: &Path) -> anyhow::Result<serde_json::Value> {
    dev::build_functions(true, &[])?;
    let venv = python::ensure_tools()?;
    let moto = Moto::start(&venv.bin("moto_server")).await?;
    let aws = [
        ("AWS_ENDPOINT_URL", moto.endpoint_url().to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "bench".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_owned()),
        ("MEDVAULT_BIN_DIR", dev::bin_dir(true).display().to_string()),
    ];
    let result =
        example(env, &aws, "medvault-pipeline", "upload_to_ready", &[image.display().to_string(), READY_RUNS.into()]);
    moto.stop().await;
    result
}

fn check(command: &mut Command) -> anyhow::Result<std::process::Output> {
    let shown = workspace::describe(command);
    let output =
        command.output().with_context(|| format!("could not start `{shown}` (see infra/local/debian-packages.txt)"))?;
    if !output.status.success() {
        bail!("`{shown}` failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(output)
}

fn make_images(dir: &Path, count: usize) -> anyhow::Result<Vec<PathBuf>> {
    let font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    (0..count)
        .map(|i| {
            let out = dir.join(format!("page-{i}.png"));
            let mut lines = LINES.to_vec();
            lines.rotate_left(i % LINES.len());
            let text = lines.join("\n");
            check(
                Command::new("convert")
                    .args(["-size", "1700x400", "xc:white", "-font", font, "-pointsize", "32"])
                    .args(["-fill", "black", "-annotate", "+40+60", &text, "-colorspace", "Gray", "-depth", "8"])
                    .arg(&out),
            )?;
            Ok(out)
        })
        .collect()
}

fn make_text_pdf(dir: &Path, env: &[(String, String)], pages: usize) -> anyhow::Result<PathBuf> {
    let python =
        env.iter().find(|(k, _)| k == "MEDVAULT_PIPELINE_PYTHON").map(|(_, v)| v.clone()).context("no python")?;
    let out = dir.join("text.pdf");
    let script = r#"
import sys
from fpdf import FPDF
pdf = FPDF()
pdf.add_font("DejaVu", fname="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
for page in range(int(sys.argv[2])):
    pdf.add_page()
    pdf.set_font("DejaVu", size=11)
    for i in range(40):
        pdf.cell(0, 6, f"{page}.{i} " + sys.argv[3 + i % 4], new_x="LMARGIN", new_y="NEXT")
pdf.output(sys.argv[1])
"#;
    check(Command::new(python).args(["-c", script]).arg(&out).arg(pages.to_string()).args(LINES))?;
    Ok(out)
}

/// About `sentences` festival sentences joined into one 16 kHz WAV.
fn make_dictation(dir: &Path, sentences: usize) -> anyhow::Result<PathBuf> {
    let text = dir.join("dictation.txt");
    let spoken: Vec<String> = (0..sentences)
        .map(|i| format!("patient number {} john smith was seen on march fourth for chest pain.", i + 1))
        .collect();
    std::fs::write(&text, spoken.join(" "))?;
    let raw = dir.join("dictation-festival.wav");
    check(Command::new("text2wave").arg("-o").arg(&raw).arg(&text))?;
    let out = dir.join("dictation.wav");
    check(Command::new("sox").arg(&raw).args(["-r", "16000", "-c", "1", "-b", "16"]).arg(&out))?;
    Ok(out)
}

/// Seconds per page of the `tesseract` CLI reading a list of images in one run: (T(all) − T(one)) / (n − 1), so
/// the model load (paid once per run) drops out.
fn tesseract_cli_seconds_per_page(dir: &Path, images: &[PathBuf]) -> anyhow::Result<f64> {
    let time_list = |list: &[PathBuf], name: &str| -> anyhow::Result<f64> {
        // The list is not `{name}.txt`: that is the file the CLI writes its text to for the output base `{name}`.
        let file = dir.join(format!("{name}-images.txt"));
        std::fs::write(&file, list.iter().map(|p| format!("{}\n", p.display())).collect::<String>())?;
        let start = Instant::now();
        check(
            Command::new("tesseract")
                .arg(&file)
                .arg(dir.join(name))
                .args(["--dpi", "300"])
                .env("OMP_THREAD_LIMIT", "1"),
        )?;
        Ok(start.elapsed().as_secs_f64())
    };
    let one = time_list(&images[..1], "cli-one")?;
    let all = time_list(images, "cli-all")?;
    Ok((all - one) / (images.len() - 1) as f64)
}

/// Runs a crate's example in release mode (no LTO) with `env` and `extra` variables, and parses the JSON line it
/// prints.
fn example(
    env: &[(String, String)],
    extra: &[(&str, String)],
    package: &str,
    name: &str,
    args: &[String],
) -> anyhow::Result<serde_json::Value> {
    let mut command = workspace::cargo();
    command
        .args(["run", "--quiet", "--release", "-p", package, "--example", name, "--"])
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("OMP_THREAD_LIMIT", "1");
    let output = check(&mut command)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().context("the example printed nothing")?;
    serde_json::from_str(line).with_context(|| format!("{name} printed {line:?}"))
}
