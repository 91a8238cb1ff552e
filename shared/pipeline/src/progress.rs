//! Extraction progress on the document while it is `extracting`: engines report pages or chunks from their own
//! threads; the latest value is written by one task, so a burst of reports becomes one write.

use std::sync::Arc;
use std::time::Duration;

use medvault_records::model::DocumentId;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::documents::DocumentStore;

/// Writes `done`/`total` to the document as the engine reports it.
#[derive(Debug)]
pub struct ProgressWriter {
    sender: Arc<watch::Sender<Option<(u32, u32)>>>,
    task: JoinHandle<()>,
}

impl ProgressWriter {
    /// Starts the writer for the document's version; `unit` names what is counted (`pages`, `chunks`).
    pub fn start(store: DocumentStore, id: DocumentId, version: String, unit: &'static str) -> Self {
        let (sender, mut receiver) = watch::channel(None);
        let task = tokio::spawn(async move {
            while receiver.changed().await.is_ok() {
                let Some((done, total)) = *receiver.borrow_and_update() else { continue };
                // Progress is advisory: a failed write is logged and the next report tries again.
                if let Err(error) = store.progress(id, &version, done, total, unit).await {
                    tracing::warn!(document = %id, error = %medvault_platform::error::chain(&error), "progress not recorded");
                }
            }
        });
        Self { sender: Arc::new(sender), task }
    }

    /// A callback for the engine (any thread).
    pub fn reporter(&self) -> impl Fn(u32, u32) + Send + Sync + 'static {
        let sender = Arc::clone(&self.sender);
        move |done, total| {
            sender.send_replace(Some((done, total)));
        }
    }

    /// Waits (briefly) until the last reported value is written.
    pub async fn finish(self) {
        drop(self.sender);
        let mut task = self.task;
        // An engine that kept its callback alive would keep the channel open: stop waiting for it.
        if tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err() {
            task.abort();
        }
    }
}
