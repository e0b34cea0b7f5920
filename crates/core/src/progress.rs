//! Long work says how far it is and can be stopped: importing several
//! bundles, printing a PDF, exporting a workbook or CSV files.
//!
//! The work reports [`Step`]s (done of total, and what it is doing, a code
//! the window translates) to whoever asked, and looks at a [`Cancel`]
//! token only where stopping writes nothing: between two bundles (each one
//! is its own transaction, never cut), before a file is written (a PDF or
//! a workbook is made in memory, then written whole). A job stopped so
//! ends with [`Error::Cancelled`]; an import stopped between bundles says
//! which were imported (`ImportReport::cancelled`).
//!
//! The CLI and the tests pass [`Progress::none`]; the window passes one
//! whose steps go to its progress bar and whose token its Cancel button
//! sets (src-tauri/src/commands/jobs.rs).

use crate::error::{Error, Result};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A request to stop, shared between the work and whoever may ask for it.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks the work to stop at its next safe point.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a long job is doing, for the window to say (`progress.<kind>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum What {
    /// Bundle file `n` of `of` decrypted and checked whole.
    Opening { n: u64, of: u64, file: String },
    /// The restore point taken before an import writes.
    Backup,
    /// Bundle `n` of `of`, made by the laptop `name`, taken in.
    Bundle { n: u64, of: u64, name: String },
    /// The figures and records a report or an export shows, read.
    Data,
    /// A PDF laid out up to its page `page`.
    Page { page: u64 },
    /// Table `n` of `of` (`name`: beneficiaries, visits…) of an export.
    Table { n: u64, of: u64, name: String },
    /// The file made in memory (a PDF of `pages` pages, a workbook).
    Saving { pages: Option<u64> },
    /// The file made, written whole (past the last point to stop).
    Writing,
    /// Finished.
    Done,
}

/// One step: `done` of `total` (never going back, the last one `total`
/// of `total`), and what the work is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub done: u64,
    pub total: u64,
    pub what: What,
}

type Sink = Arc<dyn Fn(&Step) + Send + Sync>;

/// Where a job's steps go, and its request to stop.
#[derive(Clone, Default)]
pub struct Progress {
    cancel: Cancel,
    sink: Option<Sink>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").field("cancelled", &self.cancel.is_cancelled()).finish()
    }
}

impl Progress {
    /// No one listens and no one stops it (the CLI, the tests).
    pub fn none() -> Progress {
        Progress::default()
    }

    /// Steps go to `sink`; `cancel` stops the work at its next safe point.
    pub fn new(cancel: Cancel, sink: impl Fn(&Step) + Send + Sync + 'static) -> Progress {
        Progress { cancel, sink: Some(Arc::new(sink)) }
    }

    /// Says how far the work is.
    pub fn step(&self, done: u64, total: u64, what: What) {
        if let Some(sink) = &self.sink {
            sink(&Step { done: done.min(total), total, what });
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// At a safe point: [`Error::Cancelled`] if someone asked to stop.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            return Err(Error::Cancelled);
        }
        Ok(())
    }
}
