//! The document and audio pipeline end to end through the local stack: documents registered and uploaded through
//! the records API (real tokens, presigned PUTs), S3 notifications into the ingest queue, the OCR, speech and PHI
//! workers behind their queues, results read back through the API.
//!
//! Inputs are made during the run with real tools: fpdf2 (a PDF with a text layer), ImageMagick (a PNG of rendered
//! text, and a two-page TIFF of it), img2pdf (an image-only PDF), festival and sox (a WAV dictation). Each carries
//! PHI; the de-identified text must carry none of it. Needs `MEDVAULT_PIPELINE_PYTHON` and `MEDVAULT_ASR_MODEL_DIR`
//! (cargo xtask test sets both) and the Debian tools of infra/local/debian-packages.txt.
#![allow(clippy::unwrap_used)] // Test fixtures: a failed setup call should stop the test loudly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use local_stack::control::DevStack;
use local_stack::{LocalStack, StackOptions};
use medvault_auth::keys::SigningKey;
use medvault_auth::layer::{DEFAULT_AUDIENCE, DEFAULT_ISSUER};
use medvault_auth::{AuthMethod, Role, TokenAudience, TokenIssuer, UserId};
use medvault_tests::{sdk_config, stack_with, unique};
use serde_json::{Value, json};

/// The lines every document carries: a name, a birth date, a record number, a visit date, a clinician's name.
const LINES: [&str; 3] = [
    "Patient: Jane Roe, DOB 03/14/1961",
    "MRN 448812, seen on 2024-02-09 by Dr. Alan Smith.",
    "Assessment: stable angina; continue aspirin 81 mg daily.",
];

/// The PHI values written into the documents, none of which may survive de-identification.
const PHI: [&str; 5] = ["Jane Roe", "03/14/1961", "448812", "2024-02-09", "Alan Smith"];

/// The dictation: the patient's name, birth date and phone number are its PHI, the numbers spoken in words
/// (pocketsphinx writes `for won five five ...` for the phone's `four one five five ...`).
const DICTATION: &str = "john smith was born on march third nineteen fifty two and his phone is four one five five five five one two three four";
const DICTATED_PHI: [&str; 4] =
    ["john smith", "march third", "nineteen fifty two", "five five five five one two three four"];

// ------------------------------------------------------------------------------------------------ the stack

/// A running stack, a clinician's token and a patient of theirs.
struct Pipeline {
    stack: LocalStack,
    http: reqwest::Client,
    sdk: aws_config::SdkConfig,
    token: String,
    patient: String,
}

/// A document as `GET /v1/documents/{id}` shows it to its clinician.
#[derive(Debug)]
struct Document {
    status: String,
    reason: Option<String>,
    text: Option<String>,
    deidentified: Option<String>,
    entities: Option<Value>,
}

impl Pipeline {
    /// Starts a stack with the pipeline's model directory and `parameters`, then a clinician and a patient.
    async fn start(prefix: &str, parameters: &[(&str, &str)], env: &[(&str, &str)]) -> Self {
        Self::start_with(StackOptions::for_tests(prefix), parameters, env).await
    }

    /// [`Pipeline::start`] from given stack options (e.g. with a state file, as `cargo xtask dev` writes).
    async fn start_with(mut options: StackOptions, parameters: &[(&str, &str)], env: &[(&str, &str)]) -> Self {
        let model = std::env::var("MEDVAULT_ASR_MODEL_DIR")
            .expect("MEDVAULT_ASR_MODEL_DIR is not set: run through `cargo xtask test` (the PyPI pocketsphinx model)");
        options.parameter_overrides.insert("AsrModelDir".into(), model);
        for (name, value) in parameters {
            options.parameter_overrides.insert((*name).into(), (*value).into());
        }
        for (name, value) in env {
            options.env_overrides.insert((*name).into(), (*value).into());
        }
        let stack = stack_with(options).await;
        let sdk = sdk_config().await;
        let key = SigningKey::generate().unwrap();
        aws_sdk_secretsmanager::Client::new(&sdk)
            .put_secret_value()
            .secret_id(physical(&stack, "JwtPublicKeysSecret"))
            .secret_string(json!({ "keys": [key.public().to_jwk()] }).to_string())
            .send()
            .await
            .unwrap();
        let issuer = TokenIssuer::new(
            TokenAudience { issuer: DEFAULT_ISSUER.into(), audience: DEFAULT_AUDIENCE.into() },
            Duration::from_secs(3600),
        );
        let token = issuer
            .issue(&key, UserId::new(), &[Role::Clinician], &[AuthMethod::Pwd, AuthMethod::Otp], "session-1")
            .unwrap()
            .token;
        let http = reqwest::Client::new();
        let mrn = format!("MRN-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]).to_uppercase();
        let created = http
            .post(format!("{}/v1/patients", stack.api_url()))
            .bearer_auth(&token)
            .json(&json!({
                "mrn": mrn, "name": { "given": ["Jane"], "family": "Roe" }, "birth_date": "1961-03-14", "sex": "female"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let patient = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        Self { stack, http, sdk, token, patient }
    }

    /// Registers a document through the records API and uploads `bytes` through its presigned PUT.
    async fn upload(&self, filename: &str, content_type: &str, bytes: &[u8]) -> String {
        let created = self
            .http
            .post(format!("{}/v1/patients/{}/documents", self.stack.api_url(), self.patient))
            .bearer_auth(&self.token)
            .json(&json!({ "filename": filename, "content_type": content_type, "size": bytes.len() }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        let upload = &created["upload"];
        let mut put = self.http.put(upload["url"].as_str().unwrap()).body(bytes.to_vec());
        for (name, value) in upload["headers"].as_object().unwrap() {
            if name != "content-length" {
                put = put.header(name, value.as_str().unwrap());
            }
        }
        let put = put.send().await.unwrap();
        assert!(put.status().is_success(), "upload refused: {}", put.text().await.unwrap());
        created["id"].as_str().unwrap().to_owned()
    }

    async fn document(&self, id: &str) -> Document {
        let response = self
            .http
            .get(format!("{}/v1/documents/{id}", self.stack.api_url()))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let text = |name: &str| body[name].as_str().map(str::to_owned);
        Document {
            status: text("status").unwrap(),
            reason: text("reason"),
            text: text("text"),
            deidentified: text("deidentified_text"),
            entities: body.get("entities").cloned(),
        }
    }

    /// Polls the document until its status is final (`ready`, `quarantined`, `failed`), for at most `limit`.
    async fn finished(&self, id: &str, limit: Duration) -> Document {
        let started = Instant::now();
        loop {
            let document = self.document(id).await;
            if ["ready", "quarantined", "failed"].contains(&document.status.as_str()) {
                return document;
            }
            assert!(started.elapsed() < limit, "document {id} still {} after {limit:?}", document.status);
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Polls the document until it is in `status`, for at most `limit`.
    async fn reaches(&self, id: &str, status: &str, limit: Duration) -> Document {
        let started = Instant::now();
        loop {
            let document = self.document(id).await;
            if document.status == status {
                return document;
            }
            assert!(started.elapsed() < limit, "document {id} not {status} after {limit:?}: {document:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    /// The document's item as stored (the pipeline's own attributes: engine, extractions, progress).
    async fn item(&self, id: &str) -> HashMap<String, AttributeValue> {
        self.dynamodb()
            .get_item()
            .table_name(physical(&self.stack, "DocumentsTable"))
            .key("id", AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .unwrap()
    }

    fn queue_url(&self, logical_id: &str) -> String {
        self.stack.resource(logical_id).unwrap().attribute("QueueUrl").unwrap().to_owned()
    }

    /// Messages in a queue, visible or in flight.
    async fn queue_depth(&self, logical_id: &str) -> u64 {
        use aws_sdk_sqs::types::QueueAttributeName::{
            ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible,
        };
        let attributes = self
            .sqs()
            .get_queue_attributes()
            .queue_url(self.queue_url(logical_id))
            .attribute_names(ApproximateNumberOfMessages)
            .attribute_names(ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        let attributes = attributes.attributes().unwrap();
        [ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible]
            .iter()
            .map(|a| attributes.get(a).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0))
            .sum()
    }

    /// Waits until a queue holds no message, visible or in flight, for at most `limit`: a message that was
    /// acknowledged is deleted within moments, one that is being retried stays (in flight or visible) until it
    /// reaches the dead-letter queue.
    async fn drained(&self, logical_id: &str, limit: Duration) {
        let started = Instant::now();
        loop {
            let depth = self.queue_depth(logical_id).await;
            if depth == 0 {
                return;
            }
            assert!(started.elapsed() < limit, "{logical_id} still holds {depth} message(s) after {limit:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// A queue receiving this stack's completion events for the patient (an EventBridge rule on the default bus).
    async fn capture_completions(&self) -> String {
        let name = unique("completions");
        let queue_url = self.sqs().create_queue().queue_name(&name).send().await.unwrap().queue_url.unwrap();
        let arn = self
            .sqs()
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
            .clone();
        let events = aws_sdk_eventbridge::Client::new(&self.sdk);
        let pattern = json!({ "source": ["medvault.pipeline"], "detail": { "patient_id": [self.patient] } });
        events.put_rule().name(&name).event_pattern(pattern.to_string()).send().await.unwrap();
        let target = aws_sdk_eventbridge::types::Target::builder().id("queue").arn(arn).build().unwrap();
        events.put_targets().rule(&name).targets(target).send().await.unwrap();
        queue_url
    }

    /// Every completion event the capture queue holds.
    async fn completions(&self, queue_url: &str) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let received = self
                .sqs()
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return events;
            }
            events.extend(messages.iter().map(|m| serde_json::from_str::<Value>(m.body().unwrap()).unwrap()));
        }
    }
}

fn physical(stack: &LocalStack, logical_id: &str) -> String {
    stack.resource(logical_id).unwrap_or_else(|| panic!("no resource {logical_id}")).physical_id.clone()
}

fn attribute<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

// ------------------------------------------------------------------------------------------------ the inputs

fn run(program: &str, args: &[&str], package: &str) {
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

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn python(script: &str, args: &[&str]) {
    let python = std::env::var("MEDVAULT_PIPELINE_PYTHON")
        .expect("MEDVAULT_PIPELINE_PYTHON is not set: a Python with fpdf2 and img2pdf (cargo xtask test sets it)");
    let output = Command::new(python).arg("-c").arg(script).args(args).output().unwrap();
    assert!(output.status.success(), "python failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// [`LINES`] in a PDF with a text layer (fpdf2, Helvetica).
fn text_pdf(dir: &Path) -> Vec<u8> {
    let out = dir.join("report.pdf");
    let script = r#"
import sys
from fpdf import FPDF
pdf = FPDF()
pdf.add_page()
pdf.set_font("Helvetica", size=12)
for line in sys.argv[2:]:
    pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
pdf.output(sys.argv[1])
"#;
    let mut args = vec![path(&out)];
    args.extend(LINES);
    python(script, &args);
    std::fs::read(out).unwrap()
}

/// `lines` rendered by ImageMagick in DejaVu Sans at 32 px, as a 300 dpi scan of a letter would look.
fn text_png(dir: &Path, name: &str, lines: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    assert!(Path::new(font).exists(), "{font} is missing: install the Debian package fonts-dejavu-core");
    let text = lines.join("\n");
    let size = format!("1600x{}", 60 + 50 * lines.len());
    run(
        "convert",
        &["-size", &size, "xc:white", "-font", font, "-pointsize", "32", "-fill", "black"]
            .into_iter()
            .chain(["-annotate", "+40+60", &text, "-colorspace", "Gray", "-depth", "8", path(&out)])
            .collect::<Vec<_>>(),
        "imagemagick",
    );
    out
}

/// An image-only PDF of `images` (one page each), wrapped without re-encoding by img2pdf.
fn image_pdf(dir: &Path, images: &[PathBuf]) -> Vec<u8> {
    let out = dir.join("scan.pdf");
    let script = "import sys, img2pdf; open(sys.argv[1], 'wb').write(img2pdf.convert(sys.argv[2:]))";
    let mut args = vec![path(&out)];
    args.extend(images.iter().map(|p| path(p)));
    python(script, &args);
    std::fs::read(out).unwrap()
}

/// A two-page TIFF of the same scan (ImageMagick).
fn two_page_tiff(dir: &Path, page: &Path) -> Vec<u8> {
    let out = dir.join("scan.tiff");
    run("convert", &[path(page), path(page), "-adjoin", path(&out)], "imagemagick");
    std::fs::read(out).unwrap()
}

/// `text` spoken by festival (voice kal), converted by sox to 16 kHz mono 16-bit WAV.
fn dictation(dir: &Path, text: &str) -> Vec<u8> {
    let text_file = dir.join("dictation.txt");
    let raw = dir.join("dictation-festival.wav");
    let out = dir.join("dictation.wav");
    std::fs::write(&text_file, text).unwrap();
    run("text2wave", &["-o", path(&raw), path(&text_file)], "festival festvox-kallpc16k");
    run("sox", &[path(&raw), "-r", "16000", "-c", "1", "-b", "16", path(&out)], "sox");
    std::fs::read(out).unwrap()
}

/// A ZIP archive of one text file (a known type medvault does not accept).
fn zip_archive(dir: &Path) -> Vec<u8> {
    let out = dir.join("records.zip");
    python("import sys, zipfile; zipfile.ZipFile(sys.argv[1], 'w').writestr('note.txt', 'hello')", &[path(&out)]);
    std::fs::read(out).unwrap()
}

/// A PNG whose header declares `width` × `height` pixels over an empty image stream: a decompression bomb's
/// shape, refused from the header before anything is decoded.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut header = [width.to_be_bytes(), height.to_be_bytes()].concat();
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &header);
    // A zlib stream of nothing.
    chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// CRC-32 (ISO-HDLC) bit by bit, for PNG chunks: a few bytes of one test need nothing faster.
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

/// Character error rate: Levenshtein distance over characters divided by the truth's length, whitespace collapsed
/// on both sides (line breaks are layout, not characters read).
fn cer(truth: &str, read: &str) -> f64 {
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (truth, read) = (squash(truth), squash(read));
    strsim::levenshtein(&truth, &read) as f64 / truth.chars().count() as f64
}

fn assert_no_phi(name: &str, deidentified: &str, values: &[&str]) {
    let lower = deidentified.to_lowercase();
    for value in values {
        assert!(
            !lower.contains(&value.to_lowercase()),
            "{name}: {value:?} survived de-identification: {deidentified:?}"
        );
    }
}

// ------------------------------------------------------------------------------------------------ the tests

#[tokio::test]
async fn a_text_pdf_a_png_a_scanned_pdf_a_tiff_and_a_dictation_each_reach_ready_with_their_phi_removed() {
    // Arrange
    let pipeline = Pipeline::start("pipe-e2e", &[], &[]).await;
    let events = pipeline.capture_completions().await;
    let dir = tempfile::tempdir().unwrap();
    let png = text_png(dir.path(), "note.png", &LINES);
    let inputs = [
        ("referral.pdf", "application/pdf", text_pdf(dir.path())),
        ("note.png", "image/png", std::fs::read(&png).unwrap()),
        ("scan.pdf", "application/pdf", image_pdf(dir.path(), std::slice::from_ref(&png))),
        ("scan.tiff", "image/tiff", two_page_tiff(dir.path(), &png)),
        ("dictation.wav", "audio/wav", dictation(dir.path(), DICTATION)),
    ];

    // Act
    let mut ids = Vec::new();
    for (filename, content_type, bytes) in &inputs {
        ids.push(pipeline.upload(filename, content_type, bytes).await);
    }
    let mut documents = Vec::new();
    for id in &ids {
        documents.push(pipeline.finished(id, Duration::from_secs(120)).await);
    }

    // Assert: every document is ready, with text, de-identified text and an entity summary.
    for ((filename, _, _), document) in inputs.iter().zip(&documents) {
        assert_eq!(document.status, "ready", "{filename}: {document:?}");
        assert!(document.text.as_deref().is_some_and(|t| !t.trim().is_empty()), "{filename}: no text");
        let summary = document.entities.as_ref().and_then(Value::as_object).unwrap();
        assert!(summary.get("PERSON").and_then(Value::as_u64).unwrap_or(0) >= 1, "{filename}: {summary:?}");
        assert!(summary.values().all(Value::is_u64), "{filename}: the summary holds counts only: {summary:?}");
    }
    let [pdf, image, scan, tiff, audio] = &documents[..] else { unreachable!() };
    let truth = LINES.join("\n");
    assert_eq!(cer(&truth, pdf.text.as_deref().unwrap()), 0.0, "the text layer is read exactly: {:?}", pdf.text);
    let image_cer = cer(&truth, image.text.as_deref().unwrap());
    println!("CER of the PNG through the pipeline: {:.2}%", image_cer * 100.0);
    assert!(image_cer < 0.05, "CER {image_cer:.3}: {:?}", image.text);
    assert!(cer(&truth, scan.text.as_deref().unwrap()) < 0.05, "{:?}", scan.text);
    let heard = audio.text.as_deref().unwrap();
    assert!(heard.contains("john smith") && heard.contains("nineteen fifty two"), "the dictation is heard: {heard:?}");
    let tiff_pages: Vec<&str> = tiff.text.as_deref().unwrap().split('\u{c}').collect();
    assert_eq!(tiff_pages.len(), 2, "each TIFF page's text: {tiff_pages:?}");
    assert!(tiff_pages.iter().all(|page| cer(&truth, page) < 0.05), "{tiff_pages:?}");
    for ((filename, _, _), document) in inputs.iter().zip(&documents).take(4) {
        assert_no_phi(filename, document.deidentified.as_deref().unwrap(), &PHI);
    }
    assert_no_phi("dictation.wav", audio.deidentified.as_deref().unwrap(), &DICTATED_PHI);

    // The engines that read them: the text layer directly (no OCR), OCR for the images and the scan, speech.
    let engines: Vec<String> = futures::future::join_all(ids.iter().map(|id| pipeline.item(id)))
        .await
        .iter()
        .map(|item| attribute(item, "extraction_engine").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(engines, ["text-layer", "tesseract", "tesseract", "tesseract", "pocketsphinx"]);

    // Stored encrypted: no PHI value in the table.
    let scan_all = pipeline.dynamodb().scan().table_name(physical(&pipeline.stack, "DocumentsTable")).send().await;
    let stored = format!("{:?}", scan_all.unwrap().items());
    for value in PHI.iter().chain(&DICTATED_PHI) {
        assert!(!stored.contains(value), "{value} is stored in the clear");
    }

    // Each completion was announced on EventBridge, with counts and no value.
    let announced = pipeline.completions(&events).await;
    for id in &ids {
        let event = announced.iter().find(|e| e["detail"]["document_id"] == id.as_str());
        let event = event.unwrap_or_else(|| panic!("no completion event for {id}: {announced:?}"));
        assert_eq!(event["detail-type"], "Document Processed");
        assert_eq!(event["detail"]["status"], "ready");
    }
    let text = serde_json::to_string(&announced).unwrap();
    assert!(!text.contains("Roe") && !text.contains("448812"), "{text}");

    // Nothing of the documents in the workers' logs.
    let logs = ["IngestWorkerFunction", "OcrWorkerFunction", "AsrWorkerFunction", "PhiWorkerFunction"]
        .iter()
        .flat_map(|f| pipeline.stack.logs(f))
        .collect::<Vec<_>>()
        .join("\n");
    for value in PHI.iter().chain(&DICTATED_PHI) {
        assert!(!logs.contains(value), "{value} leaked into the logs");
    }
    pipeline.stack.shutdown().await;
}

#[tokio::test]
async fn uploads_whose_bytes_are_not_what_they_claim_or_cannot_be_read_are_quarantined_with_a_reason() {
    // Arrange: uploads of at most 100 kB are accepted, so that an oversize file stays small.
    let limit = 100_000;
    let pipeline =
        Pipeline::start("pipe-quarantine", &[], &[("MEDVAULT_INTAKE_MAX_FILE_BYTES", &limit.to_string())]).await;
    let dir = tempfile::tempdir().unwrap();
    let png = std::fs::read(text_png(dir.path(), "note.png", &LINES)).unwrap();
    let pdf = text_pdf(dir.path());
    let encrypted = dir.path().join("encrypted.pdf");
    std::fs::write(dir.path().join("plain.pdf"), &pdf).unwrap();
    run(
        "qpdf",
        &["--encrypt", "", "owner-secret", "256", "--", path(&dir.path().join("plain.pdf")), path(&encrypted)],
        "qpdf",
    );
    let truncated = pdf[..pdf.len() / 3].to_vec();
    let zip = zip_archive(dir.path());
    let bomb = png_declaring(60_000, 60_000);
    let mut oversize = png.clone();
    oversize.resize(limit + 20_000, 0);

    // Act
    let uploads = [
        ("dictation.wav", "audio/wav", png.clone()),
        ("locked.pdf", "application/pdf", std::fs::read(&encrypted).unwrap()),
        ("broken.pdf", "application/pdf", truncated),
        ("records.pdf", "application/pdf", zip),
        ("scan.png", "image/png", bomb),
        ("large.png", "image/png", oversize.clone()),
    ];
    let mut ids = Vec::new();
    for (filename, content_type, bytes) in &uploads {
        ids.push(pipeline.upload(filename, content_type, bytes).await);
    }
    let mut documents = Vec::new();
    for id in &ids {
        documents.push(pipeline.finished(id, Duration::from_secs(90)).await);
    }

    // Assert: each quarantined with the reason its bytes give, and nothing extracted.
    let reasons: Vec<(&str, &str)> =
        documents.iter().map(|d| (d.status.as_str(), d.reason.as_deref().unwrap_or_default())).collect();
    let [png_as_wav, locked, broken, zip, bomb, large] = &reasons[..] else { unreachable!() };
    assert_eq!(*png_as_wav, ("quarantined", "the file is image/png but was declared as audio/wav"));
    assert_eq!(*locked, ("quarantined", "the PDF is encrypted"));
    assert!(broken.0 == "quarantined" && broken.1.starts_with("the PDF is malformed"), "{broken:?}");
    assert_eq!(*zip, ("quarantined", "unsupported file type application/zip"));
    assert!(bomb.0 == "quarantined" && bomb.1.starts_with("decompression bomb"), "{bomb:?}");
    let too_large = format!("the file is {} bytes; the limit is {limit}", oversize.len());
    assert_eq!(*large, ("quarantined", too_large.as_str()));
    for document in &documents {
        assert!(document.text.is_none() && document.deidentified.is_none(), "{document:?}");
    }
    // Quarantined for good: acknowledged, not retried into the dead-letter queues (the bomb was refused by the
    // OCR stage, the others by intake). S3's test event, sent when the stack set up the bucket's notifications,
    // was acknowledged the same way.
    for queue in ["IngestQueue", "OcrQueue"] {
        pipeline.drained(queue, Duration::from_secs(30)).await;
    }
    assert_eq!(pipeline.queue_depth("IngestDeadLetterQueue").await, 0);
    assert_eq!(pipeline.queue_depth("OcrDeadLetterQueue").await, 0);
    let ingest = pipeline.stack.logs("IngestWorkerFunction").join("\n");
    assert!(ingest.contains("S3 test event acknowledged"), "{ingest}");
    pipeline.stack.shutdown().await;
}

#[tokio::test]
async fn a_malformed_message_is_retried_alone_while_its_batch_mates_are_done_and_encoded_keys_are_decoded() {
    // Arrange: receives a second apart, so the malformed message reaches the dead-letter queue quickly.
    let pipeline = Pipeline::start("pipe-batch", &[("IngestQueueVisibilityTimeout", "1")], &[]).await;
    pipeline.drained("IngestQueue", Duration::from_secs(30)).await;
    let bucket = physical(&pipeline.stack, "UploadBucket");
    // The key `a+b c/é.pdf` as S3 writes it in a notification: URL-encoded, a space as `+`.
    let notification = json!({ "Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventName": "ObjectCreated:Put",
        "s3": { "bucket": { "name": bucket }, "object": {
            "key": "a%2Bb+c/%C3%A9.pdf", "size": 3, "eTag": "0123456789abcdef", "versionId": "v1", "sequencer": "01"
        } }
    }] });
    let good = aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
        .id("good")
        .message_body(notification.to_string())
        .build()
        .unwrap();
    let malformed = aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
        .id("malformed")
        .message_body("{\"Records\": \"not a list\"}")
        .build()
        .unwrap();

    // Act: both in one batch.
    pipeline
        .sqs()
        .send_message_batch()
        .queue_url(pipeline.queue_url("IngestQueue"))
        .entries(good)
        .entries(malformed)
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    while pipeline.queue_depth("IngestDeadLetterQueue").await == 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "the malformed message never reached the DLQ");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Assert: the batch reported only the malformed message failed; the other was done once and not retried.
    let ingest = pipeline.stack.logs("IngestWorkerFunction").join("\n");
    assert!(ingest.contains("2 records, 1 reported failed"), "one batch of both: {ingest}");
    assert_eq!(ingest.matches("replayed=true").count(), 0, "the good message came back: {ingest}");
    assert_eq!(pipeline.queue_depth("IngestDeadLetterQueue").await, 1);
    let receipt = pipeline.item(&format!("upload#{bucket}/a+b c/é.pdf")).await;
    assert_eq!(attribute(&receipt, "object_key"), Some("a+b c/é.pdf"), "the key is decoded once: {receipt:?}");
    assert_eq!(number(&receipt, "deliveries"), 1);
    pipeline.stack.shutdown().await;
}

#[tokio::test]
async fn the_same_s3_notification_delivered_twice_causes_one_extraction() {
    // Arrange: a short visibility timeout, so a duplicate that meets the first delivery in progress is retried soon.
    let pipeline = Pipeline::start("pipe-dupes", &[("IngestQueueVisibilityTimeout", "3")], &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let png = std::fs::read(text_png(dir.path(), "note.png", &LINES)).unwrap();
    let id = pipeline.upload("note.png", "image/png", &png).await;
    let bucket = physical(&pipeline.stack, "UploadBucket");
    let key = format!("documents/{}/{id}", pipeline.patient);
    let s3 =
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&pipeline.sdk).force_path_style(true).build());
    let head = s3.head_object().bucket(&bucket).key(&key).send().await.unwrap();
    // The notification S3 sent for this upload (the emulator's shape: no version id), sent again, twice.
    let notification = json!({ "Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventName": "ObjectCreated:Put",
        "s3": { "bucket": { "name": bucket }, "object": {
            "key": key, "size": png.len(), "eTag": head.e_tag().unwrap().trim_matches('"')
        } }
    }] });

    // Act
    for _ in 0..2 {
        pipeline
            .sqs()
            .send_message()
            .queue_url(pipeline.queue_url("IngestQueue"))
            .message_body(notification.to_string())
            .send()
            .await
            .unwrap();
    }
    let document = pipeline.finished(&id, Duration::from_secs(90)).await;
    let started = Instant::now();
    while pipeline.queue_depth("IngestQueue").await > 0 || pipeline.queue_depth("OcrQueue").await > 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "the duplicates were never consumed");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Assert: three deliveries, one extraction; the duplicates were answered from the idempotency record.
    assert_eq!(document.status, "ready");
    let item = pipeline.item(&id).await;
    assert_eq!(number(&item, "extractions"), 1, "the text was extracted once");
    let ingest = pipeline.stack.logs("IngestWorkerFunction").join("\n");
    assert!(ingest.matches("replayed=true").count() >= 2, "{ingest}");
    let ocr = pipeline.stack.logs("OcrWorkerFunction").join("\n");
    assert_eq!(ocr.matches("text extracted").count(), 1, "{ocr}");
    assert_eq!(pipeline.queue_depth("IngestDeadLetterQueue").await, 0);
    pipeline.stack.shutdown().await;
}

#[tokio::test]
async fn an_ocr_worker_killed_mid_document_leaves_it_retryable_and_the_redelivery_finishes_it() {
    const PAGES: usize = 8;
    // Arrange: one engine (pages one after another) and a visibility timeout just past the invocation's deadline,
    // when the killed attempt's idempotency claim lapses. The deadline leaves the redelivery room to read every
    // page on a loaded two-core CI machine (about 1 s a page idle, a few under load). The decoded-image budget
    // holds two of the scan's pages (416 kB of grey pixels each), not all of them: OCR must read page by page.
    let pipeline = Pipeline::start(
        "pipe-kill",
        &[("OcrWorkerTimeout", "45"), ("OcrQueueVisibilityTimeout", "46")],
        &[("MEDVAULT_OCR_THREADS", "1"), ("MEDVAULT_INTAKE_MAX_DOCUMENT_INFLATED_BYTES", "1000000")],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pages: Vec<PathBuf> = (0..PAGES)
        .map(|i| {
            let numbered = format!("Page {} of {PAGES}: progress note", i + 1);
            let lines = [numbered.as_str(), LINES[0], LINES[1], LINES[2]];
            text_png(dir.path(), &format!("page-{i}.png"), &lines)
        })
        .collect();
    let id = pipeline.upload("scan.pdf", "application/pdf", &image_pdf(dir.path(), &pages)).await;

    // Act: wait until OCR is part-way through the pages, then SIGKILL every OCR environment.
    let started = Instant::now();
    let (done, total) = loop {
        let item = pipeline.item(&id).await;
        let progress = item.get("progress").and_then(|p| p.as_m().ok());
        let count = |name: &str| {
            progress.and_then(|p| p.get(name)).and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<u32>().ok())
        };
        if let (Some(done), Some(total)) = (count("done"), count("total"))
            && done >= 2
        {
            break (done, total);
        }
        assert!(started.elapsed() < Duration::from_secs(60), "OCR never started: {item:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    pipeline.stack.kill("OcrWorkerFunction").await;
    let killed_at = pipeline.item(&id).await;

    // Assert: killed mid-document, still extracting, then finished by the redelivery with every page.
    assert!(done < total, "the kill came too late to be mid-document ({done} of {total})");
    assert_eq!(attribute(&killed_at, "status"), Some("extracting"));
    let document = pipeline.finished(&id, Duration::from_secs(150)).await;
    assert_eq!(document.status, "ready", "{document:?}");
    let text = document.text.unwrap();
    assert_eq!(text.split('\u{c}').count(), PAGES, "every page's text, page by page");
    for page in 1..=PAGES {
        assert!(text.contains(&format!("Page {page} of {PAGES}")), "page {page} is missing: {text:?}");
    }
    let item = pipeline.item(&id).await;
    assert_eq!(number(&item, "extractions"), 1, "the killed attempt stored nothing");
    let logs = pipeline.stack.logs("OcrWorkerFunction").join("\n");
    assert!(logs.contains("Runtime.ExitError"), "the first attempt died: {logs}");
    assert_no_phi("scan.pdf", document.deidentified.as_deref().unwrap(), &PHI);
    pipeline.stack.shutdown().await;
}

#[tokio::test]
async fn a_job_that_keeps_failing_fails_its_document_lands_in_the_dead_letter_queue_and_a_redrive_finishes_it() {
    // Arrange: the PHI queue deleted, so every OCR attempt fails to hand its text on. Two receives before the
    // dead-letter queue (deployments keep five), ten seconds apart: longer than an attempt takes on a loaded CI
    // machine, so attempts never overlap (an overlapping one would only meet the first one's claim and fail).
    // The stack describes itself in a state file, as `cargo xtask dev` does: the redrive goes through its control
    // API, the way `cargo xtask redrive` reaches a dev stack.
    let state = tempfile::tempdir().unwrap();
    let mut options = StackOptions::for_tests("pipe-redrive");
    options.state_file = Some(state.path().join("dev-stack.json"));
    let parameters = [("OcrQueueVisibilityTimeout", "10"), ("OcrMaxReceiveCount", "2")];
    let pipeline = Pipeline::start_with(options, &parameters, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let png = std::fs::read(text_png(dir.path(), "note.png", &LINES)).unwrap();
    let phi_queue = physical(&pipeline.stack, "PhiQueue");
    let phi_queue_name = phi_queue.rsplit('/').next().unwrap().to_owned();
    pipeline.sqs().delete_queue().queue_url(&phi_queue).send().await.unwrap();

    // Act: the upload fails every receive, then its queue is repaired and its dead letters redriven.
    let id = pipeline.upload("note.png", "image/png", &png).await;
    let failed = pipeline.finished(&id, Duration::from_secs(90)).await;
    let started = Instant::now();
    while pipeline.queue_depth("OcrDeadLetterQueue").await == 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "the job never reached the dead-letter queue");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    pipeline.sqs().create_queue().queue_name(&phi_queue_name).send().await.unwrap();
    let control = DevStack::connect(&state.path().join("dev-stack.json")).await.expect("the stack's control API");
    let redrive = control.redrive("OcrDeadLetterQueue").await.unwrap();
    let finished = pipeline.reaches(&id, "ready", Duration::from_secs(90)).await;

    // Assert
    assert_eq!(failed.status, "failed");
    assert!(failed.reason.as_deref().unwrap().contains("dead-letter queue"), "{failed:?}");
    assert_eq!(redrive, json!({ "moved": 1, "from": "OcrDeadLetterQueue", "to": "OcrQueue" }));
    assert_eq!(finished.status, "ready", "{finished:?}");
    assert!(cer(&LINES.join("\n"), finished.text.as_deref().unwrap()) < 0.05);
    assert_eq!(pipeline.queue_depth("OcrDeadLetterQueue").await, 0);
    pipeline.stack.shutdown().await;
}
