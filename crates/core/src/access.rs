//! Who may do what. Each account on a machine has one role; the store
//! checks the role of the account that unlocked it before every action
//! ([`crate::Store::require`]), so a refused action is refused the same
//! way from the window, the command line or a script. The table below is
//! the one docs/access.md prints.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The three roles of the programme's field team, each allowed what the
/// one before it is, and more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Registers and follows people, logs visits and milestones, exports
    /// her bundle and imports the station's.
    Coordinator,
    /// Also imports any bundle, settles conflicts and duplicates, restores
    /// backups, enrols laptops, erases a person who withdrew consent.
    Assistant,
    /// Also sets targets, prints the programme's reports, exports data and
    /// manages accounts.
    Manager,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Coordinator, Role::Assistant, Role::Manager];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Assistant => "assistant",
            Role::Manager => "manager",
        }
    }

    pub fn parse(field: &str, s: &str) -> crate::Result<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim()).ok_or_else(|| crate::Error::field(field, "unknown_role"))
    }

    /// Whether this role may do `action`.
    pub fn may(self, action: Action) -> bool {
        self >= action.needs()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the store guards, named for what a person does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read the people, visits, milestones and the follow-up plan.
    Read,
    /// Register, edit or archive a person; log a visit or a milestone;
    /// correct or withdraw one.
    Record,
    /// Print a person's sheet or the follow-up list (named, for the field).
    PrintFieldSheet,
    /// Export this machine's own bundle.
    ExportBundle,
    /// Import a bundle from a machine already approved here.
    ImportApproved,
    /// Import a bundle from a machine seen for the first time (approving
    /// it), or approve, re-enrol a machine; trust a new recipient.
    EnrolDevice,
    /// Settle conflicts and duplicate persons.
    Settle,
    /// Restore a backup.
    Restore,
    /// Erase a person's identifying data on withdrawn consent.
    Erase,
    /// Set the programme's targets.
    SetTargets,
    /// Extend the programme's reference lists (its partners).
    ManageReference,
    /// Print the programme's reports and read its indicators export.
    PrintReport,
    /// Export the records (CSV, XLSX), plain or pseudonymised.
    ExportData,
    /// Add, change or remove accounts; read the audit log.
    ManageAccounts,
}

impl Action {
    pub const ALL: [Action; 14] = [
        Action::Read,
        Action::Record,
        Action::PrintFieldSheet,
        Action::ExportBundle,
        Action::ImportApproved,
        Action::EnrolDevice,
        Action::Settle,
        Action::Restore,
        Action::Erase,
        Action::SetTargets,
        Action::ManageReference,
        Action::PrintReport,
        Action::ExportData,
        Action::ManageAccounts,
    ];

    /// The least role that may do it.
    pub fn needs(self) -> Role {
        use Action::*;
        match self {
            Read | Record | PrintFieldSheet | ExportBundle | ImportApproved => Role::Coordinator,
            EnrolDevice | Settle | Restore | Erase => Role::Assistant,
            SetTargets | ManageReference | PrintReport | ExportData | ManageAccounts => Role::Manager,
        }
    }

    pub fn as_str(self) -> &'static str {
        use Action::*;
        match self {
            Read => "read",
            Record => "record",
            PrintFieldSheet => "print_field_sheet",
            ExportBundle => "export_bundle",
            ImportApproved => "import_approved",
            EnrolDevice => "enrol_device",
            Settle => "settle",
            Restore => "restore",
            Erase => "erase",
            SetTargets => "set_targets",
            ManageReference => "manage_reference",
            PrintReport => "print_report",
            ExportData => "export_data",
            ManageAccounts => "manage_accounts",
        }
    }
}

/// The account that unlocked the store: named in the audit log and
/// checked before each action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

impl Actor {
    /// Whoever holds the database key itself (the recovery key, or a test
    /// that opened the file with its raw key): every action is theirs.
    pub fn key_holder() -> Actor {
        Actor { name: "recovery key".into(), role: Role::Manager }
    }
}

impl crate::Store {
    /// The account that unlocked this store.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Acts as `actor` from now on (an account signing in on an open
    /// store, or a test).
    pub fn set_actor(&mut self, actor: Actor) {
        self.actor = actor;
    }

    /// Refuses `action` unless the account's role allows it: the one check
    /// every guarded store method makes first.
    pub fn require(&self, action: Action) -> crate::Result<()> {
        if self.actor.role.may(action) {
            Ok(())
        } else {
            Err(crate::Error::Forbidden { action: action.as_str(), needs: action.needs(), role: self.actor.role })
        }
    }
}
