//! Intake against real files made during the run: identification by bytes, typed refusals, PDF text layers from
//! several producers, page images of image-only PDFs, and robustness against truncated and garbage input.

mod support;

use std::io::Write;
use std::path::PathBuf;

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use medvault_intake::{Accepted, Bomb, FileKind, Limits, PdfReader, Refusal, classify, inspect};
use support::{LINES, squash};
use tempfile::TempDir;

fn read(path: &PathBuf) -> Vec<u8> {
    std::fs::read(path).expect("generated file")
}

fn pdf(accepted: Accepted) -> medvault_intake::PdfDocument {
    match accepted {
        Accepted::Pdf(document) => document,
        other => panic!("expected a PDF, got {other:?}"),
    }
}

/// A PDF written with lopdf: one page per entry, each showing its lines with `Td` moves between them.
fn lopdf_pdf(pages: &[&[&str]]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for lines in pages {
        let mut operations = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
            Operation::new("Td", vec![72.into(), 720.into()]),
        ];
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                operations.push(Operation::new("Td", vec![0.into(), (-16).into()]));
            }
            operations.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
        }
        operations.push(Operation::new("ET", vec![]));
        let content = Content { operations }.encode().expect("encode content");
        let content_id = doc.add_object(Stream::new(dictionary! {}, content).with_compression(true));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources_id },
        ),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save pdf");
    out
}

#[test]
fn every_accepted_type_is_identified_by_its_bytes_whatever_it_is_called() {
    // Arrange
    let dir = TempDir::new().unwrap();
    let png = support::text_png(dir.path(), "scan.png");
    let mut files: Vec<(FileKind, Vec<u8>)> = vec![
        (FileKind::Png, read(&png)),
        (FileKind::Jpeg, read(&support::convert(&png, &dir.path().join("scan.jpg"), &[]))),
        (FileKind::Tiff, read(&support::convert(&png, &dir.path().join("scan.tif"), &[]))),
        (FileKind::Pdf, lopdf_pdf(&[&LINES])),
    ];
    for (kind, ext) in
        [(FileKind::Wav, "wav"), (FileKind::Flac, "flac"), (FileKind::Mp3, "mp3"), (FileKind::Ogg, "ogg")]
    {
        files.push((kind, read(&support::tone(&dir.path().join(format!("tone.{ext}")), 1))));
    }

    for (kind, bytes) in files {
        // Act: no declared type, then the right one.
        let undeclared = classify(&bytes, None, &Limits::default());
        let declared = inspect(&bytes, Some(kind.media_type()), &Limits::default());

        // Assert
        assert_eq!(undeclared, Ok(kind));
        let accepted = declared.unwrap_or_else(|e| panic!("{kind} refused: {e}"));
        assert_eq!(accepted.kind(), kind);
    }
}

#[test]
fn a_png_uploaded_as_wav_is_a_type_mismatch() {
    let dir = TempDir::new().unwrap();
    let png = read(&support::text_png(dir.path(), "scan.png"));

    let refusal = inspect(&png, Some("audio/wav"), &Limits::default()).unwrap_err();

    assert_eq!(refusal, Refusal::TypeMismatch { declared: "audio/wav".into(), detected: "image/png".into() });
    assert_eq!(refusal.code(), "type_mismatch");
}

#[test]
fn known_but_unaccepted_and_unknown_types_are_unsupported() {
    let dir = TempDir::new().unwrap();
    let gif = read(&support::convert(&support::text_png(dir.path(), "a.png"), &dir.path().join("a.gif"), &[]));

    let gif_refusal = inspect(&gif, None, &Limits::default()).unwrap_err();
    let text_refusal = inspect(b"just some text, not a document", Some("text/plain"), &Limits::default()).unwrap_err();

    assert_eq!(gif_refusal, Refusal::UnsupportedType { detected: "image/gif".into() });
    assert_eq!(text_refusal, Refusal::UnsupportedType { detected: "unknown".into() });
}

#[test]
fn encrypted_pdfs_are_refused_with_or_without_a_user_password() {
    let dir = TempDir::new().unwrap();
    let plain = support::fpdf2_pdf(dir.path(), "plain.pdf", 1, false);
    let locked = read(&support::encrypted_pdf(&plain, &dir.path().join("locked.pdf"), "user-secret"));
    let owner_only = read(&support::encrypted_pdf(&plain, &dir.path().join("owner.pdf"), ""));

    assert_eq!(inspect(&locked, Some("application/pdf"), &Limits::default()), Err(Refusal::EncryptedPdf));
    assert_eq!(inspect(&owner_only, Some("application/pdf"), &Limits::default()), Err(Refusal::EncryptedPdf));
}

#[test]
fn a_pdf_header_over_garbage_is_malformed() {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend(std::iter::repeat_n(b"garbage ", 200).flatten());

    let refusal = inspect(&bytes, None, &Limits::default()).unwrap_err();

    assert_eq!(refusal.code(), "malformed_pdf", "{refusal}");
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
    let bytes = lopdf_pdf(&[&LINES]);
    let limits = Limits { max_file_bytes: 100, ..Limits::default() };

    let refusal = inspect(&bytes, None, &limits).unwrap_err();

    assert_eq!(refusal, Refusal::Oversize { size: bytes.len() as u64, limit: 100 });
}

#[test]
fn a_pdf_with_more_pages_than_allowed_is_refused() {
    let dir = TempDir::new().unwrap();
    let bytes = read(&support::fpdf2_pdf(dir.path(), "three.pdf", 3, false));
    let limits = Limits { max_pages: 2, ..Limits::default() };

    assert_eq!(inspect(&bytes, None, &limits), Err(Refusal::TooManyPages { pages: 3, limit: 2 }));
}

#[test]
fn an_image_declaring_too_many_pixels_is_a_bomb_caught_from_its_header() {
    // A PNG whose header says 100,000 × 100,000 pixels; its data is a few bytes, so only the header can tell.
    let png = png_header_only(100_000, 100_000);

    let refusal = inspect(&png, Some("image/png"), &Limits::default()).unwrap_err();

    assert_eq!(
        refusal,
        Refusal::DecompressionBomb(Bomb::Pixels {
            width: 100_000,
            height: 100_000,
            limit: Limits::default().max_pixels
        })
    );
}

#[test]
fn a_pdf_stream_inflating_past_the_limit_is_a_bomb() {
    // 16 MiB of zeros compress to about 16 KiB; the limit here is 1 MiB.
    let mut doc = Document::load_mem(&lopdf_pdf(&[&LINES])).unwrap();
    let page_id = *doc.get_pages().get(&1).unwrap();
    let zeros = vec![b' '; 16 * 1024 * 1024];
    let bomb_id = doc.add_object(Stream::new(dictionary! {}, zeros).with_compression(true));
    doc.get_dictionary_mut(page_id).unwrap().set("Contents", Object::Reference(bomb_id));
    doc.compress();
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    assert!(bytes.len() < 200_000, "the bomb should be small on disk");
    let limits = Limits { max_stream_bytes: 1024 * 1024, ..Limits::default() };

    let refusal = inspect(&bytes, None, &limits).unwrap_err();

    assert_eq!(refusal, Refusal::DecompressionBomb(Bomb::PdfStream { limit: 1024 * 1024 }));
}

#[test]
fn audio_longer_than_allowed_is_refused_from_its_header() {
    let dir = TempDir::new().unwrap();
    let limits = Limits { max_audio_seconds: 2, ..Limits::default() };
    for ext in ["wav", "flac", "ogg"] {
        let bytes = read(&support::tone(&dir.path().join(format!("long.{ext}")), 5));

        let refusal = inspect(&bytes, None, &limits).unwrap_err();

        assert_eq!(refusal, Refusal::DecompressionBomb(Bomb::AudioDuration { seconds: 5, limit: 2 }), "{ext}");
    }
}

#[test]
fn text_layers_from_several_producers_are_read_line_by_line_without_ocr() {
    // Arrange: lopdf, fpdf2 with a core font and with an embedded TrueType font, cairo and Ghostscript.
    let dir = TempDir::new().unwrap();
    let fpdf_ttf = support::fpdf2_pdf(dir.path(), "fpdf-ttf.pdf", 1, true);
    let producers: Vec<(&str, Vec<u8>)> = vec![
        ("lopdf", lopdf_pdf(&[&LINES])),
        ("fpdf2 core font", read(&support::fpdf2_pdf(dir.path(), "fpdf-core.pdf", 1, false))),
        ("fpdf2 embedded font", read(&fpdf_ttf)),
        ("cairo", read(&support::cairo_pdf(dir.path(), &fpdf_ttf))),
    ];

    for (producer, bytes) in producers {
        // Act
        let document = pdf(inspect(&bytes, Some("application/pdf"), &Limits::default()).unwrap());

        // Assert: every line comes back as its own line, and nothing goes to OCR.
        let page = &document.pages[0];
        let lines: Vec<String> = page.text.lines().map(squash).filter(|l| !l.is_empty()).collect();
        assert_eq!(lines, LINES, "{producer}");
        assert!(!page.needs_ocr && page.images.is_empty(), "{producer}");
    }
}

#[test]
fn ghostscript_text_keeps_its_lines_and_phi_values() {
    // Ghostscript positions kerned words separately; its line structure and values must still come through.
    let dir = TempDir::new().unwrap();
    let bytes = read(&support::ghostscript_pdf(dir.path()));

    let document = pdf(inspect(&bytes, None, &Limits::default()).unwrap());

    let text = &document.pages[0].text;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 3, "{text:?}");
    for value in ["Jane Roe", "03/14/1961", "MRN 448812", "2024-02-09", "Smith", "aspirin 81 mg"] {
        assert!(text.contains(value), "{value} missing from {text:?}");
    }
    assert!(!document.pages[0].needs_ocr);
}

#[test]
fn each_page_keeps_its_own_text() {
    let bytes = lopdf_pdf(&[&["first page text, long enough to count"], &["second page text, long enough too"]]);

    let document = pdf(inspect(&bytes, None, &Limits::default()).unwrap());

    let texts: Vec<&str> = document.pages.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["first page text, long enough to count", "second page text, long enough too"]);
    assert_eq!(document.pages.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn image_only_pdfs_yield_page_images_for_ocr_from_flate_and_jpeg_streams() {
    // Arrange: the same scan wrapped as PNG (Flate with PNG predictors) and as JPEG (DCT), by img2pdf.
    let dir = TempDir::new().unwrap();
    let png = support::text_png(dir.path(), "scan.png");
    let jpg = support::convert(&png, &dir.path().join("scan.jpg"), &["-quality", "90"]);
    let original = image::open(&png).unwrap().into_luma8();

    for source in [&png, &jpg] {
        let bytes = read(&support::img2pdf(source, &dir.path().join("scan.pdf")));

        // Act
        let document = pdf(inspect(&bytes, Some("application/pdf"), &Limits::default()).unwrap());

        // Assert: the page needs OCR and its image is the scan, pixel for pixel (within JPEG's loss).
        let page = &document.pages[0];
        assert!(page.needs_ocr, "{source:?}");
        assert_eq!(page.images.len(), 1);
        let image = &page.images[0];
        assert_eq!((image.width, image.height), original.dimensions());
        let mean_error = image.pixels().iter().zip(original.as_raw()).map(|(a, b)| a.abs_diff(*b) as u64).sum::<u64>()
            / original.as_raw().len() as u64;
        assert!(mean_error <= 3, "{source:?}: mean pixel error {mean_error}");
    }
}

#[test]
fn a_long_scan_is_read_page_by_page_within_a_budget_that_all_its_pages_at_once_would_exceed() {
    // Arrange: three scanned pages (1600 × 260 grey each); the budget holds two pages' pixels, not three.
    let dir = TempDir::new().unwrap();
    let png = support::text_png(dir.path(), "scan.png");
    let out = dir.path().join("three.pdf");
    let script = "import sys, img2pdf; open(sys.argv[1], 'wb').write(img2pdf.convert([sys.argv[2]] * 3))";
    let python = support::python();
    support::run(python.to_str().unwrap(), &["-c", script, support::path(&out), support::path(&png)], "python3");
    let bytes = read(&out);
    let limits = Limits { max_document_inflated_bytes: 2 * 1600 * 260, ..Limits::default() };

    // Act
    let whole = medvault_intake::pdf::read(&bytes, &limits);
    let reader = PdfReader::open(&bytes, &limits).unwrap();
    let pages: Vec<_> = (0..reader.page_count()).map(|index| reader.page(index).unwrap()).collect();

    // Assert: held all at once, the pages are a bomb; read one at a time, each is an ordinary page.
    assert!(matches!(whole, Err(Refusal::DecompressionBomb(Bomb::PdfDocument { .. }))), "{whole:?}");
    assert_eq!(pages.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(pages.iter().all(|p| p.needs_ocr && p.images.len() == 1), "{pages:?}");
}

#[test]
fn a_multi_page_tiff_yields_every_page() {
    let dir = TempDir::new().unwrap();
    let png = support::text_png(dir.path(), "scan.png");
    let flipped = support::convert(&png, &dir.path().join("flipped.png"), &["-flip"]);
    let tiff = dir.path().join("two.tif");
    support::run("convert", &[support::path(&png), support::path(&flipped), support::path(&tiff)], "imagemagick");

    let accepted = inspect(&read(&tiff), Some("image/tiff"), &Limits::default()).unwrap();

    let Accepted::Image { pages, .. } = accepted else { panic!("expected an image") };
    assert_eq!(pages.iter().map(|p| p.page).collect::<Vec<_>>(), [1, 2]);
    assert_ne!(pages[0].pixels(), pages[1].pixels(), "the second page is its own picture");
}

/// Truncated and corrupted copies of every kind of file: each gives a result or a refusal, never a panic.
#[test]
fn truncated_and_corrupted_files_of_every_type_never_panic() {
    let dir = TempDir::new().unwrap();
    let png = support::text_png(dir.path(), "scan.png");
    let mut samples = vec![
        read(&png),
        read(&support::convert(&png, &dir.path().join("s.jpg"), &[])),
        read(&support::convert(&png, &dir.path().join("s.tif"), &[])),
        lopdf_pdf(&[&LINES]),
        read(&support::img2pdf(&png, &dir.path().join("img.pdf"))),
        read(&support::fpdf2_pdf(dir.path(), "f.pdf", 2, true)),
    ];
    for ext in ["wav", "flac", "mp3", "ogg"] {
        samples.push(read(&support::tone(&dir.path().join(format!("t.{ext}")), 1)));
    }
    let limits = Limits::default();
    let mut outcomes = 0usize;
    for sample in &samples {
        // Every prefix at a stride that keeps the run short, plus the first 64 bytes one by one.
        let stride = (sample.len() / 150).max(1);
        for cut in (0..64.min(sample.len())).chain((64..sample.len()).step_by(stride)) {
            let _ = inspect(&sample[..cut], None, &limits);
            outcomes += 1;
        }
        // Bytes flipped through the body (keeping the magic number, so the type's own parser is reached).
        for seed in 0..40u64 {
            let mut corrupted = sample.clone();
            let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            for _ in 0..8 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let at = 16 + (state >> 33) as usize % (corrupted.len().saturating_sub(16).max(1));
                if let Some(byte) = corrupted.get_mut(at) {
                    *byte ^= (state >> 24) as u8 | 1;
                }
            }
            let _ = inspect(&corrupted, None, &limits);
            outcomes += 1;
        }
    }
    assert!(outcomes > 1000, "the loop ran {outcomes} inputs");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Random bodies behind every accepted magic number: a refusal or a result, never a panic.
    #[test]
    fn random_bodies_behind_real_magic_numbers_never_panic(
        magic in proptest::sample::select(vec![
            b"%PDF-1.7\n".to_vec(), b"\x89PNG\r\n\x1a\n".to_vec(), b"\xff\xd8\xff\xe0".to_vec(),
            b"II*\0".to_vec(), b"MM\0*".to_vec(), b"RIFF\x24\0\0\0WAVEfmt ".to_vec(), b"fLaC".to_vec(),
            b"ID3".to_vec(), b"\xff\xfb".to_vec(), b"OggS".to_vec(),
        ]),
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
    ) {
        let mut bytes = magic;
        bytes.extend(body);
        let _ = inspect(&bytes, None, &Limits::default());
    }
}

/// A PNG with a valid IHDR chunk for `width` × `height` and a tiny IDAT: only the header is believable.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        out.extend_from_slice(&crc_input);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut idat = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    idat.write_all(&[0; 64]).expect("compress");
    let idat = idat.finish().expect("compress");
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &idat);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// CRC-32 (ISO-HDLC), bit by bit: PNG chunks need it and this test needs nothing faster.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
