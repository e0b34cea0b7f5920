//! Sync between laptops and the consolidation station: bundle files
//! (`bundle`), what a laptop sends (`export`), how a station takes them in
//! (`import`), and what people settle afterwards: conflicts (`conflict`)
//! and duplicate persons (`merge`). `devices` says, per laptop, what has
//! arrived and what is missing; `backup` keeps copies of the database from
//! before each import. `keys`: this computer's keys, the computers it
//! encrypts bundles to, the signing keys it approved.
//!
//! Everything travels as changes of the one change log (store/log.rs):
//! decisions too, so that a station's merges and resolutions reach the
//! laptops the same way their records reach the station.

pub mod backup;
pub mod bundle;
pub mod check;
pub mod conflict;
pub mod devices;
pub mod export;
pub mod import;
pub mod keys;
pub mod merge;

pub use backup::BackupFile;
pub use bundle::{Manifest, Refusal};
pub use conflict::{Choice, ConflictView};
pub use devices::DeviceStatus;
pub use export::{ExportSummary, Unsent};
pub use import::{ImportOptions, ImportReport, ImportSummary};
pub use keys::{Approval, KeysView, OwnKeys, RecipientExport, RecipientFile, TrustedRecipient};
pub use merge::DuplicatePair;

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of some bytes.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A stable id derived from some text (a UUID of version 8): the same
/// everywhere, so that two machines deciding about the same thing write
/// the same record.
pub(crate) fn derived_id(text: &str) -> uuid::Uuid {
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}
