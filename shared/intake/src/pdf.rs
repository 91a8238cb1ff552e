//! PDFs: refuse encrypted, malformed and bomb-like files, read each page's text layer directly (the fast path),
//! and extract the page images of pages whose text layer is missing or too thin, for OCR.
//!
//! Parsing is `lopdf`'s, with its decompression limits. Text is read by walking the page's content operators with
//! lopdf's font decoding (ToUnicode maps, standard encodings): lopdf's own `extract_text` drops the line structure
//! (a moved text line runs into the next, e.g. `03/14/1961MRN 448812`), which would hide dates and record numbers
//! from PHI detection, and `pdf-extract` pulls in an older lopdf without decompression limits and panics on
//! malformed input.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;

use lopdf::content::Content;
use lopdf::{Document, Encoding, LoadOptions, Object};

use crate::limits::Limits;
use crate::raster::{self, PageImage};
use crate::refusal::{Bomb, Refusal};

/// A PDF's pages, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfDocument {
    pub pages: Vec<PdfPage>,
}

/// One page: its text layer, and its images when the text layer is too thin to stand on its own.
#[derive(Clone, PartialEq, Eq)]
pub struct PdfPage {
    /// 1-based page number.
    pub number: u32,
    /// The text layer as read (PHI: never log it).
    pub text: String,
    /// Whether the text layer has fewer letters and digits than [`Limits::min_text_chars_per_page`].
    pub needs_ocr: bool,
    /// The page's images, decoded for OCR; filled only when `needs_ocr`.
    pub images: Vec<PageImage>,
}

impl fmt::Debug for PdfPage {
    // The text is PHI: only its size is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PdfPage")
            .field("number", &self.number)
            .field("text_chars", &self.text.chars().count())
            .field("needs_ocr", &self.needs_ocr)
            .field("images", &self.images)
            .finish()
    }
}

impl PdfDocument {
    /// The pages that need OCR.
    pub fn pages_needing_ocr(&self) -> impl Iterator<Item = &PdfPage> {
        self.pages.iter().filter(|p| p.needs_ocr)
    }
}

/// Counts inflated bytes against a limit: a whole document's, or one page's images.
struct InflationBudget {
    used: Cell<u64>,
    limit: u64,
}

impl InflationBudget {
    fn new(limit: u64) -> Self {
        Self { used: Cell::new(0), limit }
    }

    fn spend(&self, bytes: usize) -> Result<(), Refusal> {
        let used = self.used.get().saturating_add(bytes as u64);
        self.used.set(used);
        if used > self.limit {
            return Err(Refusal::DecompressionBomb(Bomb::PdfDocument { limit: self.limit }));
        }
        Ok(())
    }
}

/// A parsed PDF whose pages are read one at a time, so that OCR can hold a few pages' images instead of a whole
/// scan's: [`Limits::max_document_inflated_bytes`] then bounds the text streams of the document and the images of
/// each page, rather than every image of every page at once.
pub struct PdfReader {
    document: Document,
    pages: Vec<(u32, lopdf::ObjectId)>,
    limits: Limits,
    text_budget: InflationBudget,
}

impl fmt::Debug for PdfReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PdfReader").field("pages", &self.pages.len()).finish_non_exhaustive()
    }
}

impl PdfReader {
    /// Parses the PDF and checks what can be checked before any page is read: encryption, structure, page count.
    pub fn open(bytes: &[u8], limits: &Limits) -> Result<Self, Refusal> {
        let document = load(bytes, limits)?;
        let pages: Vec<(u32, lopdf::ObjectId)> = document.get_pages().into_iter().collect();
        if pages.len() as u64 > u64::from(limits.max_pages) {
            return Err(Refusal::TooManyPages { pages: pages.len() as u64, limit: u64::from(limits.max_pages) });
        }
        if pages.is_empty() {
            return Err(Refusal::malformed_pdf("the document has no pages"));
        }
        let text_budget = InflationBudget::new(limits.max_document_inflated_bytes);
        Ok(Self { document, pages, limits: limits.clone(), text_budget })
    }

    /// How many pages the document has.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Reads the page at `index` (0-based; its `number` is 1-based): its text, and its images when the text layer
    /// is too thin. The images count against a budget of this page's own; the caller drops them once read.
    pub fn page(&self, index: usize) -> Result<PdfPage, Refusal> {
        self.read_page(index, &InflationBudget::new(self.limits.max_document_inflated_bytes))
    }

    fn read_page(&self, index: usize, image_budget: &InflationBudget) -> Result<PdfPage, Refusal> {
        let &(number, page_id) =
            self.pages.get(index).ok_or_else(|| Refusal::malformed_pdf(format!("no page at index {index}")))?;
        let text = page_text(&self.document, page_id, &self.limits, &self.text_budget)?;
        let meaningful = text.chars().filter(|c| c.is_alphanumeric()).count();
        let needs_ocr = meaningful < self.limits.min_text_chars_per_page;
        let images = if needs_ocr {
            page_images(&self.document, number, page_id, &self.limits, image_budget)?
        } else {
            Vec::new()
        };
        Ok(PdfPage { number, text, needs_ocr, images })
    }
}

/// Reads a PDF whole: every page's text, and the images of the pages that need OCR, all of them counted against
/// one budget (they are all held at once).
pub fn read(bytes: &[u8], limits: &Limits) -> Result<PdfDocument, Refusal> {
    let reader = PdfReader::open(bytes, limits)?;
    let pages = (0..reader.page_count())
        .map(|index| reader.read_page(index, &reader.text_budget))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PdfDocument { pages })
}

fn load(bytes: &[u8], limits: &Limits) -> Result<Document, Refusal> {
    let stream_limit = usize::try_from(limits.max_stream_bytes).unwrap_or(usize::MAX);
    let options = LoadOptions { max_decompressed_size: Some(stream_limit), ..LoadOptions::default() };
    let document = Document::load_mem_with_options(bytes, options).map_err(|e| load_refusal(e, limits))?;
    // Any security handler counts, even an owner password with an empty user password: medvault cannot tell
    // whether its decryption of every stream is complete, and the sender can export an unprotected copy.
    if document.is_encrypted() || document.was_encrypted() {
        return Err(Refusal::EncryptedPdf);
    }
    Ok(document)
}

fn load_refusal(error: lopdf::Error, limits: &Limits) -> Refusal {
    match error {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword | lopdf::Error::AlreadyEncrypted => {
            Refusal::EncryptedPdf
        }
        error => stream_refusal(error, limits),
    }
}

fn stream_refusal(error: lopdf::Error, limits: &Limits) -> Refusal {
    match error {
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => {
            Refusal::DecompressionBomb(Bomb::PdfStream { limit: limits.max_stream_bytes })
        }
        error => Refusal::malformed_pdf(error),
    }
}

fn stream_limit(limits: &Limits) -> usize {
    usize::try_from(limits.max_stream_bytes).unwrap_or(usize::MAX)
}

/// Where the text cursor is, enough to tell a new line from more text on the same line.
#[derive(Debug, Default)]
struct TextCursor {
    line_y: f32,
    leading: f32,
    emitted_y: Option<f32>,
}

/// The text layer of one page, with a line break wherever the text moves to another line.
fn page_text(
    document: &Document,
    page_id: lopdf::ObjectId,
    limits: &Limits,
    budget: &InflationBudget,
) -> Result<String, Refusal> {
    let fonts = document.get_page_fonts(page_id).map_err(Refusal::malformed_pdf)?;
    let mut encodings: BTreeMap<Vec<u8>, Encoding<'_>> = BTreeMap::new();
    for (name, font) in fonts {
        // A font whose encoding cannot be read leaves its text out rather than failing the page: the page then
        // looks thin and goes to OCR, which reads what the font could not say.
        if let Ok(encoding) = font.get_font_encoding_with_limit(document, stream_limit(limits)) {
            encodings.insert(name, encoding);
        }
    }
    let content =
        document.get_page_content_with_limit(page_id, stream_limit(limits)).map_err(|e| stream_refusal(e, limits))?;
    budget.spend(content.len())?;
    let content = Content::decode(&content).map_err(Refusal::malformed_pdf)?;

    let mut text = String::new();
    let mut cursor = TextCursor::default();
    let mut encoding: Option<&Encoding<'_>> = None;
    for operation in &content.operations {
        let operands = &operation.operands;
        match operation.operator.as_str() {
            "BT" => cursor.line_y = 0.0,
            "Tf" => encoding = operands.first().and_then(|o| o.as_name().ok()).and_then(|n| encodings.get(n)),
            "TL" => cursor.leading = number(operands.first()),
            "Td" => cursor.line_y += number(operands.get(1)),
            "TD" => {
                let ty = number(operands.get(1));
                cursor.leading = -ty;
                cursor.line_y += ty;
            }
            "Tm" => cursor.line_y = number(operands.get(5)),
            "T*" => cursor.line_y -= cursor.leading,
            "Tj" | "TJ" | "'" | "\"" => {
                if matches!(operation.operator.as_str(), "'" | "\"") {
                    cursor.line_y -= cursor.leading;
                }
                let Some(encoding) = encoding else { continue };
                if cursor.emitted_y.is_some_and(|y| (y - cursor.line_y).abs() > 0.01) {
                    push_break(&mut text, '\n');
                }
                cursor.emitted_y = Some(cursor.line_y);
                let shown = if operation.operator == "\"" { operands.get(2..).unwrap_or(&[]) } else { operands };
                show(&mut text, encoding, shown);
            }
            "ET" => {}
            _ => {}
        }
    }
    Ok(text.trim_end().to_owned())
}

/// Appends shown strings; a `TJ` adjustment wider than a fifth of an em is a word gap, so it becomes a space.
fn show(text: &mut String, encoding: &Encoding<'_>, operands: &[Object]) {
    for operand in operands {
        match operand {
            Object::String(bytes, _) => {
                // Undecodable bytes are left out, as a viewer would show nothing readable for them.
                let _ = encoding.write_to_string(bytes, text);
            }
            Object::Array(items) => show(text, encoding, items),
            Object::Integer(_) | Object::Real(_) if number(Some(operand)) < -200.0 => push_break(text, ' '),
            _ => {}
        }
    }
}

fn push_break(text: &mut String, separator: char) {
    if !text.is_empty() && !text.ends_with(char::is_whitespace) {
        text.push(separator);
    } else if separator == '\n' && text.ends_with(' ') {
        text.pop();
        text.push('\n');
    }
}

fn number(object: Option<&Object>) -> f32 {
    object.and_then(|o| o.as_float().ok()).unwrap_or(0.0)
}

/// The page's image XObjects, decoded to grey pages for OCR.
fn page_images(
    document: &Document,
    number: u32,
    page_id: lopdf::ObjectId,
    limits: &Limits,
    budget: &InflationBudget,
) -> Result<Vec<PageImage>, Refusal> {
    let images = document.get_page_images(page_id).map_err(Refusal::malformed_pdf)?;
    let mut out = Vec::with_capacity(images.len());
    for image in images {
        let width = u64::try_from(image.width).map_err(|_| Refusal::malformed_pdf("negative image width"))?;
        let height = u64::try_from(image.height).map_err(|_| Refusal::malformed_pdf("negative image height"))?;
        raster::check_pixels(width, height, limits)?;
        let filters = image.filters.clone().unwrap_or_default();
        let page = match filters.last().map(String::as_str) {
            Some("DCTDecode") => {
                let jpeg = if filters.len() > 1 {
                    // A JPEG wrapped in another filter (rare): undo the outer ones first.
                    let stream =
                        document.get_object(image.id).and_then(Object::as_stream).map_err(Refusal::malformed_pdf)?;
                    let mut outer = stream.clone();
                    outer.dict.set(
                        "Filter",
                        Object::Array(
                            filters[..filters.len() - 1].iter().map(|f| Object::Name(f.as_bytes().to_vec())).collect(),
                        ),
                    );
                    outer
                        .decompressed_content_with_limit(stream_limit(limits))
                        .map_err(|e| stream_refusal(e, limits))?
                } else {
                    image.content.to_vec()
                };
                let gray = raster::decode_gray(image::ImageFormat::Jpeg, &jpeg, limits)
                    .map_err(|e| e.into_refusal(crate::FileKind::Pdf, limits))?;
                budget.spend(gray.as_raw().len())?;
                PageImage::from_gray(number, gray.width(), gray.height(), gray.as_raw())
            }
            None | Some("FlateDecode" | "LZWDecode" | "RunLengthDecode" | "ASCII85Decode" | "ASCIIHexDecode") => {
                raw_image(document, &image, number, limits, budget)?
            }
            Some(other) => return Err(Refusal::UnsupportedImageEncoding { encoding: other.to_owned() }),
        };
        out.push(page);
    }
    Ok(out)
}

/// An uncompressed-after-filters image: 1 or 8 bits per component, grey, RGB or CMYK, converted to 8-bit grey.
fn raw_image(
    document: &Document,
    image: &lopdf::xobject::PdfImage<'_>,
    number: u32,
    limits: &Limits,
    budget: &InflationBudget,
) -> Result<PageImage, Refusal> {
    let (width, height) = (image.width as usize, image.height as usize);
    let bits = image.bits_per_component.unwrap_or(8);
    let stream = document.get_object(image.id).and_then(Object::as_stream).map_err(Refusal::malformed_pdf)?;
    let data = if stream.filters().map(|f| f.is_empty()).unwrap_or(true) {
        stream.content.clone()
    } else {
        // Never more than the pixels can need (four 8-bit components) plus predictor bytes, nor the stream limit.
        let need = width.saturating_mul(height).saturating_mul(4).saturating_add(height);
        let limit = need.min(stream_limit(limits)).max(1);
        stream.decompressed_content_with_limit(limit).map_err(|e| stream_refusal(e, limits))?
    };
    budget.spend(data.len())?;
    let pixels = width * height;
    let gray: Vec<u8> = match (bits, image.color_space.as_deref()) {
        (1, _) => {
            let row = width.div_ceil(8);
            if data.len() < row * height {
                return Err(Refusal::malformed_pdf("image data shorter than its size"));
            }
            // In DeviceGray a set bit is white; the Decode array that flips it is honoured below.
            let inverted = decode_inverted(stream);
            (0..height)
                .flat_map(|y| (0..width).map(move |x| (y, x)))
                .map(|(y, x)| {
                    let bit = (data[y * row + x / 8] >> (7 - (x % 8))) & 1 == 1;
                    if bit != inverted { 255 } else { 0 }
                })
                .collect()
        }
        (8, space) => {
            let components = match space {
                Some("DeviceGray" | "CalGray") => 1,
                Some("DeviceRGB" | "CalRGB") => 3,
                Some("DeviceCMYK") => 4,
                // ICC-based and other spaces: the data length tells how many components each pixel has.
                _ if pixels > 0 => data.len() / pixels,
                _ => 0,
            };
            if components == 0 || !matches!(components, 1 | 3 | 4) || data.len() < pixels * components {
                return Err(Refusal::UnsupportedImageEncoding {
                    encoding: format!("{} colour space", space.unwrap_or("unknown")),
                });
            }
            data.chunks_exact(components).take(pixels).map(to_gray).collect()
        }
        (bits, _) => return Err(Refusal::UnsupportedImageEncoding { encoding: format!("{bits} bits per component") }),
    };
    Ok(PageImage::from_gray(number, width as u32, height as u32, &gray))
}

fn decode_inverted(stream: &lopdf::Stream) -> bool {
    let decode = stream.dict.get(b"Decode").and_then(Object::as_array);
    decode.is_ok_and(|d| d.first().and_then(|o| o.as_float().ok()) == Some(1.0))
}

/// ITU-R BT.601 luma from grey, RGB or CMYK components.
fn to_gray(px: &[u8]) -> u8 {
    let luma = |r: f32, g: f32, b: f32| (0.299 * r + 0.587 * g + 0.114 * b).round().clamp(0.0, 255.0) as u8;
    match px {
        [g] => *g,
        [r, g, b] => luma(f32::from(*r), f32::from(*g), f32::from(*b)),
        [c, m, y, k] => {
            let k = f32::from(*k);
            let channel = |v: u8| (255.0 - f32::from(v)) * (255.0 - k) / 255.0;
            luma(channel(*c), channel(*m), channel(*y))
        }
        _ => 0,
    }
}
