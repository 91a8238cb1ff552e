//! Tesseract through libtesseract (`leptess`): engines and the language model are loaded once per execution
//! environment (a warm Lambda container reuses them), one engine per core; a document's pages are read in
//! parallel, each engine reading one page at a time.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use leptess::{LepTess, Variable};
use medvault_intake::PageImage;

use crate::config::TesseractConfig;
use crate::{OcrDocument, OcrEngine, OcrError, OcrPage, OcrRequest, PageProgress, Progress};

/// How many Tesseract engines this process has loaded (model files read), for tests and metrics.
static MODEL_LOADS: AtomicUsize = AtomicUsize::new(0);

/// The process's shared engine, loaded on first use.
static SHARED: OnceLock<TesseractEngine> = OnceLock::new();

/// Tesseract engines loaded once and reused for every document.
#[derive(Clone)]
pub struct TesseractEngine {
    inner: Arc<Inner>,
}

struct Inner {
    engines: Vec<Mutex<LepTess>>,
    max_pages: u32,
    dpi: i32,
}

impl std::fmt::Debug for TesseractEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TesseractEngine")
            .field("engines", &self.inner.engines.len())
            .field("max_pages", &self.inner.max_pages)
            .finish()
    }
}

impl TesseractEngine {
    /// Loads `config.threads` engines with the configured model.
    pub fn load(config: &TesseractConfig) -> Result<Self, OcrError> {
        let data_dir = match &config.data_dir {
            Some(dir) => {
                let model = dir.join(format!("{}.traineddata", config.language));
                if !model.is_file() {
                    return Err(OcrError::Load(format!("{} does not exist", model.display())));
                }
                Some(dir.to_str().ok_or_else(|| OcrError::Load("the tessdata path is not UTF-8".into()))?.to_owned())
            }
            None => None,
        };
        let engines = (0..config.threads.max(1))
            .map(|_| {
                let mut engine = LepTess::new(data_dir.as_deref(), &config.language).map_err(|e| {
                    OcrError::Load(format!("libtesseract could not load language {:?}: {e}", config.language))
                })?;
                engine.set_variable(Variable::TesseditPagesegMode, &config.page_segmentation.to_string()).map_err(
                    |_| OcrError::Load(format!("invalid page segmentation mode {}", config.page_segmentation)),
                )?;
                MODEL_LOADS.fetch_add(1, Ordering::Relaxed);
                Ok(Mutex::new(engine))
            })
            .collect::<Result<Vec<_>, OcrError>>()?;
        let dpi = i32::try_from(config.dpi).unwrap_or(300);
        Ok(Self { inner: Arc::new(Inner { engines, max_pages: config.max_pages, dpi }) })
    }

    /// The engine of this execution environment: loaded by the first call, reused by every later one (the
    /// configuration of later calls is ignored: there is one per process).
    pub fn shared(config: &TesseractConfig) -> Result<Self, OcrError> {
        if let Some(engine) = SHARED.get() {
            return Ok(engine.clone());
        }
        let engine = Self::load(config)?;
        // Two first calls racing both load; one wins and the other's engines are dropped.
        Ok(SHARED.get_or_init(|| engine).clone())
    }

    /// How many engines this process has loaded so far.
    pub fn model_loads() -> usize {
        MODEL_LOADS.load(Ordering::Relaxed)
    }

    /// Most pages one document may send to this engine.
    pub fn max_pages(&self) -> u32 {
        self.inner.max_pages
    }

    /// Engines working side by side.
    pub fn parallelism(&self) -> usize {
        self.inner.engines.len()
    }

    /// Reads pages on the calling thread and the engines' worker threads; blocking.
    pub fn recognize_blocking(&self, pages: &[PageImage], progress: &Progress) -> Result<OcrDocument, OcrError> {
        let total = pages.len();
        if total as u64 > u64::from(self.inner.max_pages) {
            return Err(OcrError::TooManyPages { pages: total as u64, limit: u64::from(self.inner.max_pages) });
        }
        let total_u32 = u32::try_from(total).unwrap_or(u32::MAX);
        let next = AtomicUsize::new(0);
        let done = AtomicU32::new(0);
        let results: Vec<Mutex<Option<Result<OcrPage, OcrError>>>> = (0..total).map(|_| Mutex::new(None)).collect();
        let workers = self.inner.engines.len().min(total);
        std::thread::scope(|scope| {
            for engine in self.inner.engines.iter().take(workers) {
                let (next, done, results) = (&next, &done, &results);
                scope.spawn(move || {
                    // A poisoned lock only means another document's page panicked inside libtesseract's
                    // wrapper; the engine itself holds no half-updated Rust state.
                    let mut engine = engine.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(page) = pages.get(index) else { break };
                        let result = read_page(&mut engine, page, self.inner.dpi);
                        if let Some(slot) = results.get(index) {
                            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                        }
                        let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                        progress(PageProgress { done: finished, total: total_u32 });
                    }
                });
            }
        });
        let pages = results
            .into_iter()
            .map(|slot| slot.into_inner().unwrap_or_else(|p| p.into_inner()).unwrap_or(Err(OcrError::WorkerLost)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OcrDocument { pages })
    }
}

/// Reads one page with one engine.
fn read_page(engine: &mut LepTess, page: &PageImage, dpi: i32) -> Result<OcrPage, OcrError> {
    let failed = |detail: String| OcrError::Page { page: page.page, detail };
    engine.set_image_from_mem(&page.pgm).map_err(|e| failed(format!("leptonica could not read the image: {e}")))?;
    engine.set_source_resolution(dpi);
    let text = engine.get_utf8_text().map_err(|e| failed(format!("the text is not UTF-8: {e}")))?;
    let confidence = engine.mean_text_conf();
    Ok(OcrPage { page: page.page, text: text.trim_end().to_owned(), confidence: Some(confidence as f32) })
}

impl OcrEngine for TesseractEngine {
    fn name(&self) -> &'static str {
        "tesseract"
    }

    async fn recognize(&self, request: OcrRequest, progress: Progress) -> Result<OcrDocument, OcrError> {
        let engine = self.clone();
        tokio::task::spawn_blocking(move || engine.recognize_blocking(&request.pages, &progress))
            .await
            .map_err(|_| OcrError::WorkerLost)?
    }
}
