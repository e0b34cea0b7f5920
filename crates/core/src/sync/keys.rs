//! This computer's keys, the computers it encrypts its bundles to, and the
//! signing keys it has approved for the computers whose bundles it takes in
//! (docs/sync.md, "Keys and enrolment").
//!
//! - Each computer makes its own key pair once (`init_device`, or the first
//!   open of a database made before schema 3): an age identity (X25519),
//!   whose recipient (`age1…`) others encrypt bundles to, and an Ed25519
//!   signing key. Both secrets live in the database (table `own_key`);
//!   the database file itself is to be encrypted by a later piece of work.
//!   A database restored or copied goes on under a new device identity
//!   but keeps its keys: it is the same computer's secret.
//! - Bundles are encrypted to this computer itself and to every trusted
//!   recipient (`trusted_recipient`): added by a person
//!   (`wafira keys trust`), or when a laptop is enrolled (its recipient
//!   travels in its signed manifests).
//! - A bundle's signer is pinned per bundle source (`device_key`): the
//!   first bundle of a computer never seen is refused, naming it and its
//!   key's fingerprint, until a person approves it (`approve_device`, or an
//!   import with `approve_new`); a known computer signing with another key
//!   is refused until a person enrols it again. Changes relayed by a
//!   station are trusted through the station's signature. A key already
//!   approved here for another device id (a restored or copied laptop goes
//!   on under a new identity with the same keys) proves the same computer:
//!   that new identity is approved with it.

use super::bundle::{self, Manifest, Refusal, SourceKeys};
use crate::access::{Action, Role};
use crate::audit::{Act, Note};
use crate::error::{Error, FieldError, Result};
use crate::store::Store;
use age::secrecy::ExposeSecret;
use ed25519_dalek::SigningKey;
use rand_core::RngCore;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::path::Path;
use uuid::Uuid;

/// This computer's secret keys.
#[derive(Clone)]
pub struct OwnKeys {
    /// Opens the bundles addressed to this computer.
    pub identity: age::x25519::Identity,
    /// Signs the bundles this computer makes.
    pub signing: SigningKey,
}

impl OwnKeys {
    fn generate() -> OwnKeys {
        let mut seed = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut seed);
        OwnKeys { identity: age::x25519::Identity::generate(), signing: SigningKey::from_bytes(&seed) }
    }

    /// Where bundles for this computer are encrypted to: `age1…`.
    pub fn recipient(&self) -> age::x25519::Recipient {
        self.identity.to_public()
    }

    /// The Ed25519 public key, hex.
    pub fn signing_key(&self) -> String {
        super::hex(self.signing.verifying_key().as_bytes())
    }

    /// The short form a person compares: see [`fingerprint`].
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.signing_key())
    }

    /// The public keys, as a manifest carries them.
    pub fn source_keys(&self) -> SourceKeys {
        SourceKeys { signing_key: self.signing_key(), recipient: self.recipient().to_string() }
    }

    /// The secret identity as the `age` tool reads it: `AGE-SECRET-KEY-1…`.
    pub fn identity_text(&self) -> String {
        self.identity.to_string().expose_secret().to_string()
    }
}

/// The fingerprint of a signing key (hex): the first 16 hex digits of the
/// SHA-256 of the key's 32 bytes, in groups of 4 (`3f2a 91c0 77de 0b14`),
/// short enough to read out over the phone. A key that is not hex gives
/// the fingerprint of its text.
pub fn fingerprint(signing_key_hex: &str) -> String {
    let digest = match bundle::unhex::<32>(signing_key_hex) {
        Some(bytes) => super::sha256_hex(&bytes),
        None => super::sha256_hex(signing_key_hex.as_bytes()),
    };
    let d = &digest[..16];
    format!("{} {} {} {}", &d[0..4], &d[4..8], &d[8..12], &d[12..16])
}

/// A fingerprint as a person may type it: hex digits only, lower case.
fn normal(fingerprint: &str) -> String {
    fingerprint.chars().filter(char::is_ascii_hexdigit).map(|c| c.to_ascii_lowercase()).collect()
}

/// Makes this computer's keys if it has none yet (once per database).
pub(crate) fn ensure(conn: &Connection) -> Result<()> {
    let has: bool = conn.prepare_cached("SELECT 1 FROM own_key WHERE id = 1")?.exists([])?;
    if !has {
        let k = OwnKeys::generate();
        conn.execute(
            "INSERT INTO own_key (id, age_identity, signing_seed, created_at) VALUES (1, ?1, ?2, ?3)",
            params![k.identity_text(), super::hex(&k.signing.to_bytes()), crate::now_utc()],
        )?;
    }
    Ok(())
}

pub(crate) fn load(conn: &Connection) -> Result<OwnKeys> {
    let (identity, seed): (String, String) = conn
        .query_row("SELECT age_identity, signing_seed FROM own_key WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| Error::Other("this database has no keys".into()))?;
    let identity =
        identity.parse().map_err(|e| Error::Other(format!("this computer's age identity is damaged: {e}")))?;
    let seed =
        bundle::unhex::<32>(&seed).ok_or_else(|| Error::Other("this computer's signing key is damaged".into()))?;
    Ok(OwnKeys { identity, signing: SigningKey::from_bytes(&seed) })
}

/// A computer this one encrypts its bundles to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrustedRecipient {
    pub recipient: String,
    pub name: String,
    /// The computer enrolled, when it was added by an import; none when a
    /// person added it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Uuid>,
    pub added_at: String,
}

/// This computer's public keys, as `wafira keys show` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct KeysView {
    /// Where bundles for this computer are encrypted to: give it to the
    /// computers that send bundles here (`wafira keys trust` there).
    pub recipient: String,
    /// The Ed25519 public key that signs this computer's bundles, hex.
    pub signing_key: String,
    /// Its short form, which a person compares when approving this computer
    /// elsewhere.
    pub fingerprint: String,
    /// The computers this one encrypts its bundles to (besides itself).
    pub trusted: Vec<TrustedRecipient>,
}

/// A computer approved here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Approval {
    pub device_id: Uuid,
    /// The fingerprint of the key approved: pinned, or given by the person.
    pub fingerprint: Option<String>,
    /// Its signing key is pinned (it has sent a bundle since its approval).
    pub pinned: bool,
    pub approved_at: String,
}

/// The recipients a bundle of this computer is encrypted to: itself, then
/// every trusted recipient. Refused when it would be for itself alone.
pub(crate) fn recipients(conn: &Connection, own: &OwnKeys) -> Result<Vec<age::x25519::Recipient>> {
    let me = own.recipient();
    let mut out = vec![me.clone()];
    let mut stmt = conn.prepare_cached("SELECT recipient FROM trusted_recipient ORDER BY recipient")?;
    for r in stmt.query_map([], |r| r.get::<_, String>(0))? {
        let text = r?;
        let r: age::x25519::Recipient =
            text.parse().map_err(|e| Error::Other(format!("trusted recipient {text:?} is damaged: {e}")))?;
        if r.to_string() != me.to_string() {
            out.push(r);
        }
    }
    if out.len() < 2 {
        return Err(Error::Refused(Refusal::NoRecipient));
    }
    Ok(out)
}

fn add_recipient(conn: &Connection, recipient: &str, name: &str, device: Option<Uuid>) -> Result<()> {
    conn.execute(
        "INSERT INTO trusted_recipient (recipient, name, device_id, added_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (recipient) DO NOTHING",
        params![recipient, name, device.map(|d| d.to_string()), crate::now_utc()],
    )?;
    Ok(())
}

/// How a bundle's source was admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admitted {
    /// Signed by the key pinned for its source, or by this computer's own.
    Known,
    /// Its source was approved by this import: a new computer with
    /// `approve_new`, an approval waiting for its first bundle, or a new
    /// identity of a computer approved here (the same key).
    Approved,
    /// Not signed: made by a version before signed bundles.
    Unsigned,
}

/// Decides whether a bundle's source may be taken in, inside the import's
/// transaction (so that a refusal leaves nothing): pins its key at its
/// first bundle once approved, and enrols its recipient. Approving a
/// computer never seen, or taking a bundle no approved computer signed, is
/// an enrolment, which `role` must be allowed (docs/access.md); a bundle of
/// a computer approved here, or of a new identity of one (the same key),
/// is not.
pub(crate) fn admit(
    tx: &Connection,
    m: &Manifest,
    signed: bool,
    own: &OwnKeys,
    approve_new: bool,
    role: Role,
) -> Result<Admitted> {
    let source = m.source.id;
    let row: Option<(Option<String>, Option<String>)> = tx
        .prepare_cached("SELECT signing_key, fingerprint FROM device_key WHERE device_id = ?1")?
        .query_row(params![source.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let keys = m.keys.as_ref().filter(|_| signed);
    let Some(keys) = keys else {
        // A plaintext bundle of an older version: taken (with a warning in
        // the summary) unless its source signs its bundles.
        if let Some((Some(_), _)) = row {
            return Err(Error::Refused(Refusal::Unsigned { device: source, name: m.source.name.clone() }));
        }
        may_enrol(role)?;
        return Ok(Admitted::Unsigned);
    };
    let key = keys.signing_key.to_ascii_lowercase();
    let print = fingerprint(&key);
    let admitted = match row {
        Some((Some(pinned), _)) if pinned == key => Admitted::Known,
        Some((Some(pinned), _)) => {
            return Err(Error::Refused(Refusal::KeyChanged {
                device: source,
                name: m.source.name.clone(),
                fingerprint: print,
                approved: fingerprint(&pinned),
            }))
        }
        Some((None, Some(expected))) if normal(&expected) != normal(&print) => {
            return Err(Error::Refused(Refusal::KeyChanged {
                device: source,
                name: m.source.name.clone(),
                fingerprint: print,
                approved: expected,
            }))
        }
        Some((None, _)) => {
            pin(tx, source, &key)?;
            Admitted::Approved
        }
        None if key == own.signing_key() => Admitted::Known,
        None => {
            let same_computer: bool =
                tx.prepare_cached("SELECT 1 FROM device_key WHERE signing_key = ?1")?.exists(params![key])?;
            if !same_computer && !approve_new {
                return Err(Error::Refused(Refusal::UnknownDevice {
                    device: source,
                    name: m.source.name.clone(),
                    fingerprint: print,
                }));
            }
            if !same_computer {
                may_enrol(role)?;
            }
            tx.execute(
                "INSERT INTO device_key (device_id, approved_at) VALUES (?1, ?2)",
                params![source.to_string(), crate::now_utc()],
            )?;
            pin(tx, source, &key)?;
            Admitted::Approved
        }
    };
    if keys.recipient != own.recipient().to_string() {
        if keys.recipient.parse::<age::x25519::Recipient>().is_err() {
            return Err(Error::Refused(Refusal::Inconsistent(format!(
                "its recipient {:?} is not an age recipient",
                keys.recipient
            ))));
        }
        add_recipient(tx, &keys.recipient, &m.source.name, Some(source))?;
    }
    Ok(admitted)
}

/// Refuses an enrolment to a role that may not enrol, as
/// [`Store::require`] refuses any action.
fn may_enrol(role: Role) -> Result<()> {
    let action = Action::EnrolDevice;
    if role.may(action) {
        Ok(())
    } else {
        Err(Error::Forbidden { action: action.as_str(), needs: action.needs(), role })
    }
}

fn pin(tx: &Connection, device: Uuid, key: &str) -> Result<()> {
    tx.execute(
        "UPDATE device_key SET signing_key = ?2, fingerprint = ?3, pinned_at = ?4 WHERE device_id = ?1",
        params![device.to_string(), key, fingerprint(key), crate::now_utc()],
    )?;
    Ok(())
}

// --- Recipient files ------------------------------------------------------
//
// The station's public key reaches a laptop on the USB stick as a small
// text file (`Store::write_recipient_file` at the station, `wafira keys
// export-recipient` or Save as on the Sync screen), read there before a
// person confirms it (`read_recipient_file`, `wafira keys trust --file`).
// The format is age's recipients file: one `age1…` per line, `#` comments;
// Wafira's names the computer in a `# device: NAME` comment.

/// The most a recipient file may hold: a recipient is 62 characters, its
/// comments a few lines. Anything bigger is not one, and is not read whole.
pub const RECIPIENT_FILE_MAX: u64 = 64 * 1024;

/// What a recipient file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecipientFile {
    /// Its recipient, `age1…`, as age writes it.
    pub recipient: String,
    /// The computer it names in a `# device: NAME` comment, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// This computer's recipient written to a file, to give to others.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientExport {
    pub path: std::path::PathBuf,
    pub recipient: String,
    /// The fingerprint of this computer's signing key, which a person
    /// compares when approving its first bundle.
    pub fingerprint: String,
    /// This computer's name, as the file names it.
    pub device: String,
}

/// Reads the recipient file at `path` (see [`parse_recipient_file`]).
pub fn read_recipient_file(path: &Path) -> Result<RecipientFile> {
    use std::io::Read;
    let named = |e: std::io::Error| Error::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display())));
    let mut bytes = Vec::new();
    // One byte past the bound says the file is bigger, without reading it all.
    std::fs::File::open(path).and_then(|f| f.take(RECIPIENT_FILE_MAX + 1).read_to_end(&mut bytes)).map_err(named)?;
    parse_recipient_file(&bytes)
}

/// The recipient a file holds, and the computer it names. Refused (field
/// `file`): bigger than [`RECIPIENT_FILE_MAX`], not UTF-8 text, holding
/// a secret identity (`AGE-SECRET-KEY-1…`: a secret is never handed
/// around, and a file that has one is the wrong file), or not exactly one
/// recipient (the same one written twice is one). A line's recipient may
/// sit among other words (`Station Rabat: age1…`, a copied JSON line);
/// `#` lines are comments.
pub fn parse_recipient_file(bytes: &[u8]) -> Result<RecipientFile> {
    let refused = |code: &str| Error::field("file", code);
    if bytes.len() as u64 > RECIPIENT_FILE_MAX {
        let max = format!("{} KiB", RECIPIENT_FILE_MAX / 1024);
        return Err(Error::invalid(vec![FieldError::new("file", "file_too_large").with("max", max)]));
    }
    // Before anything else, even in a comment or a file that is not text.
    const SECRET: &[u8] = b"AGE-SECRET-KEY-";
    if bytes.windows(SECRET.len()).any(|w| w.eq_ignore_ascii_case(SECRET)) {
        return Err(refused("secret_key_file"));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| refused("not_text"))?;
    let mut name = None;
    let mut found: Vec<String> = Vec::new();
    for line in text.trim_start_matches('\u{feff}').lines() {
        let line = line.trim();
        if let Some(comment) = line.strip_prefix('#') {
            if let Some((key, value)) = comment.split_once(':') {
                let value = value.trim().trim_matches('"').trim();
                if name.is_none() && key.trim().eq_ignore_ascii_case("device") && !value.is_empty() {
                    name = Some(value.to_string());
                }
            }
            continue;
        }
        for word in line.split(|c: char| !c.is_ascii_alphanumeric()) {
            let word = word.to_ascii_lowercase();
            if !word.starts_with("age1") {
                continue;
            }
            let recipient = word.parse::<age::x25519::Recipient>().map_err(|_| refused("invalid_recipient"))?;
            let recipient = recipient.to_string();
            if !found.contains(&recipient) {
                found.push(recipient);
            }
        }
    }
    match found.len() {
        0 => Err(refused("no_recipient")),
        1 => Ok(RecipientFile { recipient: found.remove(0), name }),
        n => Err(Error::invalid(vec![FieldError::new("file", "several_recipients").with("n", n)])),
    }
}

impl Store {
    /// This computer's secret keys: whoever holds them reads every bundle
    /// sent here and signs as this computer, so they are the manager's, as
    /// [`Store::write_identity_file`] is. The store's own work reads them
    /// with [`load`].
    pub fn own_keys(&self) -> Result<OwnKeys> {
        self.require(Action::ManageAccounts)?;
        load(self.conn())
    }

    /// This computer's public keys and the computers it encrypts to.
    pub fn keys(&self) -> Result<KeysView> {
        self.require(Action::Read)?;
        let own = load(self.conn())?;
        Ok(KeysView {
            recipient: own.recipient().to_string(),
            signing_key: own.signing_key(),
            fingerprint: own.fingerprint(),
            trusted: self.trusted_recipients()?,
        })
    }

    pub fn trusted_recipients(&self) -> Result<Vec<TrustedRecipient>> {
        self.require(Action::Read)?;
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT recipient, name, device_id, added_at FROM trusted_recipient ORDER BY added_at")?;
        let rows = stmt.query_map([], |r| {
            Ok(TrustedRecipient {
                recipient: r.get(0)?,
                name: r.get(1)?,
                device_id: r.get::<_, Option<String>>(2)?.and_then(|d| Uuid::parse_str(&d).ok()),
                added_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Encrypts this computer's next bundles to `recipient` (`age1…`, from
    /// `wafira keys show` on that computer) too. Trusting one already
    /// trusted changes nothing.
    pub fn trust_recipient(&mut self, name: &str, recipient: &str) -> Result<TrustedRecipient> {
        self.require(Action::EnrolDevice)?;
        let mut c = crate::error::Checker::default();
        let name = c.take(crate::validate::req_text("name", &Some(name.to_string()), 100));
        let recipient = recipient.trim();
        let parsed = recipient.parse::<age::x25519::Recipient>();
        if parsed.is_err() {
            c.push(FieldError::new("recipient", "invalid_recipient"));
        }
        let (name, parsed) = c.finish(|| Some((name?, parsed.ok()?)))?;
        let recipient = parsed.to_string();
        self.with_note(|conn| {
            add_recipient(conn, &recipient, &name, None)?;
            // One already trusted is no change, and no entry.
            Ok(((), (conn.changes() > 0).then(|| Note::new(Act::KeyTrust, &recipient))))
        })?;
        self.trusted_recipients()?
            .into_iter()
            .find(|t| t.recipient == recipient)
            .ok_or_else(|| Error::Other("internal: the recipient was not kept".into()))
    }

    /// The recipient file at `path`, read for a person to confirm before
    /// trusting it (the Sync screen's "read the key from a file"): reading
    /// it is part of an enrolment, and changes nothing.
    pub fn read_recipient_file(&self, path: &Path) -> Result<RecipientFile> {
        self.require(Action::EnrolDevice)?;
        read_recipient_file(path)
    }

    /// [`Store::trust_recipient`] with the recipient of the file at `path`
    /// (`wafira keys trust --file`), named `name`, or else as the file names
    /// its computer.
    pub fn trust_recipient_file(&mut self, name: Option<&str>, path: &Path) -> Result<TrustedRecipient> {
        self.require(Action::EnrolDevice)?;
        let file = read_recipient_file(path)?;
        let name = name.map(str::trim).filter(|n| !n.is_empty()).map(str::to_string).or(file.name);
        let name = name.ok_or_else(|| Error::field("name", "required"))?;
        self.trust_recipient(&name, &file.recipient)
    }

    /// The name a Save-as dialog offers for this computer's recipient file:
    /// `station-rabat-public-key.txt`, after the computer, as bundles are
    /// named.
    pub fn recipient_file_name(&self) -> Result<String> {
        let me = self.device()?;
        let slug: String =
            crate::text::fold(&me.name).chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        Ok(format!("{}-public-key.txt", slug.trim_matches('-')))
    }

    /// Writes this computer's recipient to `path` for the computers that
    /// send bundles here (the coordinator takes it on the USB stick): the
    /// `age1…` line, after comments naming this computer and its
    /// fingerprint, as [`read_recipient_file`] and the reference `age -R`
    /// read it. Public, as `wafira keys show` is; owner-only all the same,
    /// as every file the app writes, and never over the database.
    pub fn write_recipient_file(&self, path: &Path) -> Result<RecipientExport> {
        self.require(Action::Read)?;
        crate::files::check_output(self.path(), path)?;
        let own = load(self.conn())?;
        // A name is one line of the file.
        let device: String = self.device()?.name.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let (recipient, fingerprint) = (own.recipient().to_string(), own.fingerprint());
        let text = format!(
            "# Wafira Field: the public key (age recipient) of this computer. Bundles encrypted\n\
             # to it open here only. Give this file to the computers that send bundles here\n\
             # (Sync screen: read the key from a file; or wafira keys trust --file FILE).\n\
             # It holds no secret.\n\
             # device: {device}\n\
             # fingerprint: {fingerprint}\n\
             # written: {}\n\
             {recipient}\n",
            crate::now_utc()
        );
        crate::files::write_private(path, text.as_bytes())?;
        Ok(RecipientExport { path: path.to_path_buf(), recipient, fingerprint, device })
    }

    /// Stops encrypting bundles to `recipient` (a station key lost or
    /// replaced); says whether it was trusted.
    pub fn untrust_recipient(&mut self, recipient: &str) -> Result<bool> {
        self.require(Action::EnrolDevice)?;
        self.with_note(|conn| {
            let removed =
                conn.execute("DELETE FROM trusted_recipient WHERE recipient = ?1", params![recipient.trim()])? > 0;
            Ok((removed, removed.then(|| Note::new(Act::KeyUntrust, recipient.trim()))))
        })
    }

    /// A person approves computer `device`: its next bundle's signing key
    /// is pinned (when `fingerprint` is given, only a key with that
    /// fingerprint). With `reenrol`, a computer approved before with
    /// another key (reinstalled) is approved afresh: its old key, and the
    /// recipient it was enrolled with, are forgotten.
    pub fn approve_device(&mut self, device: Uuid, fingerprint: Option<&str>, reenrol: bool) -> Result<Approval> {
        self.require(Action::EnrolDevice)?;
        let (actor, me) = (self.actor().clone(), self.device().ok().map(|d| d.id));
        let tx = self.transaction()?;
        let pinned: Option<Option<String>> = tx
            .query_row("SELECT signing_key FROM device_key WHERE device_id = ?1", params![device.to_string()], |r| {
                r.get(0)
            })
            .optional()?;
        let given = fingerprint.map(str::trim).filter(|f| !f.is_empty());
        if let Some(f) = given {
            if normal(f).len() != 16 {
                return Err(Error::field("fingerprint", "invalid_fingerprint"));
            }
        }
        match (pinned, reenrol) {
            (Some(Some(key)), false) => {
                // Approved already: the same key again is no change.
                if given.is_some_and(|f| normal(f) != normal(&self::fingerprint(&key))) {
                    return Err(Error::field("fingerprint", "fingerprint_mismatch"));
                }
            }
            (Some(_), true) => {
                tx.execute("DELETE FROM trusted_recipient WHERE device_id = ?1", params![device.to_string()])?;
                tx.execute(
                    "UPDATE device_key SET signing_key = NULL, pinned_at = NULL, fingerprint = ?2, approved_at = ?3
                     WHERE device_id = ?1",
                    params![device.to_string(), given, crate::now_utc()],
                )?;
            }
            (Some(None), false) => {
                tx.execute(
                    "UPDATE device_key SET fingerprint = ?2, approved_at = ?3 WHERE device_id = ?1",
                    params![device.to_string(), given, crate::now_utc()],
                )?;
            }
            (None, _) => {
                tx.execute(
                    "INSERT INTO device_key (device_id, fingerprint, approved_at) VALUES (?1, ?2, ?3)",
                    params![device.to_string(), given, crate::now_utc()],
                )?;
            }
        }
        let approval = tx.query_row(
            "SELECT signing_key, fingerprint, approved_at FROM device_key WHERE device_id = ?1",
            params![device.to_string()],
            |r| {
                let key: Option<String> = r.get(0)?;
                Ok(Approval {
                    device_id: device,
                    pinned: key.is_some(),
                    fingerprint: r.get(1)?,
                    approved_at: r.get(2)?,
                })
            },
        )?;
        if let Some(me) = me {
            let detail = match (reenrol, given) {
                (true, Some(f)) => format!("enrolled again, fingerprint {f}"),
                (true, None) => "enrolled again".to_string(),
                (false, Some(f)) => format!("fingerprint {f}"),
                (false, None) => String::new(),
            };
            crate::audit::append(&tx, me, &actor, Note::new(Act::DeviceApprove, device).detail(detail))?;
        }
        tx.commit()?;
        Ok(approval)
    }

    /// Writes this computer's secret age identity to `path`, as `age-keygen`
    /// does (readable by `age -d -i`), readable by its owner only. Never
    /// over an existing file. Whoever holds it reads every bundle sent to
    /// this computer: keep it offline, e.g. on paper in a safe.
    pub fn write_identity_file(&self, path: &Path) -> Result<()> {
        self.require(Action::ManageAccounts)?;
        use std::io::Write;
        let own = load(self.conn())?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
        let device = self.device().map(|d| d.name.clone()).unwrap_or_default();
        write!(
            file,
            "# Wafira Field: age identity of {device:?}, written {}\n# public key: {}\n{}\n",
            crate::now_utc(),
            own.recipient(),
            own.identity_text()
        )?;
        file.sync_all()?;
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        self.log(Note::new(Act::KeyExportIdentity, name))
    }
}
