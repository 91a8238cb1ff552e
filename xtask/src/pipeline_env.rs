//! The document and audio pipeline's test environment: the `.venv/pipeline` Python environment (the PyPI
//! pocketsphinx model, fpdf2 and img2pdf, pinned in infra/local/requirements-pipeline.txt) and the variables the
//! intake, OCR and speech tests read.

use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::{python, workspace};

/// Makes `.venv/pipeline` if needed and returns the variables the pipeline tests need:
/// `MEDVAULT_ASR_MODEL_DIR` (pocketsphinx's `en-us` model folder) and `MEDVAULT_PIPELINE_PYTHON` (the venv's
/// Python, which writes test PDFs). The Debian tools (tesseract, festival, sox, ImageMagick, qpdf, poppler,
/// ghostscript) come from infra/local/debian-packages.txt.
pub fn ensure() -> anyhow::Result<Vec<(String, String)>> {
    let venv = python::ensure("pipeline", &workspace::root().join("infra/local/requirements-pipeline.txt"))?;
    let model = model_dir(&venv.dir)?;
    let python = venv.bin("python");
    Ok(vec![
        ("MEDVAULT_ASR_MODEL_DIR".to_owned(), model.display().to_string()),
        ("MEDVAULT_PIPELINE_PYTHON".to_owned(), python.display().to_string()),
    ])
}

/// `<venv>/lib/python3.X/site-packages/pocketsphinx/model/en-us`, whichever Python made the venv.
fn model_dir(venv: &std::path::Path) -> anyhow::Result<PathBuf> {
    let lib = venv.join("lib");
    let entries = std::fs::read_dir(&lib).with_context(|| format!("reading {}", lib.display()))?;
    for entry in entries.flatten() {
        let candidate = entry.path().join("site-packages/pocketsphinx/model/en-us");
        if candidate.join("en-us.lm.bin").is_file() {
            return Ok(candidate);
        }
    }
    bail!("the pocketsphinx model is missing from {}: reinstall .venv/pipeline", venv.display())
}
