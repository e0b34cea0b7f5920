//! `wafira audit list|verify|export`: the audit trail on the command line,
//! JSON out. `verify` prints what it found and exits 1 when a link is
//! broken, so that a script can stop on it.

use clap::{Args, Subcommand};
use serde_json::Value;
use std::path::PathBuf;
use wafira_core::audit::AuditFilter;
use wafira_core::{Error, Result, Store};

/// The filters `list` and `export` share.
#[derive(Args)]
pub struct Filters {
    /// A machine's id (as `wafira info` or `wafira devices` show it).
    #[arg(long)]
    machine: Option<String>,
    /// An action code, e.g. person.update, bundle.import, print.profile.
    #[arg(long)]
    action: Option<String>,
    /// The account that did it.
    #[arg(long)]
    who: Option<String>,
    /// From this day (YYYY-MM-DD, UTC), included.
    #[arg(long)]
    since: Option<String>,
    /// To this day (YYYY-MM-DD, UTC), included.
    #[arg(long)]
    until: Option<String>,
}

impl Filters {
    fn with_limit(self, limit: Option<usize>) -> AuditFilter {
        let Filters { machine, action, who, since, until } = self;
        AuditFilter { machine, action, who, since, until, limit, offset: None }
    }
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// The entries, newest first, as a JSON array.
    List {
        #[command(flatten)]
        filters: Filters,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Check every chain held: {ok, entries, machines, first_broken,
    /// waiting}; exit status 1 when a link is broken.
    Verify,
    /// Write the log as a CSV file (UTF-8 with a BOM): every entry, or
    /// those of the filters given (as `list`'s).
    Export {
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        filters: Filters,
    },
}

pub fn audit(store: &mut Store, cmd: AuditCmd) -> Result<Option<Value>> {
    match cmd {
        AuditCmd::List { filters, limit } => crate::json(store.audit_list(&filters.with_limit(limit))?.entries),
        AuditCmd::Verify => {
            let v = store.audit_verify()?;
            match &v.first_broken {
                None => crate::json(v),
                Some(b) => {
                    // The finding on stdout for scripts, then the one line.
                    println!("{}", serde_json::to_string_pretty(&v)?);
                    let name = b.machine_name.as_deref().unwrap_or(&b.machine);
                    Err(Error::Other(format!("the audit log of {name} is broken at entry {}: {}", b.seq, b.message)))
                }
            }
        }
        AuditCmd::Export { out, filters } => crate::json(store.audit_export_filtered(&out, &filters.with_limit(None))?),
    }
}
