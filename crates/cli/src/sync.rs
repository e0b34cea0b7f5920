//! `wafira bundle|conflicts|duplicates|devices|keys|backup`: sync and
//! consolidation on the command line, JSON out.

use clap::Subcommand;
use serde_json::Value;
use std::io::IsTerminal;
use std::path::PathBuf;
use uuid::Uuid;
use wafira_core::progress::{Cancel, Progress, Step, What};
use wafira_core::sync::{Choice, ImportOptions};
use wafira_core::{Error, Result, Store};

#[derive(Subcommand)]
pub enum BundleCmd {
    /// Write a bundle of the changes not exported yet (all with --full);
    /// with none, print {"nothing_new": true} and write nothing.
    Export {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        full: bool,
    },
    /// Import bundle files, each all or nothing; prints what they brought.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only say what they would bring; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Take changes dated more than a day ahead of this computer's
        /// clock, after checking that laptop's date (refused without).
        #[arg(long)]
        accept_future: bool,
        /// Approve the computer that made a bundle if it was never seen
        /// here (check its fingerprint first: `wafira keys show` there).
        #[arg(long)]
        approve_new: bool,
    },
    /// Print a bundle's manifest (after decrypting and checking the file).
    Inspect { file: PathBuf },
}

#[derive(Subcommand)]
pub enum DevicesCmd {
    /// Approve a computer (a new laptop, or the station): its bundles are
    /// taken from now on, signed by the key its next bundle carries.
    Approve {
        id: Uuid,
        /// Only the key with this fingerprint (as the refusal and `wafira
        /// keys show` on that computer print it).
        #[arg(long)]
        fingerprint: Option<String>,
        /// Enrol again a computer approved before with another key (reinstalled).
        #[arg(long)]
        reenrol: bool,
    },
}

#[derive(Subcommand)]
pub enum KeysCmd {
    /// This computer's recipient (age1…), signing key and its fingerprint,
    /// and the computers it encrypts its bundles to.
    Show,
    /// Write this computer's secret age identity (AGE-SECRET-KEY-1…) to
    /// FILE, readable by its owner only: keep it offline, in a safe place.
    ExportIdentity {
        #[arg(long)]
        out: PathBuf,
    },
    /// Encrypt this computer's bundles to RECIPIENT (age1…) too, or to
    /// the recipient of FILE (as `keys export-recipient` writes it there).
    Trust {
        /// What to call that computer (with --file, the name the file
        /// gives when none is given).
        #[arg(long, required_unless_present = "file")]
        name: Option<String>,
        #[arg(required_unless_present = "file", conflicts_with = "file")]
        recipient: Option<String>,
        /// A file holding the recipient (never a secret key: refused).
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Write this computer's recipient (age1…) to FILE, with its name and
    /// fingerprint in comments, for the computers that send bundles here.
    ExportRecipient {
        #[arg(long)]
        out: PathBuf,
    },
    /// Stop encrypting bundles to RECIPIENT.
    Untrust { recipient: String },
}

#[derive(Subcommand)]
pub enum ConflictsCmd {
    /// Conflicts to settle (with --all, settled ones too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Settle one: keep a side (--keep STAMP) or set a value (--value JSON).
    Resolve {
        id: String,
        #[arg(long, conflicts_with = "value", required_unless_present = "value")]
        keep: Option<String>,
        /// A JSON value, e.g. '"+212612345678"' or 'null'.
        #[arg(long)]
        value: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum DuplicatesCmd {
    /// Pairs of possible duplicates (with --all, those said distinct too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Merge OTHER into KEEP: one identity, the visits and milestones of
    /// both; KEEP's empty fields take OTHER's values.
    Merge {
        #[arg(long)]
        keep: Uuid,
        #[arg(long)]
        other: Uuid,
        /// Take OTHER's value of this field (cin, phone…) even where KEEP
        /// has one; repeat for several fields.
        #[arg(long = "take", value_name = "FIELD")]
        take: Vec<String>,
    },
    /// Undo the merge of a pair.
    Unmerge { a: Uuid, b: Uuid },
    /// Record that the pair are two different people.
    Dismiss { a: Uuid, b: Uuid },
}

#[derive(Subcommand)]
pub enum BackupCmd {
    /// The copies kept before imports, newest first.
    List,
    /// Put the database back as it was in copy NAME.
    Restore { name: String },
}

fn json(v: impl serde::Serialize) -> Result<Option<Value>> {
    Ok(Some(serde_json::to_value(v)?))
}

pub fn bundle(store: &mut Store, cmd: BundleCmd) -> Result<Option<Value>> {
    match cmd {
        // Nothing new since the last bundle is no failure: nothing is
        // written, and a script can tell from the answer.
        BundleCmd::Export { out, full } => match store.export_bundle_to(&out, full) {
            Err(Error::NothingNew { .. }) => json(serde_json::json!({ "nothing_new": true })),
            other => json(other?),
        },
        BundleCmd::Import { files, dry_run, accept_future, approve_new } => {
            let mut read = Vec::new();
            for f in &files {
                let bytes = std::fs::read(f).map_err(|e| Error::Other(format!("{}: {e}", f.display())))?;
                read.push((f.display().to_string(), bytes));
            }
            let options = ImportOptions { dry_run, accept_future, approve_new };
            let report = store.import_bundles_progress(read, options, &import_progress(files.len()))?;
            if let Some(bad) = report.files.iter().find(|f| f.error.is_some()) {
                // The others went in; say so, then name the refused file.
                println!("{}", serde_json::to_string_pretty(&report)?);
                let why = bad.error.as_ref().map(ToString::to_string).unwrap_or_default();
                return Err(Error::Other(format!("{}: {why}", bad.file)));
            }
            json(report)
        }
        BundleCmd::Inspect { file } => {
            let bytes = std::fs::read(&file).map_err(|e| Error::Other(format!("{}: {e}", file.display())))?;
            json(store.inspect_bundle(&bytes)?)
        }
    }
}

/// Where an import of several bundles is, on stderr when a person
/// watches it (a terminal); JSON alone goes to stdout.
fn import_progress(files: usize) -> Progress {
    if files < 2 || !std::io::stderr().is_terminal() {
        return Progress::none();
    }
    Progress::new(Cancel::new(), |step: &Step| match &step.what {
        What::Opening { n, of, file } => eprintln!("opening {n} of {of}: {file}"),
        What::Backup => eprintln!("restore point before the import"),
        What::Bundle { n, of, name } => eprintln!("bundle {n} of {of}: {name}"),
        _ => {}
    })
}

pub fn conflicts(store: &mut Store, cmd: ConflictsCmd) -> Result<Option<Value>> {
    match cmd {
        ConflictsCmd::List { all } => json(store.conflicts(all)?),
        ConflictsCmd::Resolve { id, keep, value } => {
            let choice = match (keep, value) {
                (Some(stamp), _) => Choice::Keep(stamp),
                (None, Some(v)) => Choice::Value(
                    serde_json::from_str(&v).map_err(|e| Error::Other(format!("--value is not JSON: {e}")))?,
                ),
                (None, None) => return Err(Error::Other("give --keep STAMP or --value JSON".into())),
            };
            json(store.resolve_conflict(&id, choice)?)
        }
    }
}

pub fn duplicates(store: &mut Store, cmd: DuplicatesCmd) -> Result<Option<Value>> {
    match cmd {
        DuplicatesCmd::List { all } => json(store.duplicates(all)?),
        DuplicatesCmd::Merge { keep, other, take } => json(store.merge_persons_taking(keep, other, &take, true)?),
        DuplicatesCmd::Unmerge { a, b } => json(store.unmerge_persons(a, b)?),
        DuplicatesCmd::Dismiss { a, b } => json(store.dismiss_duplicate(a, b)?),
    }
}

pub fn devices(store: &mut Store, cmd: Option<DevicesCmd>) -> Result<Option<Value>> {
    match cmd {
        None => json(store.sync_status()?),
        Some(DevicesCmd::Approve { id, fingerprint, reenrol }) => {
            json(store.approve_device(id, fingerprint.as_deref(), reenrol)?)
        }
    }
}

pub fn keys(store: &mut Store, cmd: KeysCmd) -> Result<Option<Value>> {
    match cmd {
        KeysCmd::Show => json(store.keys()?),
        KeysCmd::ExportIdentity { out } => {
            store.write_identity_file(&out)?;
            json(serde_json::json!({ "written": out, "recipient": store.keys()?.recipient }))
        }
        KeysCmd::Trust { name, recipient, file } => match (recipient, file) {
            (_, Some(file)) => json(store.trust_recipient_file(name.as_deref(), &file)?),
            (Some(recipient), None) => json(store.trust_recipient(name.as_deref().unwrap_or_default(), &recipient)?),
            (None, None) => Err(Error::field("recipient", "required")),
        },
        KeysCmd::ExportRecipient { out } => json(store.write_recipient_file(&out)?),
        KeysCmd::Untrust { recipient } => json(serde_json::json!({ "removed": store.untrust_recipient(&recipient)? })),
    }
}

pub fn backup(store: &mut Store, cmd: BackupCmd) -> Result<Option<Value>> {
    match cmd {
        BackupCmd::List => json(store.backups()?),
        BackupCmd::Restore { name } => json(store.restore_backup(&name)?),
    }
}
