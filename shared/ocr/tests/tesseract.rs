//! Tesseract through libtesseract on text rendered during the run: character error rate against the truth, the
//! image-only PDF path through intake, the page limit, progress, and the engine loaded once per process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use medvault_intake::{Accepted, Limits, ObjectRef, inspect};
use medvault_ocr::config::TesseractConfig;
use medvault_ocr::{OcrEngine, OcrError, OcrRequest, PageProgress, TesseractEngine, no_progress};

const LINES: [&str; 3] = [
    "Patient: Jane Roe, DOB 03/14/1961",
    "MRN 448812, seen on 2024-02-09 by Dr. Alan Smith.",
    "Assessment: stable angina; continue aspirin 81 mg daily.",
];

fn run(program: &str, args: &[&str], package: &str) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`{program}` is needed for this test ({e}): install the Debian package {package}"));
    assert!(output.status.success(), "`{program}` failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// LINES rendered by ImageMagick in DejaVu Sans at 32 px, as a scan would look at about 300 dpi.
fn render(dir: &Path) -> PathBuf {
    let out = dir.join("note.png");
    let font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    assert!(Path::new(font).exists(), "{font} is missing: install the Debian package fonts-dejavu-core");
    let text = LINES.join("\n");
    let args = ["-size", "1600x260", "xc:white", "-font", font, "-pointsize", "32", "-fill", "black"];
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-annotate", "+40+60", &text, "-colorspace", "Gray", "-depth", "8", out.to_str().expect("utf-8")]);
    run("convert", &all, "imagemagick");
    out
}

/// Wraps an image in an image-only PDF with img2pdf (MEDVAULT_PIPELINE_PYTHON names a Python that has it).
fn img2pdf(image: &Path, out: &Path) -> Vec<u8> {
    let python = std::env::var("MEDVAULT_PIPELINE_PYTHON")
        .expect("MEDVAULT_PIPELINE_PYTHON is not set: point it at .venv/pipeline/bin/python (infra/local/requirements-pipeline.txt)");
    let script = "import sys, img2pdf; open(sys.argv[2], 'wb').write(img2pdf.convert(sys.argv[1]))";
    run(&python, &["-c", script, image.to_str().expect("utf-8"), out.to_str().expect("utf-8")], "python3 (venv)");
    std::fs::read(out).expect("pdf written")
}

/// Character error rate: Levenshtein distance over characters (strsim) divided by the truth's length, after
/// collapsing whitespace on both sides (line breaks and spacing are layout, not characters read).
fn cer(truth: &str, read: &str) -> f64 {
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (truth, read) = (squash(truth), squash(read));
    strsim::levenshtein(&truth, &read) as f64 / truth.chars().count() as f64
}

fn object() -> ObjectRef {
    ObjectRef { bucket: "uploads".into(), key: "p/1/note".into(), version_id: Some("v1".into()) }
}

fn engine() -> TesseractEngine {
    TesseractEngine::shared(&TesseractConfig { threads: 2, ..TesseractConfig::default() })
        .expect("libtesseract with the English model (Debian: tesseract-ocr-eng) loads")
}

#[tokio::test]
async fn a_rendered_png_is_read_with_a_character_error_rate_under_five_percent() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(render(dir.path())).unwrap();
    let Accepted::Image { pages, .. } = inspect(&bytes, Some("image/png"), &Limits::default()).unwrap() else {
        panic!("a PNG is an image")
    };

    // Act
    let document = engine().recognize(OcrRequest { object: object(), pages }, no_progress()).await.unwrap();

    // Assert
    let rate = cer(&LINES.join("\n"), &document.pages[0].text);
    println!("CER of the rendered PNG: {:.2}%", rate * 100.0);
    assert!(rate < 0.05, "CER {rate:.3}: {:?}", document.pages[0].text);
    for value in ["Jane Roe", "03/14/1961", "448812", "2024-02-09"] {
        assert!(document.pages[0].text.contains(value), "{value} was not read");
    }
}

#[tokio::test]
async fn a_two_column_page_is_read_column_after_column_as_the_tesseract_command_reads_it() {
    // Arrange: a note in two columns; read as one block of text (libtesseract's own default page segmentation),
    // each line would run into the other column's line.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("columns.png");
    let font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    let left = "The patient reports chest pain\nwhen climbing stairs since the\nbeginning of the month and was\nseen in the clinic on Monday\nfor a full examination today";
    let right = "Blood pressure was measured\nat rest and again after walking\nthe electrocardiogram showed no\nacute changes and the plan is\nto continue the current therapy";
    let mut args = vec!["-size", "1800x500", "xc:white", "-font", font, "-pointsize", "30", "-fill", "black"];
    args.extend(["-annotate", "+40+60", left, "-annotate", "+1000+60", right]);
    args.extend(["-colorspace", "Gray", "-depth", "8", out.to_str().expect("utf-8")]);
    run("convert", &args, "imagemagick");
    let bytes = std::fs::read(&out).unwrap();
    let Accepted::Image { pages, .. } = inspect(&bytes, Some("image/png"), &Limits::default()).unwrap() else {
        panic!("a PNG is an image")
    };

    // Act
    let document = engine().recognize(OcrRequest { object: object(), pages }, no_progress()).await.unwrap();

    // Assert: the left column's lines follow each other, and the right column comes after all of them.
    let text = document.pages[0].text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("chest pain when climbing stairs"), "{text:?}");
    let left_end = text.find("examination today").unwrap_or_else(|| panic!("{text:?}"));
    let right_start = text.find("Blood pressure").unwrap_or_else(|| panic!("{text:?}"));
    assert!(left_end < right_start, "the columns are interleaved: {text:?}");
}

#[tokio::test]
async fn an_image_only_pdf_goes_through_ocr_page_by_page() {
    // Arrange: two scanned pages wrapped by img2pdf; intake finds no text layer and extracts the images.
    let dir = tempfile::tempdir().unwrap();
    let png = render(dir.path());
    let tiff = dir.path().join("two.tif");
    let pdf_path = dir.path().join("scan.pdf");
    run("convert", &[png.to_str().unwrap(), png.to_str().unwrap(), tiff.to_str().unwrap()], "imagemagick");
    let one_page = img2pdf(&png, &pdf_path);
    let Accepted::Pdf(pdf) = inspect(&one_page, Some("application/pdf"), &Limits::default()).unwrap() else {
        panic!("a PDF")
    };
    let pages: Vec<_> = pdf.pages_needing_ocr().flat_map(|p| p.images.clone()).collect();
    assert_eq!(pages.len(), 1, "the scan's page needs OCR");
    let Accepted::Image { pages: tiff_pages, .. } =
        inspect(&std::fs::read(&tiff).unwrap(), None, &Limits::default()).unwrap()
    else {
        panic!("a TIFF")
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);

    // Act
    let from_pdf = engine().recognize(OcrRequest { object: object(), pages }, no_progress()).await.unwrap();
    let from_tiff = engine()
        .recognize(
            OcrRequest { object: object(), pages: tiff_pages },
            Arc::new(move |p: PageProgress| record.lock().unwrap().push(p)),
        )
        .await
        .unwrap();

    // Assert
    assert!(cer(&LINES.join("\n"), &from_pdf.pages[0].text) < 0.05, "{:?}", from_pdf.pages[0].text);
    assert_eq!(from_tiff.pages.iter().map(|p| p.page).collect::<Vec<_>>(), [1, 2]);
    for page in &from_tiff.pages {
        assert!(cer(&LINES.join("\n"), &page.text) < 0.05, "page {}: {:?}", page.page, page.text);
    }
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_by_key(|p| p.done);
    assert_eq!(seen, [PageProgress { done: 1, total: 2 }, PageProgress { done: 2, total: 2 }]);
}

#[tokio::test]
async fn the_engine_is_loaded_once_and_reused_for_later_documents() {
    // Arrange: the first use loads (or has loaded) the shared engine.
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(render(dir.path())).unwrap();
    let Accepted::Image { pages, .. } = inspect(&bytes, None, &Limits::default()).unwrap() else { panic!() };
    let first = engine();
    first.recognize(OcrRequest { object: object(), pages: pages.clone() }, no_progress()).await.unwrap();
    let loads_after_first = TesseractEngine::model_loads();

    // Act: a second and third document through `shared` again, as later invocations of a warm container do.
    for _ in 0..2 {
        engine().recognize(OcrRequest { object: object(), pages: pages.clone() }, no_progress()).await.unwrap();
    }

    // Assert
    assert_eq!(TesseractEngine::model_loads(), loads_after_first, "a later document must not reload the model");
    assert!(loads_after_first >= 1);
}

#[tokio::test]
async fn a_document_over_the_page_limit_is_refused_before_any_page_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(render(dir.path())).unwrap();
    let Accepted::Image { pages, .. } = inspect(&bytes, None, &Limits::default()).unwrap() else { panic!() };
    let limited =
        TesseractEngine::load(&TesseractConfig { threads: 1, max_pages: 1, ..TesseractConfig::default() }).unwrap();

    let error = limited
        .recognize(OcrRequest { object: object(), pages: vec![pages[0].clone(), pages[0].clone()] }, no_progress())
        .await
        .unwrap_err();

    assert!(matches!(error, OcrError::TooManyPages { pages: 2, limit: 1 }), "{error}");
}

#[test]
fn a_missing_model_directory_is_a_load_error_naming_the_file() {
    let error = TesseractEngine::load(&TesseractConfig {
        data_dir: Some("/nonexistent/tessdata".into()),
        ..TesseractConfig::default()
    })
    .unwrap_err();

    assert!(error.to_string().contains("/nonexistent/tessdata/eng.traineddata"), "{error}");
}
