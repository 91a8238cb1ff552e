//! Test inputs made during the run with real tools (ImageMagick, sox, qpdf, poppler, ghostscript, fpdf2, img2pdf),
//! each missing tool named in the failure with the package that provides it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The lines of text every generated document carries: PHI of the kinds the pipeline must find.
pub const LINES: [&str; 3] = [
    "Patient: Jane Roe, DOB 03/14/1961",
    "MRN 448812, seen on 2024-02-09 by Dr. Alan Smith.",
    "Assessment: stable angina; continue aspirin 81 mg daily.",
];

/// Runs a tool, failing the test with the package to install when it is missing or fails.
pub fn run(program: &str, args: &[&str], package: &str) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`{program}` is needed for this test ({e}): install the Debian package {package}"));
    assert!(
        output.status.success(),
        "`{program} {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The Python with fpdf2 and img2pdf: `MEDVAULT_PIPELINE_PYTHON` (cargo xtask test sets it to
/// `.venv/pipeline/bin/python`, made from infra/local/requirements-pipeline.txt).
pub fn python() -> PathBuf {
    let python = std::env::var_os("MEDVAULT_PIPELINE_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "MEDVAULT_PIPELINE_PYTHON is not set: point it at a Python with fpdf2 and img2pdf \
             (.venv/pipeline/bin/python, made by `cargo xtask test` from infra/local/requirements-pipeline.txt)"
        )
    });
    assert!(python.exists(), "MEDVAULT_PIPELINE_PYTHON={} does not exist", python.display());
    python
}

fn run_python(script: &str, args: &[&str]) {
    let python = python();
    let output = Command::new(&python).arg("-c").arg(script).args(args).output().expect("python runs");
    assert!(output.status.success(), "python script failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// A PDF with a text layer written by fpdf2: `pages` pages of [`LINES`], in a core font or embedded DejaVu.
pub fn fpdf2_pdf(dir: &Path, name: &str, pages: usize, embed_font: bool) -> PathBuf {
    let out = dir.join(name);
    let script = r#"
import sys
from fpdf import FPDF
out, pages, embed = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
lines = sys.argv[4:]
pdf = FPDF()
if embed:
    pdf.add_font("DejaVu", fname="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
for _ in range(pages):
    pdf.add_page()
    pdf.set_font("DejaVu" if embed else "Helvetica", size=12)
    for line in lines:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
pdf.output(out)
"#;
    let mut args =
        vec![out.to_str().expect("utf-8 path").to_owned(), pages.to_string(), u8::from(embed_font).to_string()];
    args.extend(LINES.iter().map(|l| (*l).to_owned()));
    run_python(script, &args.iter().map(String::as_str).collect::<Vec<_>>());
    out
}

/// A cairo-written copy of a PDF (subset TrueType fonts with ToUnicode maps), via poppler's `pdftocairo`.
pub fn cairo_pdf(dir: &Path, source: &Path) -> PathBuf {
    let out = dir.join("cairo.pdf");
    run("pdftocairo", &["-pdf", path(source), path(&out)], "poppler-utils");
    out
}

/// A Ghostscript-written PDF of groff output (Type 1 fonts, words positioned one by one).
pub fn ghostscript_pdf(dir: &Path) -> PathBuf {
    let roff = dir.join("doc.roff");
    let ps = dir.join("doc.ps");
    let out = dir.join("gs.pdf");
    let body: String = LINES.iter().map(|l| format!("{l}\n.br\n")).collect();
    std::fs::write(&roff, body).expect("write roff");
    let output = Command::new("groff")
        .args(["-Tps", path(&roff)])
        .output()
        .unwrap_or_else(|e| panic!("`groff` is needed ({e}): install the Debian package groff-base"));
    assert!(output.status.success());
    std::fs::write(&ps, output.stdout).expect("write ps");
    run("ps2pdf", &[path(&ps), path(&out)], "ghostscript");
    out
}

/// [`LINES`] rendered to a PNG by ImageMagick with DejaVu Sans, black on white, 32 px type.
pub fn text_png(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    assert!(Path::new(font).exists(), "{font} is missing: install the Debian package fonts-dejavu-core");
    let text = LINES.join("\n");
    run(
        "convert",
        &[
            "-size",
            "1600x260",
            "xc:white",
            "-font",
            font,
            "-pointsize",
            "32",
            "-fill",
            "black",
            "-annotate",
            "+40+60",
            &text,
            "-colorspace",
            "Gray",
            "-depth",
            "8",
            path(&out),
        ],
        "imagemagick",
    );
    out
}

/// Converts an image with ImageMagick (the output format follows the file extension).
pub fn convert(source: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec![path(source)];
    args.extend_from_slice(extra);
    args.push(path(out));
    run("convert", &args, "imagemagick");
    out.to_path_buf()
}

/// An image-only PDF wrapping `image` without re-encoding, by img2pdf (PNG as Flate with predictors, JPEG as DCT).
pub fn img2pdf(image: &Path, out: &Path) -> PathBuf {
    run_python(
        "import sys, img2pdf; open(sys.argv[2], 'wb').write(img2pdf.convert(sys.argv[1]))",
        &[path(image), path(out)],
    );
    out.to_path_buf()
}

/// A copy of `source` encrypted by qpdf with AES-256 (`user` may be empty: an owner-password-only file).
pub fn encrypted_pdf(source: &Path, out: &Path, user: &str) -> PathBuf {
    run("qpdf", &["--encrypt", user, "owner-secret", "256", "--", path(source), path(out)], "qpdf");
    out.to_path_buf()
}

/// A one-second 440 Hz tone at 16 kHz, written by sox in the format named by `out`'s extension.
pub fn tone(out: &Path, seconds: u32) -> PathBuf {
    run(
        "sox",
        &["-n", "-r", "16000", "-c", "1", path(out), "synth", &seconds.to_string(), "sine", "440"],
        "sox libsox-fmt-mp3",
    );
    out.to_path_buf()
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Whitespace collapsed, for comparing text that producers lay out differently.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
