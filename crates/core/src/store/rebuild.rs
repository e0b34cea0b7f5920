//! Everything the store derives, made again from the change log alone:
//! record rows, summaries, search words, waiting records, conflicts and
//! possible duplicates. The invariant "record tables are a function of the
//! change log" made executable: the sync property tests compare what
//! imports built step by step with what this builds from scratch, and it
//! repairs a database whose derived tables went wrong.

use super::log::{self, Entity};
use super::Store;
use crate::error::Result;
use rusqlite::params;
use uuid::Uuid;

/// The order kinds of record are folded in: decisions first, people before
/// their visits. Any order must give the same result; this one is the
/// cheapest.
const ORDER: [Entity; 14] = [
    Entity::Erasure,
    Entity::Merge,
    Entity::Beneficiary,
    Entity::Target,
    Entity::Partner,
    Entity::Session,
    Entity::Iga,
    Entity::Visit,
    Entity::Milestone,
    Entity::IgaFollowup,
    Entity::Season,
    Entity::Referral,
    Entity::Attendance,
    Entity::Resolution,
];

impl Store {
    /// Drops every derived table and folds the whole change log again, in
    /// one transaction.
    pub fn rebuild(&mut self) -> Result<()> {
        let tx = self.transaction()?;
        // The tables of the kinds declared (kinds.rs), people last: her
        // visits and milestones refer to her.
        let declared: Vec<&crate::kinds::Kind> = crate::kinds::all().collect();
        for kind in declared.into_iter().rev() {
            tx.execute(&format!("DELETE FROM {}", kind.entity.as_str()), [])?;
        }
        tx.execute_batch(
            "DELETE FROM beneficiary_fts; DELETE FROM target; DELETE FROM resolution; DELETE FROM merge;
             DELETE FROM waiting; DELETE FROM conflict; DELETE FROM duplicate; DELETE FROM erasure;",
        )?;
        for entity in ORDER {
            let ids: Vec<String> = tx
                .prepare("SELECT DISTINCT record_id FROM change WHERE entity = ?1 ORDER BY record_id")?
                .query_map(params![entity.as_str()], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for id in ids.iter().filter_map(|i| Uuid::parse_str(i).ok()) {
                log::materialise(&tx, entity, id)?;
                crate::sync::conflict::detect(&tx, entity, id)?;
            }
        }
        crate::sync::merge::rebuild_duplicates(&tx)?;
        tx.commit()?;
        Ok(())
    }
}
