//! pocketsphinx through libpocketsphinx, with the US English model that the PyPI `pocketsphinx` 5.x package ships
//! (`MEDVAULT_ASR_MODEL_DIR`: the folder holding `en-us/`, `en-us.lm.bin` and `cmudict-en-us.dict`).
//!
//! Decoders are loaded once per execution environment, one per core. The `pocketsphinx` crate's decoder is not
//! `Send`, so each lives on its own thread for the life of the process and takes chunks of audio from a shared
//! queue; long audio is cut at quiet points into chunks of equal length that the decoders read side by side.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};

use pocketsphinx::{CmdLn, PsDecoder};

use crate::decode::{Pcm16k, TARGET_RATE};
use crate::{ChunkProgress, Progress, SpeechError};

/// How many pocketsphinx decoders this process has loaded, for tests and metrics.
static MODEL_LOADS: AtomicUsize = AtomicUsize::new(0);

static SHARED: OnceLock<SphinxEngine> = OnceLock::new();

/// Settings of the pocketsphinx engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SphinxConfig {
    /// The model folder (`.../site-packages/pocketsphinx/model/en-us`).
    pub model_dir: PathBuf,
    /// Decoders loaded side by side (one per core).
    pub threads: usize,
    /// Longest chunk handed to one decoder, in seconds. A recording is cut into chunks of equal length, at most
    /// this long and as many as a multiple of `threads` (see [`split_at_quiet_points`]).
    pub chunk_seconds: u32,
}

/// One chunk of audio for a decoder, and where to send its text.
struct Job {
    samples: Vec<i16>,
    reply: mpsc::Sender<Result<String, SpeechError>>,
}

/// pocketsphinx decoders running on their own threads, shared by every transcription in the process.
#[derive(Clone)]
pub struct SphinxEngine {
    queue: mpsc::Sender<Job>,
    threads: usize,
    chunk_samples: usize,
}

impl std::fmt::Debug for SphinxEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SphinxEngine")
            .field("threads", &self.threads)
            .field("chunk_samples", &self.chunk_samples)
            .finish()
    }
}

/// The model files, checked before libpocketsphinx sees them (its loader aborts the process on a missing file).
fn model_files(dir: &Path) -> Result<[PathBuf; 3], SpeechError> {
    let files = [dir.join("en-us"), dir.join("en-us.lm.bin"), dir.join("cmudict-en-us.dict")];
    for file in &files {
        if !file.exists() {
            return Err(SpeechError::Load(format!(
                "{} is missing: MEDVAULT_ASR_MODEL_DIR must name the en-us model folder of the PyPI pocketsphinx package",
                file.display()
            )));
        }
    }
    for part in ["mdef", "means", "variances", "transition_matrices", "feat.params"] {
        if !files[0].join(part).is_file() {
            return Err(SpeechError::Load(format!(
                "{} is missing from the acoustic model",
                files[0].join(part).display()
            )));
        }
    }
    Ok(files)
}

fn load_decoder(files: &[PathBuf; 3]) -> Result<PsDecoder, SpeechError> {
    let path =
        |p: &PathBuf| p.to_str().map(str::to_owned).ok_or_else(|| SpeechError::Load("model path is not UTF-8".into()));
    let (hmm, lm, dict) = (path(&files[0])?, path(&files[1])?, path(&files[2])?);
    let args = ["pocketsphinx", "-hmm", &hmm, "-lm", &lm, "-dict", &dict, "-logfn", "/dev/null"];
    let config =
        CmdLn::init(true, &args).map_err(|_| SpeechError::Load("pocketsphinx rejected its configuration".into()))?;
    let decoder = PsDecoder::init(config);
    MODEL_LOADS.fetch_add(1, Ordering::Relaxed);
    Ok(decoder)
}

fn decode_chunk(decoder: &PsDecoder, samples: &[i16]) -> Result<String, SpeechError> {
    let failed = |step: &str| SpeechError::Decoder(format!("pocketsphinx failed to {step}"));
    decoder.start_utt(None).map_err(|_| failed("start an utterance"))?;
    decoder.process_raw(samples, false, true).map_err(|_| failed("process audio"))?;
    decoder.end_utt().map_err(|_| failed("end the utterance"))?;
    Ok(decoder.get_hyp().map(|(text, _, _)| text).unwrap_or_default())
}

impl SphinxEngine {
    /// Loads `config.threads` decoders, each on its own thread; returns once all are loaded (or one failed).
    pub fn load(config: &SphinxConfig) -> Result<Self, SpeechError> {
        let files = model_files(&config.model_dir)?;
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        let threads = config.threads.max(1);
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), SpeechError>>();
        for index in 0..threads {
            let (files, jobs, ready) = (files.clone(), Arc::clone(&jobs), ready_tx.clone());
            std::thread::Builder::new()
                .name(format!("pocketsphinx-{index}"))
                .spawn(move || {
                    let decoder = match load_decoder(&files) {
                        Ok(decoder) => decoder,
                        Err(error) => {
                            let _ = ready.send(Err(error));
                            return;
                        }
                    };
                    let _ = ready.send(Ok(()));
                    loop {
                        // The lock is held only to take one job, so the decoders work in parallel.
                        let job = match jobs.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        let Ok(job) = job else { return };
                        let _ = job.reply.send(decode_chunk(&decoder, &job.samples));
                    }
                })
                .map_err(|e| SpeechError::Load(format!("could not start a decoder thread: {e}")))?;
        }
        drop(ready_tx);
        for _ in 0..threads {
            ready_rx.recv().map_err(|_| SpeechError::Load("a decoder thread stopped while loading".into()))??;
        }
        let chunk_samples = (config.chunk_seconds.max(2) * TARGET_RATE) as usize;
        Ok(Self { queue, threads, chunk_samples })
    }

    /// The engine of this execution environment, loaded by the first call and reused after.
    pub fn shared(config: &SphinxConfig) -> Result<Self, SpeechError> {
        if let Some(engine) = SHARED.get() {
            return Ok(engine.clone());
        }
        let engine = Self::load(config)?;
        Ok(SHARED.get_or_init(|| engine).clone())
    }

    /// Decoders this process has loaded so far.
    pub fn model_loads() -> usize {
        MODEL_LOADS.load(Ordering::Relaxed)
    }

    pub fn parallelism(&self) -> usize {
        self.threads
    }

    /// Transcribes 16 kHz audio: cut into chunks, decoded in parallel, joined in order. Blocking.
    pub fn transcribe_blocking(&self, audio: &Pcm16k, progress: &Progress) -> Result<String, SpeechError> {
        let chunks = split_at_quiet_points(&audio.samples, self.chunk_samples, self.threads);
        let total = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
        let replies = chunks
            .iter()
            .map(|range| {
                let (reply, answer) = mpsc::channel();
                let job = Job { samples: audio.samples[range.clone()].to_vec(), reply };
                self.queue.send(job).map_err(|_| SpeechError::WorkerLost)?;
                Ok(answer)
            })
            .collect::<Result<Vec<_>, SpeechError>>()?;
        let mut texts = Vec::with_capacity(replies.len());
        for (done, answer) in replies.into_iter().enumerate() {
            let text = answer.recv().map_err(|_| SpeechError::WorkerLost)??;
            if !text.trim().is_empty() {
                texts.push(text.trim().to_owned());
            }
            progress(ChunkProgress { done: u32::try_from(done + 1).unwrap_or(u32::MAX), total });
        }
        Ok(texts.join(" "))
    }
}

/// Shortest chunk worth a decoder of its own: below this, pocketsphinx's cepstral mean has too little audio to
/// settle and the language model too little context, so splitting further costs accuracy for little time.
const MIN_CHUNK_SAMPLES: usize = 4 * TARGET_RATE as usize;

/// How many chunks `len` samples are cut into: enough that none is longer than `max_len` (each cut may move up to
/// an eighth of a chunk to find a quiet point, hence the margin), and a multiple of `decoders` while chunks stay at
/// least [`MIN_CHUNK_SAMPLES`] long, so every decoder gets the same share and none waits for another's last chunk.
fn chunk_count(len: usize, max_len: usize, decoders: usize) -> usize {
    let longest = (max_len * 4 / 5).max(1);
    let needed = len.div_ceil(longest).max(1);
    let decoders = decoders.max(1);
    let balanced = needed.div_ceil(decoders) * decoders;
    if len / balanced >= MIN_CHUNK_SAMPLES { balanced } else { needed.max((len / MIN_CHUNK_SAMPLES).min(decoders)) }
}

/// Cuts `samples` into ranges of about equal length (as many as `chunk_count` says) for `decoders` decoders, none
/// longer than `max_len`; each cut is the quietest 20 ms window within an eighth of a chunk of its even position, so
/// a cut rarely falls inside a word.
pub fn split_at_quiet_points(samples: &[i16], max_len: usize, decoders: usize) -> Vec<std::ops::Range<usize>> {
    const WINDOW: usize = (TARGET_RATE / 50) as usize;
    if samples.is_empty() {
        return Vec::new();
    }
    let count = chunk_count(samples.len(), max_len, decoders);
    let even = samples.len() / count;
    let reach = even / 8;
    let mut ranges = Vec::with_capacity(count);
    let mut start = 0;
    for index in 1..count {
        let ideal = index * samples.len() / count;
        let search_from = (ideal - reach).max(start + WINDOW);
        let search_to = (ideal + reach).min(samples.len() - WINDOW);
        let cut = (search_from..search_to)
            .step_by(WINDOW / 2)
            .min_by_key(|&at| samples[at..at + WINDOW].iter().map(|s| i64::from(*s).abs()).sum::<i64>())
            .map_or(ideal, |at| at + WINDOW / 2);
        ranges.push(start..cut);
        start = cut;
    }
    ranges.push(start..samples.len());
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_audio_is_cut_in_the_quiet_and_nothing_is_lost() {
        // Ten seconds of "speech" (noise) with silence from 4.6 s to 4.8 s; chunks of at most 8 s, one decoder.
        let mut samples: Vec<i16> = (0..160_000).map(|i| ((i * 7919 % 2000) as i16) - 1000).collect();
        samples[73_600..76_800].iter_mut().for_each(|s| *s = 0);

        let ranges = split_at_quiet_points(&samples, 128_000, 1);

        assert_eq!(ranges.len(), 2);
        assert!((73_600..76_800).contains(&ranges[0].end), "cut at {}", ranges[0].end);
        assert_eq!(ranges[0].start, 0);
        assert_eq!(ranges[0].end, ranges[1].start);
        assert_eq!(ranges[1].end, samples.len());
    }

    #[test]
    fn every_decoder_gets_an_equal_share_and_no_chunk_is_too_long() {
        // 55 s with 20 s chunks: three chunks would leave one of two decoders idle for a third of the time.
        let samples: Vec<i16> = (0..55 * 16_000_u64).map(|i| ((i * 7919 % 2000) as i16) - 1000).collect();
        for decoders in [1, 2, 4] {
            let ranges = split_at_quiet_points(&samples, 20 * 16_000, decoders);
            assert_eq!(ranges.len() % decoders, 0, "{decoders} decoders: {} chunks", ranges.len());
            assert!(ranges.iter().all(|r| r.len() <= 20 * 16_000), "{ranges:?}");
            let (shortest, longest) = (ranges.iter().map(|r| r.len()).min(), ranges.iter().map(|r| r.len()).max());
            assert!(longest.unwrap() - shortest.unwrap() <= samples.len() / ranges.len() / 3, "{ranges:?}");
            assert_eq!(ranges.first().map(|r| r.start), Some(0));
            assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
            assert_eq!(ranges.last().map(|r| r.end), Some(samples.len()));
        }
        // Short audio is not cut below four seconds a chunk, and empty audio has no chunk.
        assert_eq!(split_at_quiet_points(&samples[..6 * 16_000], 20 * 16_000, 2).len(), 1);
        assert_eq!(split_at_quiet_points(&samples[..9 * 16_000], 20 * 16_000, 2).len(), 2);
        assert!(split_at_quiet_points(&[], 20 * 16_000, 2).is_empty());
    }
}
