//! Reports for the manager and the donors: the indicators (one module
//! computes every number, for the dashboard, the PDF and the CLI alike),
//! the PDF layouts (summary, profile sheet, follow-up list) and the CSV and
//! XLSX exports, with their pseudonymised variant.
//!
//! [`print`], [`export`] and [`figures`] are what the window and the CLI
//! call, each checking the account's role first (docs/access.md): the
//! window lets them name the file in `reports/` next to the database, the
//! CLI gives the path.

mod donor;
pub mod export;
pub mod indicators;
pub mod pdf;
pub mod results;
mod sheet;
pub mod targets;
pub mod words;

pub use indicators::{Filters, FiltersInput, Indicators};

use crate::access::Action;
use crate::audit::{Act, Note};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// A PDF to print, as the window or the CLI asks for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PrintRequest {
    /// The summary of the indicators.
    Summary {
        #[serde(default)]
        filters: FiltersInput,
        lang: Option<String>,
        /// What the manager writes for the donor, printed on the first
        /// page: plain text, at most [`NARRATIVE_MAX`] characters, line
        /// breaks kept, no control character.
        #[serde(default)]
        narrative: Option<String>,
    },
    /// One person's sheet for her paper file.
    Profile { id: Uuid, lang: Option<String> },
    /// The follow-up list for the next mission.
    Followups {
        #[serde(default)]
        filters: FiltersInput,
        /// The mission's region, province, commune.
        #[serde(default)]
        place: crate::store::Place,
        /// Days without a visit (default: the laptop's setting).
        days: Option<i64>,
        lang: Option<String>,
    },
}

/// The longest narrative a summary prints, in characters (about a page).
pub const NARRATIVE_MAX: usize = 3000;

/// The narrative of a summary, checked like any text a person types:
/// trimmed, empty is none, at most [`NARRATIVE_MAX`] characters, line
/// breaks and tabs kept, control characters and bidi overrides refused.
pub fn narrative(text: &Option<String>) -> Result<Option<String>> {
    let text = text.as_ref().map(|t| t.replace("\r\n", "\n").replace('\r', "\n"));
    crate::validate::opt_text("narrative", &text, NARRATIVE_MAX).map_err(|e| Error::invalid(vec![e]))
}

/// A file a report or export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    pub path: PathBuf,
    pub bytes: u64,
    /// Pages of a PDF.
    pub pages: Option<usize>,
    pub fingerprint: Option<String>,
}

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A folder of CSV files, one per table.
    Csv,
    /// One workbook.
    Xlsx,
}

fn lang(l: &Option<String>) -> &str {
    l.as_deref().map(str::trim).filter(|l| !l.is_empty()).unwrap_or("fr")
}

/// Prints a PDF into `out`, or into `reports/` next to the database under
/// a clear name when `out` is `None`. The summary is the programme's
/// report, the manager's; a profile sheet or the follow-up list is for the
/// field.
pub fn print(store: &Store, request: &PrintRequest, out: Option<&Path>) -> Result<Saved> {
    print_with_progress(store, request, out, &Progress::none())
}

/// [`print`], saying how far the layout is to `progress`; stopped when
/// asked (`Error::Cancelled`) before its file is written: no file at all.
pub fn print_with_progress(
    store: &Store,
    request: &PrintRequest,
    out: Option<&Path>,
    progress: &Progress,
) -> Result<Saved> {
    store.require(match request {
        PrintRequest::Summary { .. } => Action::PrintReport,
        PrintRequest::Profile { .. } | PrintRequest::Followups { .. } => Action::PrintFieldSheet,
    })?;
    let (printed, what) = match request {
        PrintRequest::Summary { filters, lang: l, narrative: n } => {
            let filters = filters.validate()?;
            let n = narrative(n)?;
            (pdf::summary_progress(store, &filters, lang(l), n.as_deref(), progress)?, "summary".to_string())
        }
        PrintRequest::Profile { id, lang: l } => {
            (pdf::profile(store, *id, lang(l))?, format!("profile-{}", id.simple().to_string().get(..8).unwrap_or("")))
        }
        PrintRequest::Followups { filters, place, days, lang: l } => {
            let days = match days {
                Some(d) => crate::validate::in_range("days", *d, 1, 365).map_err(|e| Error::invalid(vec![e]))?,
                None => store.followup_days()?,
            };
            let filters = filters.validate()?;
            (pdf::followup_list_progress(store, &filters, place, days, lang(l), progress)?, "followups".to_string())
        }
    };
    let path = match out {
        Some(p) => p.to_path_buf(),
        None => output_path(&reports_dir(store)?, &what, Some("pdf")),
    };
    crate::files::check_output(store.path(), &path)?;
    write_file(&path, &printed.bytes)?;
    store.log(print_note(request, &printed.fingerprint))?;
    Ok(Saved {
        path,
        bytes: printed.bytes.len() as u64,
        pages: Some(printed.pages),
        fingerprint: Some(printed.fingerprint),
    })
}

/// What an export covers and the language of its labels, as the window
/// or the CLI asks for them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportOptions {
    /// The dashboard's filters: period, region, cohort, sex.
    #[serde(default)]
    pub filters: FiltersInput,
    /// The language of the workbook's label columns and codebook (fr by
    /// default; a CSV export holds codes alone).
    pub lang: Option<String>,
}

/// Exports the live records as CSV files or a workbook, into `out` or
/// into `reports/` under a clear name: every record, labels in French.
pub fn export(store: &Store, format: Format, pseudonymise: bool, out: Option<&Path>) -> Result<export::ExportSummary> {
    export_with(store, format, pseudonymise, &ExportOptions::default(), out)
}

/// [`export`] of the records the filters of `options` admit (as on the
/// dashboard), codes labelled in its language; a workbook ends with a
/// codebook sheet.
pub fn export_with(
    store: &Store,
    format: Format,
    pseudonymise: bool,
    options: &ExportOptions,
    out: Option<&Path>,
) -> Result<export::ExportSummary> {
    export_with_progress(store, format, pseudonymise, options, out, &Progress::none())
}

/// [`export_with`], saying how far it is to `progress` (each table); stopped
/// when asked (`Error::Cancelled`) before any file is written.
pub fn export_with_progress(
    store: &Store,
    format: Format,
    pseudonymise: bool,
    options: &ExportOptions,
    out: Option<&Path>,
    progress: &Progress,
) -> Result<export::ExportSummary> {
    store.require(Action::ExportData)?;
    let filters = options.filters.validate()?;
    let words = words::Words::new(lang(&options.lang))?;
    let what = if pseudonymise { "export-pseudonymised" } else { "export" };
    let summary = match format {
        Format::Csv => {
            let dir = match out {
                Some(p) => p.to_path_buf(),
                None => output_path(&reports_dir(store)?, what, None),
            };
            export::write_csv_progress(store, &dir, pseudonymise, &filters, progress)
        }
        Format::Xlsx => {
            let path = match out {
                Some(p) => p.to_path_buf(),
                None => output_path(&reports_dir(store)?, what, Some("xlsx")),
            };
            export::write_xlsx_progress(store, &path, pseudonymise, &filters, &words, progress)
        }
    }?;
    let act = match format {
        Format::Csv => Act::ExportCsv,
        Format::Xlsx => Act::ExportXlsx,
    };
    let filtered = if filters.is_empty() { "" } else { ", filtered" };
    let detail = format!(
        "{}{filtered}: {} people, {} visits, {} milestones, {} targets",
        if pseudonymise { "pseudonymised" } else { "named" },
        summary.beneficiaries,
        summary.visits,
        summary.milestones,
        summary.targets
    );
    store.log(Note::new(act, "records").detail(detail))?;
    Ok(summary)
}

/// The audit entry of a print: the kind of report and what it covers (the
/// person's id for a profile sheet), never a name; the fingerprint of the
/// data it shows, printed on it.
fn print_note(request: &PrintRequest, fingerprint: &str) -> Note {
    match request {
        PrintRequest::Summary { lang: l, narrative: n, .. } => {
            // Whether a narrative was printed, never its words.
            let with = if n.as_deref().is_some_and(|t| !t.trim().is_empty()) { ", with a narrative" } else { "" };
            Note::new(Act::PrintSummary, "summary").detail(format!("{}{with}, data {fingerprint}", lang(l)))
        }
        PrintRequest::Profile { id, lang: l } => {
            Note::new(Act::PrintProfile, id).detail(format!("{}, data {fingerprint}", lang(l)))
        }
        PrintRequest::Followups { lang: l, days, .. } => {
            let days = days.map(|d| format!(", {d} days")).unwrap_or_default();
            Note::new(Act::PrintFollowups, "followups").detail(format!("{}{days}, data {fingerprint}", lang(l)))
        }
    }
}

/// The indicators as the programme's report gives them to scripts
/// (`wafira report indicators`): the figures of the summary PDF, so its
/// role. The dashboard shows them to every role ([`Store::indicators`]).
pub fn figures(store: &Store, filters: &Filters) -> Result<Indicators> {
    store.require(Action::PrintReport)?;
    store.indicators(filters)
}

/// The folder next to the database where the app writes the files it
/// prints and exports (`reports/`), created if needed.
pub fn reports_dir(store: &Store) -> Result<PathBuf> {
    let dir = store.path().parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join("reports");
    crate::files::private_dir(&dir)?;
    Ok(dir)
}

/// A clear, unique name for a file the app writes into `reports/`:
/// `wafira-<what>-<YYYYMMDD-HHMMSS>[.<ext>]`, made unique with `-2`, `-3`…
/// should the same second already have one.
pub fn output_path(dir: &Path, what: &str, ext: Option<&str>) -> PathBuf {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
    let name = |n: usize| {
        let suffix = if n > 1 { format!("-{n}") } else { String::new() };
        match ext {
            Some(ext) => format!("wafira-{what}-{stamp}{suffix}.{ext}"),
            None => format!("wafira-{what}-{stamp}{suffix}"),
        }
    };
    let mut n = 1;
    loop {
        let path = dir.join(name(n));
        if !path.exists() {
            return path;
        }
        n += 1;
    }
}

/// Writes a file the app prints or exports: owner-only, whole or not at
/// all (`files::write_private`).
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::files::write_private(path, bytes)
}
