//! Images for OCR: uploaded PNG, JPEG and TIFF files (every TIFF page), checked against the pixel limit from
//! their headers before anything is decoded, then decoded in pure Rust to 8-bit greyscale PGM pages, which
//! Tesseract reads without a second decode.

use std::fmt;
use std::io::Cursor;

use image::{ImageDecoder, ImageFormat, ImageReader};

use crate::kind::FileKind;
use crate::limits::Limits;
use crate::refusal::{Bomb, Refusal};

/// One page's pixels, ready for OCR: an encoded image in a format that leptonica and Textract read.
#[derive(Clone, PartialEq, Eq)]
pub struct PageImage {
    /// 1-based page number in the document.
    pub page: u32,
    pub width: u32,
    pub height: u32,
    /// A binary PGM (`P5`) image: 8-bit greyscale.
    pub pgm: Vec<u8>,
}

impl fmt::Debug for PageImage {
    // The pixels are a picture of PHI: only their shape is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageImage")
            .field("page", &self.page)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("bytes", &self.pgm.len())
            .finish()
    }
}

impl PageImage {
    /// Builds a PGM page from 8-bit grey pixels, row by row.
    pub fn from_gray(page: u32, width: u32, height: u32, pixels: &[u8]) -> Self {
        let header = format!("P5\n{width} {height}\n255\n");
        let mut pgm = Vec::with_capacity(header.len() + pixels.len());
        pgm.extend_from_slice(header.as_bytes());
        pgm.extend_from_slice(pixels);
        Self { page, width, height, pgm }
    }

    /// The grey pixels, row by row, without the PGM header.
    pub fn pixels(&self) -> &[u8] {
        let len = self.width as usize * self.height as usize;
        &self.pgm[self.pgm.len().saturating_sub(len)..]
    }
}

/// Refuses an image whose declared size is over the pixel limit.
pub(crate) fn check_pixels(width: u64, height: u64, limits: &Limits) -> Result<(), Refusal> {
    let pixels = width.saturating_mul(height);
    if pixels > limits.max_pixels {
        return Err(Refusal::DecompressionBomb(Bomb::Pixels { width, height, limit: limits.max_pixels }));
    }
    Ok(())
}

/// Decoder limits derived from ours, so the `image` crate itself also refuses to allocate past them.
fn decoder_limits(limits: &Limits) -> image::Limits {
    let mut decoder = image::Limits::default();
    decoder.max_alloc = Some(decoder_budget(limits));
    decoder
}

/// Four bytes a pixel covers RGBA8, the widest layout of the formats accepted, plus room for the decoder's state.
fn decoder_budget(limits: &Limits) -> u64 {
    limits.max_pixels.saturating_mul(4).saturating_add(1 << 20)
}

/// Reads a PNG or JPEG upload into one page, after checking its header against the pixel limit.
pub fn single_image(kind: FileKind, bytes: &[u8], limits: &Limits) -> Result<Vec<PageImage>, Refusal> {
    let format = match kind {
        FileKind::Png => ImageFormat::Png,
        FileKind::Jpeg => ImageFormat::Jpeg,
        FileKind::Tiff => return tiff_pages(bytes, limits),
        other => return Err(Refusal::UnsupportedType { detected: other.media_type().to_owned() }),
    };
    let gray = decode_gray(format, bytes, limits).map_err(|e| e.into_refusal(kind, limits))?;
    Ok(vec![PageImage::from_gray(1, gray.width(), gray.height(), gray.as_raw())])
}

/// Decodes an encoded image (PNG, JPEG, TIFF first page) to 8-bit grey, checking the header's size first.
pub(crate) fn decode_gray(format: ImageFormat, bytes: &[u8], limits: &Limits) -> Result<image::GrayImage, DecodeError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits(limits));
    let decoder = reader.into_decoder().map_err(DecodeError::Image)?;
    let (width, height) = decoder.dimensions();
    check_pixels(u64::from(width), u64::from(height), limits).map_err(DecodeError::Refused)?;
    let image = image::DynamicImage::from_decoder(decoder).map_err(DecodeError::Image)?;
    Ok(image.into_luma8())
}

/// Every page of a TIFF, each checked against the pixel limit and the page limit before it is decoded.
fn tiff_pages(bytes: &[u8], limits: &Limits) -> Result<Vec<PageImage>, Refusal> {
    let reader = TiffReader::open(bytes, limits)?;
    (0..reader.page_count()).map(|index| reader.page(index)).collect()
}

/// A TIFF whose pages are decoded one at a time (a multi-page scan need not be held whole).
///
/// The `image` crate decodes one TIFF page; walking the directories (IFDs) of a multi-page scan needs the `tiff`
/// crate underneath it, which `image` re-exports through its TIFF decoder only for the first page. Each page is
/// therefore located by its IFD offset and handed to `image` as a one-page TIFF view.
#[derive(Debug)]
pub struct TiffReader<'a> {
    bytes: &'a [u8],
    offsets: Vec<usize>,
    limits: Limits,
}

impl<'a> TiffReader<'a> {
    /// Finds the pages (at most [`Limits::max_pages`]) without decoding any.
    pub fn open(bytes: &'a [u8], limits: &Limits) -> Result<Self, Refusal> {
        let offsets = tiff_ifd_offsets(bytes, limits).map_err(|d| Refusal::malformed_image(FileKind::Tiff, d))?;
        Ok(Self { bytes, offsets, limits: limits.clone() })
    }

    pub fn page_count(&self) -> usize {
        self.offsets.len()
    }

    /// Decodes the page at `index` (0-based) to grey, after checking its size against the pixel limit.
    pub fn page(&self, index: usize) -> Result<PageImage, Refusal> {
        use image::codecs::tiff::TiffDecoder;

        let offset = *self
            .offsets
            .get(index)
            .ok_or_else(|| Refusal::malformed_image(FileKind::Tiff, format!("no page at index {index}")))?;
        let view = with_first_ifd(self.bytes, offset);
        let mut decoder =
            TiffDecoder::new(Cursor::new(&view[..])).map_err(|e| Refusal::malformed_image(FileKind::Tiff, e))?;
        decoder.set_limits(decoder_limits(&self.limits)).map_err(|e| Refusal::malformed_image(FileKind::Tiff, e))?;
        let (width, height) = decoder.dimensions();
        check_pixels(u64::from(width), u64::from(height), &self.limits)?;
        let image = image::DynamicImage::from_decoder(decoder)
            .map_err(|e| Refusal::malformed_image(FileKind::Tiff, e))?
            .into_luma8();
        let page = u32::try_from(index + 1).unwrap_or(u32::MAX);
        Ok(PageImage::from_gray(page, image.width(), image.height(), image.as_raw()))
    }
}

/// The offsets of a TIFF's image file directories, in order; refuses more than `max_pages` and loops.
/// Hand-written because neither `image` nor `tiff` exposes the page count without decoding every page; the
/// header is eight bytes and each directory a count plus 12-byte entries (TIFF 6.0, section 2).
fn tiff_ifd_offsets(bytes: &[u8], limits: &Limits) -> Result<Vec<usize>, String> {
    let little = match bytes.get(..4) {
        Some([b'I', b'I', 42, 0]) => true,
        Some([b'M', b'M', 0, 42]) => false,
        _ => return Err("not a classic TIFF header".into()),
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if little { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    };
    let mut offsets = Vec::new();
    let mut next = u32_at(4).ok_or("truncated header")? as usize;
    while next != 0 {
        if offsets.contains(&next) {
            return Err("the directory chain loops".into());
        }
        if offsets.len() >= limits.max_pages as usize {
            return Err(format!("more than {} pages", limits.max_pages));
        }
        let entries = u16_at(next).ok_or("directory beyond the end of the file")? as usize;
        offsets.push(next);
        next = u32_at(next + 2 + entries * 12).ok_or("directory beyond the end of the file")? as usize;
    }
    if offsets.is_empty() {
        return Err("no image directory".into());
    }
    Ok(offsets)
}

/// The TIFF with its header pointing at the directory at `offset`, so a one-page decoder reads that page.
fn with_first_ifd(bytes: &[u8], offset: usize) -> Vec<u8> {
    let mut view = bytes.to_vec();
    let little = view.starts_with(b"II");
    let raw = u32::try_from(offset).unwrap_or(0);
    let encoded = if little { raw.to_le_bytes() } else { raw.to_be_bytes() };
    if let Some(slot) = view.get_mut(4..8) {
        slot.copy_from_slice(&encoded);
    }
    view
}

/// Why an image could not be decoded.
#[derive(Debug)]
pub(crate) enum DecodeError {
    Refused(Refusal),
    Image(image::ImageError),
}

impl DecodeError {
    pub(crate) fn into_refusal(self, kind: FileKind, limits: &Limits) -> Refusal {
        match self {
            Self::Refused(refusal) => refusal,
            Self::Image(image::ImageError::Limits(_)) => {
                Refusal::DecompressionBomb(Bomb::DecoderAllocation { limit: decoder_budget(limits) })
            }
            Self::Image(error) => Refusal::malformed_image(kind, error),
        }
    }
}
