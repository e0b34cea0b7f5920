//! The results framework's records on the command line: IGAs, their
//! follow-up surveys, migration seasons, referrals, partners and group
//! sessions (with `session attend`). JSON in on stdin, JSON out; the core
//! checks everything.

use crate::{json, stdin_json};
use clap::Subcommand;
use serde_json::Value;
use uuid::Uuid;
use wafira_core::store::log::Entity;
use wafira_core::store::records::RecordQuery;
use wafira_core::{Result, Store};

#[derive(Subcommand)]
pub enum KindCmd {
    /// Add one from a JSON object on stdin; prints the record.
    Add,
    /// Correct the fields given as a JSON object on stdin.
    Update { id: Uuid },
    /// One record, as stored.
    Show { id: Uuid },
    /// The live records (withdrawn ones too with --archived), for one
    /// person, IGA or session when given.
    List {
        #[arg(long)]
        person: Option<Uuid>,
        #[arg(long)]
        iga: Option<Uuid>,
        #[arg(long)]
        session: Option<Uuid>,
        #[arg(long)]
        archived: bool,
    },
    /// Withdraw one entered by mistake, saying why (kept in the history).
    Void {
        id: Uuid,
        #[arg(long)]
        reason: String,
    },
    /// Put a withdrawn one back.
    Restore { id: Uuid },
}

#[derive(Subcommand)]
pub enum SessionCmd {
    #[command(flatten)]
    Record(KindCmd),
    /// Take a session's attendance: the people named are on its list, the
    /// others it had are unticked.
    Attend {
        id: Uuid,
        /// A person present (repeat it), or none to clear the list.
        #[arg(long = "person")]
        people: Vec<Uuid>,
    },
}

pub fn run(store: &mut Store, entity: Entity, cmd: KindCmd) -> Result<Option<Value>> {
    match cmd {
        KindCmd::Add => json(store.add_record(entity, stdin_json()?)?),
        KindCmd::Update { id } => json(store.update_record(entity, id, stdin_json()?)?),
        KindCmd::Show { id } => json(store.record(entity, id)?),
        KindCmd::List { person, iga, session, archived } if entity == Entity::Partner => {
            let _ = (person, iga, session);
            let all = store.partners()?;
            json(all.into_iter().filter(|p| archived || !p.archived).collect::<Vec<_>>())
        }
        KindCmd::List { person, iga, session, archived } => {
            let q = RecordQuery { beneficiary_id: person, iga_id: iga, session_id: session, archived };
            json(store.records(entity, &q)?)
        }
        KindCmd::Void { id, reason } => json(store.void_record(entity, id, Some(reason))?),
        KindCmd::Restore { id } => json(store.restore_record(entity, id)?),
    }
}

pub fn session(store: &mut Store, cmd: SessionCmd) -> Result<Option<Value>> {
    match cmd {
        SessionCmd::Record(cmd) => run(store, Entity::Session, cmd),
        SessionCmd::Attend { id, people } => json(store.take_attendance(id, &people)?),
    }
}
