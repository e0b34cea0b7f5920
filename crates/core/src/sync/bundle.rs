//! The bundle file: what it holds and every check that needs no database.
//!
//! A bundle file is an [age](https://age-encryption.org/v1) file (X25519
//! recipients: the computers the maker trusts, and itself) whose plaintext,
//! readable with `age -d -i identity.txt bundle.wafira | head -c 2000`, is:
//!
//! ```text
//! WAFIRA-BUNDLE 1\n                 container format
//! {"encryption":"none",…}\n         envelope: compression, signature, manifest checksum
//! {manifest JSON}\n                 what the bundle says it carries, who made it, its keys
//! payload                           zstd of one JSON change per line
//! ```
//!
//! The envelope holds the Ed25519 signature of the manifest by the
//! computer that made it (its public key is in the manifest, `keys`) and
//! the SHA-256 of the manifest; the manifest carries the SHA-256 of the
//! uncompressed content. So the signature covers everything, and one byte
//! changed anywhere, or a file cut short, is caught before anything is
//! written. Its `encryption` stays `none`: the encryption is the age layer
//! around the whole plaintext ([`seal`], [`unseal`]).
//!
//! A plaintext bundle with no signature is what versions before signed
//! bundles wrote; the import decides what to do with one (sync/keys.rs).

use crate::clock::Hlc;
use crate::error::{Error, Result};
use crate::store::log::{Change, ChangeRow, Entity, Op};
use crate::store::{schema, Device};
use crate::sync::keys::OwnKeys;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::fmt;
use uuid::Uuid;

/// How every age file begins (the reference `age` tool writes the same).
pub const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";
/// What a signature covers: these bytes, then the manifest's JSON as it
/// stands in the file (which holds the content's SHA-256).
const SIGNED_PREFIX: &[u8] = b"WAFIRA-BUNDLE-MANIFEST 1\n";

pub const MAGIC: &str = "WAFIRA-BUNDLE";
/// The container format this program writes and reads.
pub const FORMAT: u32 = 1;
const COMPRESSION: &str = "zstd";
/// The largest change number (and bundle number) a bundle may carry: 2^53,
/// where numbers still count one by one in a double (JavaScript, JSON
/// tools). A device numbers its changes 1, 2, 3…, so no real one comes
/// near; a larger one is refused, and the next number a database gives
/// (`max(seq) + 1`) can never overflow.
pub const MAX_SEQ: i64 = 1 << 53;
/// The most content a bundle may declare, refused before anything is
/// unpacked: 512 MiB. A station's full export for 3,000 people and 80,000
/// records is about 60 MB of content, so this leaves 8 times that; it also
/// bounds what a hostile file can make an import hold in memory (the
/// content is inflated only up to what the manifest declares, and kept
/// with its lines, about twice that).
///
/// The ratio of content to compressed payload is not bounded: an edit
/// history saving the same long notes again and again reaches 1,164 to 1
/// (measured, notes of 4,000 emoji saved 300 times), a bomb of zeros
/// 32,000 to 1: too close to tell apart without refusing real bundles.
/// What bounds a bomb is the declared size above and [`MAX_LINE`], checked
/// as the content comes out.
pub const MAX_CONTENT: u64 = 512 << 20;
/// The longest content line (one change) read: 1 MiB. The longest a form
/// can write (notes of 4,000 characters of up to 4 bytes each, in the
/// change's fields, old values and base) is about 100 KB.
pub const MAX_LINE: usize = 1 << 20;

/// Why a bundle is refused. Each has a stable code the window translates
/// (`error.bundle_<code>`); the text is for the CLI and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotABundle,
    UnknownFormat(String),
    /// Made by a later program (its schema is newer than this one's):
    /// `version` is the program that made it, from its manifest (absent
    /// from bundles of versions before the manifest carried it), so the
    /// person knows which version to install.
    UnknownSchema {
        found: i64,
        known: i64,
        version: Option<String>,
    },
    Encrypted(String),
    Truncated,
    Corrupt(String),
    Inconsistent(String),
    Forged(String),
    InvalidRecord(String),
    /// Changes stamped further ahead of this machine's clock than
    /// [`crate::clock::HOLD_AHEAD_MS`]: a laptop's clock set wrong. Held
    /// until a person accepts them (`accept_future`).
    AheadOfClock {
        device: String,
        at: String,
    },
    /// An encrypted bundle none of whose recipients is this computer.
    NotAddressed,
    /// A signature that does not verify: changed after it was made, or
    /// made by another key than the one it names.
    BadSignature(String),
    /// Signed by a computer never approved here: a person compares the
    /// fingerprint with the one that computer shows, then approves it.
    UnknownDevice {
        device: Uuid,
        name: String,
        fingerprint: String,
    },
    /// Signed by another key than the one approved here for that computer.
    KeyChanged {
        device: Uuid,
        name: String,
        fingerprint: String,
        approved: String,
    },
    /// Not signed, but from a computer whose bundles are signed.
    Unsigned {
        device: Uuid,
        name: String,
    },
    /// An export with no computer to send it to but this one.
    NoRecipient,
    /// An audit entry that is not whole, or does not link to the entries
    /// of its machine's chain held here or carried with it: the bundle
    /// (or that machine's log) was edited by hand.
    AuditBroken {
        device: Uuid,
        name: String,
        seq: i64,
        problem: String,
    },
    /// A practice bundle brought to real data, or a real one to practice.
    PracticeMismatch {
        name: String,
        practice: bool,
    },
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotABundle => "bundle_not_a_bundle",
            Refusal::UnknownFormat(_) => "bundle_unknown_format",
            Refusal::UnknownSchema { .. } => "bundle_unknown_schema",
            Refusal::Encrypted(_) => "bundle_encrypted",
            Refusal::Truncated => "bundle_truncated",
            Refusal::Corrupt(_) => "bundle_corrupt",
            Refusal::Inconsistent(_) => "bundle_inconsistent",
            Refusal::Forged(_) => "bundle_forged",
            Refusal::InvalidRecord(_) => "bundle_invalid_record",
            Refusal::AheadOfClock { .. } => "bundle_ahead_of_clock",
            Refusal::NotAddressed => "bundle_not_addressed",
            Refusal::BadSignature(_) => "bundle_bad_signature",
            Refusal::UnknownDevice { .. } => "bundle_unknown_device",
            Refusal::KeyChanged { .. } => "bundle_key_changed",
            Refusal::Unsigned { .. } => "bundle_unsigned",
            Refusal::NoRecipient => "bundle_no_recipient",
            Refusal::AuditBroken { .. } => "bundle_audit_broken",
            Refusal::PracticeMismatch { practice: true, .. } => "bundle_practice",
            Refusal::PracticeMismatch { practice: false, .. } => "bundle_real_into_practice",
        }
    }

    /// What the window needs besides the code, to name a computer and act
    /// on it (approve it): `{device, name, fingerprint, approved}`.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            Refusal::UnknownDevice { device, name, fingerprint } => {
                Some(serde_json::json!({ "device": device, "name": name, "fingerprint": fingerprint }))
            }
            Refusal::KeyChanged { device, name, fingerprint, approved } => Some(
                serde_json::json!({ "device": device, "name": name, "fingerprint": fingerprint, "approved": approved }),
            ),
            Refusal::Unsigned { device, name } => Some(serde_json::json!({ "device": device, "name": name })),
            Refusal::AheadOfClock { device, at } => Some(serde_json::json!({ "name": device, "at": at })),
            Refusal::AuditBroken { device, name, seq, .. } => {
                Some(serde_json::json!({ "device": device, "name": name, "seq": seq }))
            }
            Refusal::PracticeMismatch { name, .. } => Some(serde_json::json!({ "name": name })),
            Refusal::UnknownSchema { version, .. } => Some(serde_json::json!({
                "version": version.as_deref().unwrap_or("?"),
                "current": crate::APP_VERSION,
            })),
            _ => None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotABundle => write!(f, "this file is not a Wafira bundle"),
            Refusal::UnknownFormat(v) => write!(f, "unknown bundle format {v:?} (this program reads format {FORMAT})"),
            Refusal::UnknownSchema { found, known, version } => {
                let current = crate::APP_VERSION;
                write!(f, "the bundle was made with schema version {found}, this program knows up to {known}: ")?;
                match version {
                    Some(v) => write!(f, "install Wafira Field {v} or later (this is {current})"),
                    None => write!(f, "install a later Wafira Field than this one ({current})"),
                }
            }
            Refusal::Encrypted(e) => write!(f, "the bundle is encrypted ({e}), which this version cannot read"),
            Refusal::Truncated => write!(f, "the file is truncated (incomplete copy?)"),
            Refusal::Corrupt(d) => write!(f, "the file is damaged: {d}"),
            Refusal::Inconsistent(d) => write!(f, "the bundle does not match its manifest: {d}"),
            Refusal::Forged(d) => write!(f, "a device claims another identity: {d}"),
            Refusal::InvalidRecord(d) => write!(f, "the bundle holds an invalid record: {d}"),
            Refusal::AheadOfClock { device, at } => write!(
                f,
                "{device} dated changes {at}, more than a day ahead of this computer's clock: check that laptop's \
                 date; to take them anyway, import with --accept-future"
            ),
            Refusal::NotAddressed => write!(
                f,
                "this bundle is not addressed to this computer: the computer that made it must trust this one's key \
                 (`wafira keys show` here gives it; `wafira keys trust --name NAME RECIPIENT` there adds it)"
            ),
            Refusal::BadSignature(d) => write!(
                f,
                "the bundle's signature is not valid ({d}): it was changed after it was made, or made by someone else"
            ),
            Refusal::UnknownDevice { device, name, fingerprint } => write!(
                f,
                "{name} ({device}) has never been approved on this computer; its key's fingerprint is {fingerprint}. \
                 Check that it is the fingerprint that computer shows (`wafira keys show`, or its Sync screen), then \
                 approve it: `wafira devices approve {device}` (or import with --approve-new)"
            ),
            Refusal::KeyChanged { device, name, fingerprint, approved } => write!(
                f,
                "{name} ({device}) signed this bundle with another key ({fingerprint}) than the one approved here \
                 ({approved}): if that computer was reinstalled, check its new fingerprint there, then enrol it again: \
                 `wafira devices approve {device} --reenrol`"
            ),
            Refusal::Unsigned { device, name } => write!(
                f,
                "this bundle is not signed, but {name} ({device}) signs its bundles: it was not made by that computer"
            ),
            Refusal::NoRecipient => write!(
                f,
                "no other computer to send this bundle to: add the station's key with \
                 `wafira keys trust --name NAME RECIPIENT` (its recipient, age1…, is shown by `wafira keys show` \
                 on the station)"
            ),
            Refusal::AuditBroken { device, name, seq, problem } => write!(
                f,
                "the audit log of {name} ({device}) in this bundle is broken at entry {seq}: {problem}; the bundle \
                 or that computer's log was edited"
            ),
            Refusal::PracticeMismatch { name, practice: true } => {
                write!(f, "{name} made this bundle in its practice database (made-up people): real data never take it")
            }
            Refusal::PracticeMismatch { name, practice: false } => {
                write!(f, "{name} made this bundle from real data: a practice database takes no real bundle")
            }
        }
    }
}

fn refuse<T>(r: Refusal) -> Result<T> {
    Err(Error::Refused(r))
}

/// A device as a bundle names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRef {
    pub id: Uuid,
    pub name: String,
    pub coordinator: String,
    /// The identity this device continues (a restored or copied database
    /// takes a new one, linked to the old).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor_of: Option<Uuid>,
    /// When its coordinator's name was last changed (a UTC instant): the
    /// latest change wins where bundles meet (sync/devices.rs). Absent
    /// when never renamed, and from bundles of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinator_since: Option<String>,
}

impl From<&Device> for DeviceRef {
    fn from(d: &Device) -> Self {
        DeviceRef {
            id: d.id,
            name: d.name.clone(),
            coordinator: d.coordinator.clone(),
            successor_of: d.successor_of,
            coordinator_since: None,
        }
    }
}

impl From<&DeviceRef> for Device {
    fn from(d: &DeviceRef) -> Self {
        Device { id: d.id, name: d.name.clone(), coordinator: d.coordinator.clone(), successor_of: d.successor_of }
    }
}

/// The changes of one device a bundle carries: numbers `from_seq` to
/// `to_seq` (not necessarily all of them), `count` in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRange {
    #[serde(flatten)]
    pub device: DeviceRef,
    pub from_seq: i64,
    pub to_seq: i64,
    pub count: usize,
}

/// Changes per kind of record and operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounts {
    pub create: usize,
    pub update: usize,
    pub archive: usize,
}

/// What a bundle says it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub schema_version: i64,
    pub bundle_id: Uuid,
    /// The device that exported it.
    pub source: DeviceRef,
    /// Its export number on that device: 1, 2, 3… (gaps show missing bundles).
    pub number: i64,
    /// Everything the device holds, rather than what is new since its last export.
    pub full: bool,
    pub created_at: String,
    pub devices: Vec<DeviceRange>,
    pub counts: BTreeMap<Entity, OpCounts>,
    pub changes: usize,
    pub content_bytes: u64,
    pub content_sha256: String,
    /// The exporting machine asks for a full bundle back (it was restored
    /// or copied, or is new): the request's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wants_full: Option<Uuid>,
    /// The requests this (full) bundle answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serves: Vec<Uuid>,
    /// The exporting computer's public keys, covered by the signature:
    /// absent from bundles of versions before signed bundles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<SourceKeys>,
    /// The audit entries that follow the change lines in the content
    /// (crates/core/src/audit.rs): absent from bundles of versions before
    /// the audit trail, and from bundles that carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::audit::AuditSection>,
    /// Made by a practice database (made-up people): never taken by a real
    /// database, and a practice database takes no real bundle.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub practice: bool,
    /// The version of the program that made it ([`crate::APP_VERSION`]):
    /// named when a station too old for the bundle refuses it. Absent from
    /// bundles of versions before it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
}

/// A version as a manifest may name it to a person (`0.2.0`, `1.0.0-rc.1`):
/// short, and only digits, letters, dots, `-` and `+`. The manifest is read
/// before its signature is checked, so anything else is not repeated.
fn is_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 32
        && v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
}

/// A computer's public keys, as its manifests carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceKeys {
    /// Its Ed25519 public key, hex: the key that signs its bundles.
    pub signing_key: String,
    /// Its age recipient (`age1…`): what bundles for it are encrypted to.
    pub recipient: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    encryption: String,
    compression: String,
    /// `{"alg":"ed25519","sig":"<hex>"}`; `null` in bundles of versions
    /// before signed bundles.
    signature: Option<serde_json::Value>,
    manifest_bytes: usize,
    manifest_sha256: String,
    payload_bytes: usize,
}

/// A decoded bundle whose every self-check passed.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub manifest: Manifest,
    pub changes: Vec<Change>,
}

/// A bundle whose every self-check passed, its changes as their lines
/// hold them ([`Line`]): what an import reads.
#[derive(Debug)]
pub struct Unpacked {
    pub manifest: Manifest,
    pub lines: Vec<Line>,
    /// Its manifest is signed with the key it names (the signature checked).
    pub signed: bool,
    /// The audit entries it carries, each whole (crates/core/src/audit.rs).
    pub audit: Vec<crate::audit::Entry>,
}

/// One change as a bundle line holds it, its JSON objects left as text:
/// an import stores them as they came and reads `fields` straight into a
/// typed record, without building a JSON tree in between.
#[derive(Debug, Deserialize)]
pub struct Line {
    pub device_id: Uuid,
    pub seq: i64,
    pub hlc: Hlc,
    pub entity: Entity,
    pub record_id: Uuid,
    pub op: Op,
    pub fields: Box<RawValue>,
    #[serde(default = "empty_object")]
    pub old: Box<RawValue>,
    #[serde(default = "empty_object")]
    pub base: Box<RawValue>,
    pub at: String,
    pub coordinator: String,
}

fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".into()).unwrap_or_else(|_| unreachable!("{{}} is JSON"))
}

impl Line {
    /// The change it holds, its objects read.
    pub fn change(&self) -> serde_json::Result<Change> {
        Ok(Change {
            device_id: self.device_id,
            seq: self.seq,
            hlc: self.hlc,
            entity: self.entity,
            record_id: self.record_id,
            op: self.op,
            fields: serde_json::from_str(self.fields.get())?,
            old: serde_json::from_str(self.old.get())?,
            base: serde_json::from_str(self.base.get())?,
            at: self.at.clone(),
            coordinator: self.coordinator.clone(),
        })
    }

    /// The row of the change log it makes.
    pub fn row(&self) -> ChangeRow<'_> {
        ChangeRow {
            device_id: self.device_id,
            seq: self.seq,
            hlc: self.hlc,
            entity: self.entity,
            record_id: self.record_id,
            op: self.op,
            fields: self.fields.get(),
            old: self.old.get(),
            base: self.base.get(),
            at: &self.at,
            coordinator: &self.coordinator,
        }
    }

    /// The device a creation says made the record (`created_by`), if it says.
    fn created_by(&self) -> serde_json::Result<Option<Uuid>> {
        #[derive(Deserialize)]
        struct Maker {
            created_by: Option<serde_json::Value>,
        }
        let maker: Maker = serde_json::from_str(self.fields.get())?;
        Ok(maker.created_by.as_ref().and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok()))
    }
}

/// Counts changes per device and per kind of record, as a manifest states them.
#[derive(Default)]
pub(crate) struct Tally {
    ranges: BTreeMap<Uuid, DeviceRange>,
    counts: BTreeMap<Entity, OpCounts>,
    changes: usize,
}

impl Tally {
    pub fn add(&mut self, device: Uuid, seq: i64, entity: Entity, op: Op) {
        let r = self.ranges.entry(device).or_insert_with(|| DeviceRange {
            device: DeviceRef {
                id: device,
                name: String::new(),
                coordinator: String::new(),
                successor_of: None,
                coordinator_since: None,
            },
            from_seq: seq,
            to_seq: seq,
            count: 0,
        });
        r.from_seq = r.from_seq.min(seq);
        r.to_seq = r.to_seq.max(seq);
        r.count += 1;
        let n = self.counts.entry(entity).or_default();
        match op {
            Op::Create => n.create += 1,
            Op::Update => n.update += 1,
            Op::Archive => n.archive += 1,
        }
        self.changes += 1;
    }

    /// Fills a manifest's ranges (named from `names`) and counts.
    pub fn fill(self, m: &mut Manifest, names: &BTreeMap<Uuid, DeviceRef>) {
        m.devices = self
            .ranges
            .into_values()
            .map(|mut r| {
                if let Some(n) = names.get(&r.device.id) {
                    r.device = n.clone();
                }
                r
            })
            .collect();
        m.counts = self.counts;
        m.changes = self.changes;
    }
}

/// One change as a line of a bundle's content.
pub fn content_line(out: &mut Vec<u8>, c: &Change) -> Result<()> {
    serde_json::to_writer(&mut *out, c)?;
    out.push(b'\n');
    Ok(())
}

/// Writes a bundle around `content` (one change per line, as
/// [`content_line`] writes them; the manifest's ranges and counts already
/// filled): adds the checksums and compresses; gives the plaintext's
/// bytes, unsigned: what versions before signed bundles wrote (the tests
/// and the sync bench make such bundles; the app signs, [`encode_signed`]).
pub fn encode(manifest: Manifest, content: &[u8]) -> Result<(Vec<u8>, Manifest)> {
    encode_with(manifest, content, None, None)
}

/// [`encode`], the manifest naming `keys`' public keys and signed with
/// its signing key: the plaintext of a bundle, before [`seal`].
pub fn encode_signed(manifest: Manifest, content: &[u8], keys: &OwnKeys) -> Result<(Vec<u8>, Manifest)> {
    encode_signed_with_audit(manifest, content, None, keys)
}

/// [`encode_signed`], the last `audit.bytes` bytes of `content` being the
/// audit entries `audit` describes (one JSON entry per line, after the
/// change lines). Without `audit` the bundle carries none (a bundle
/// rewritten from its changes alone drops them).
pub fn encode_signed_with_audit(
    mut manifest: Manifest,
    content: &[u8],
    audit: Option<crate::audit::AuditSection>,
    keys: &OwnKeys,
) -> Result<(Vec<u8>, Manifest)> {
    manifest.keys = Some(keys.source_keys());
    encode_with(manifest, content, audit, Some(&keys.signing))
}

fn encode_with(
    mut manifest: Manifest,
    content: &[u8],
    audit: Option<crate::audit::AuditSection>,
    signer: Option<&SigningKey>,
) -> Result<(Vec<u8>, Manifest)> {
    if audit.as_ref().is_some_and(|a| a.bytes > content.len() as u64) {
        return Err(Error::Other("internal: the audit entries are longer than the content".into()));
    }
    manifest.audit = audit.filter(|a| a.entries > 0);
    manifest.format = FORMAT;
    manifest.content_bytes = content.len() as u64;
    manifest.content_sha256 = super::sha256_hex(content);
    let manifest_json = serde_json::to_vec(&manifest)?;
    let payload = zstd::bulk::compress(content, 3)?;
    let envelope = Envelope {
        encryption: "none".into(),
        compression: COMPRESSION.into(),
        signature: signer.map(|k| {
            let sig = k.sign(&signed_message(&manifest_json));
            serde_json::json!({ "alg": "ed25519", "sig": super::hex(&sig.to_bytes()) })
        }),
        manifest_bytes: manifest_json.len(),
        manifest_sha256: super::sha256_hex(&manifest_json),
        payload_bytes: payload.len(),
    };
    let mut out = Vec::with_capacity(payload.len() + manifest_json.len() + 512);
    out.extend_from_slice(format!("{MAGIC} {FORMAT}\n").as_bytes());
    serde_json::to_writer(&mut out, &envelope)?;
    out.push(b'\n');
    out.extend_from_slice(&manifest_json);
    out.push(b'\n');
    out.extend_from_slice(&payload);
    Ok((out, manifest))
}

/// Splits off the next line (without its `\n`), looking at most `max` bytes.
fn line(bytes: &[u8], max: usize) -> Result<(&[u8], &[u8])> {
    match bytes.iter().take(max).position(|b| *b == b'\n') {
        Some(i) => Ok((&bytes[..i], &bytes[i + 1..])),
        None if bytes.len() < max => refuse(Refusal::Truncated),
        None => refuse(Refusal::Corrupt("a header line is too long".into())),
    }
}

/// Reads only the manifest of a plaintext bundle (after checking it and its
/// signature, if signed), without unpacking the changes.
pub fn read_manifest(bytes: &[u8]) -> Result<Manifest> {
    Ok(open(bytes)?.0)
}

/// [`read_manifest`], and whether it is signed (its signature checked).
pub fn read_signed_manifest(bytes: &[u8]) -> Result<(Manifest, bool)> {
    let (manifest, _, signed) = open(bytes)?;
    Ok((manifest, signed))
}

/// What a signature covers.
fn signed_message(manifest_json: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNED_PREFIX.len() + manifest_json.len());
    m.extend_from_slice(SIGNED_PREFIX);
    m.extend_from_slice(manifest_json);
    m
}

/// Checks the envelope's signature of the manifest with the key the
/// manifest names.
fn verify(signature: &serde_json::Value, manifest: &Manifest, manifest_json: &[u8]) -> Result<()> {
    let bad = |d: &str| refuse(Refusal::BadSignature(d.into()));
    if signature.get("alg").and_then(|a| a.as_str()) != Some("ed25519") {
        return bad("unknown signature algorithm");
    }
    let Some(sig) = signature.get("sig").and_then(|s| s.as_str()).and_then(unhex::<64>) else {
        return bad("the signature is not 64 bytes of hex");
    };
    let Some(key) = manifest.keys.as_ref().and_then(|k| verifying_key(&k.signing_key)) else {
        return bad("the manifest names no valid signing key");
    };
    let sig = ed25519_dalek::Signature::from_bytes(&sig);
    key.verify_strict(&signed_message(manifest_json), &sig).or_else(|_| bad("it does not match the manifest"))
}

/// An Ed25519 public key from its hex.
pub fn verifying_key(hex: &str) -> Option<VerifyingKey> {
    VerifyingKey::from_bytes(&unhex::<32>(hex)?).ok()
}

/// `N` bytes from exactly `2 N` hex digits.
pub(crate) fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; N];
    for (i, pair) in s.chunks(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// Whether a file is an age file (a bundle as this version writes them).
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(AGE_MAGIC)
}

/// Encrypts a bundle's plaintext to `recipients` (the age format, as the
/// reference `age -r` writes it).
pub fn seal(plain: &[u8], recipients: &[age::x25519::Recipient]) -> Result<Vec<u8>> {
    use std::io::Write;
    let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
        .map_err(|e| Error::Other(format!("cannot encrypt the bundle: {e}")))?;
    let mut out = Vec::with_capacity(plain.len() + plain.len() / 4096 + 512);
    let mut writer = encryptor.wrap_output(&mut out)?;
    writer.write_all(plain)?;
    writer.finish()?;
    Ok(out)
}

/// Decrypts an age file with this computer's identity: refused as not
/// addressed to it when none of its recipients is this computer; as
/// truncated or damaged when it cannot be read whole. The plaintext is
/// never longer than the file.
pub fn unseal(bytes: &[u8], identity: &age::x25519::Identity) -> Result<Vec<u8>> {
    use age::DecryptError as D;
    use std::io::Read;
    let refusal = |e: D| match e {
        D::NoMatchingKeys => Refusal::NotAddressed,
        D::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Refusal::Truncated,
        D::UnknownFormat => Refusal::UnknownFormat("an age file of an unknown version".into()),
        e => Refusal::Corrupt(format!("the encrypted file cannot be read ({e})")),
    };
    let decryptor = age::Decryptor::new_buffered(bytes).map_err(|e| Error::Refused(refusal(e)))?;
    let mut reader =
        decryptor.decrypt(std::iter::once(identity as &dyn age::Identity)).map_err(|e| Error::Refused(refusal(e)))?;
    let mut plain = Vec::with_capacity(bytes.len());
    reader.read_to_end(&mut plain).map_err(|e| {
        Error::Refused(if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Refusal::Truncated
        } else {
            Refusal::Corrupt(format!("the encrypted file is damaged ({e})"))
        })
    })?;
    Ok(plain)
}

/// Checks the container, envelope, manifest and signature; gives the
/// manifest, the compressed payload and whether it is signed.
fn open(bytes: &[u8]) -> Result<(Manifest, &[u8], bool)> {
    if !bytes.starts_with(MAGIC.as_bytes()) {
        // A file cut inside its first line is still recognisably ours.
        if !bytes.is_empty() && (MAGIC.as_bytes().starts_with(bytes) || AGE_MAGIC.starts_with(bytes)) {
            return refuse(Refusal::Truncated);
        }
        return refuse(Refusal::NotABundle);
    }
    let (first, rest) = line(bytes, 64)?;
    let version = std::str::from_utf8(&first[MAGIC.len()..]).unwrap_or("?").trim().to_string();
    if version != FORMAT.to_string() {
        return refuse(Refusal::UnknownFormat(version));
    }
    let (envelope, rest) = line(rest, 64 * 1024)?;
    let envelope: Envelope =
        serde_json::from_slice(envelope).or_else(|_| refuse(Refusal::Corrupt("the envelope is not valid".into())))?;
    if envelope.encryption != "none" {
        return refuse(Refusal::Encrypted(envelope.encryption));
    }
    if envelope.compression != COMPRESSION {
        return refuse(Refusal::UnknownFormat(format!("compression {}", envelope.compression)));
    }
    // The manifest and its `\n` (compared so, no sum of the file's numbers
    // can overflow).
    if rest.len() <= envelope.manifest_bytes {
        return refuse(Refusal::Truncated);
    }
    let (manifest_json, rest) = rest.split_at(envelope.manifest_bytes);
    if super::sha256_hex(manifest_json) != envelope.manifest_sha256 || rest.first() != Some(&b'\n') {
        return refuse(Refusal::Corrupt("the manifest does not match its checksum".into()));
    }
    let payload = &rest[1..];
    let manifest: Manifest = serde_json::from_slice(manifest_json)
        .or_else(|e| refuse(Refusal::Corrupt(format!("the manifest is not valid: {e}"))))?;
    if manifest.format != FORMAT {
        return refuse(Refusal::UnknownFormat(manifest.format.to_string()));
    }
    let known = schema::content_version();
    if manifest.schema_version < 1 || manifest.schema_version > known {
        let version = manifest.app_version.as_deref().filter(|v| is_version(v)).map(str::to_string);
        return refuse(Refusal::UnknownSchema { found: manifest.schema_version, known, version });
    }
    if payload.len() < envelope.payload_bytes {
        return refuse(Refusal::Truncated);
    }
    if payload.len() > envelope.payload_bytes {
        return refuse(Refusal::Corrupt("bytes follow the end of the bundle".into()));
    }
    check_manifest(&manifest)?;
    let signed = match &envelope.signature {
        None | Some(serde_json::Value::Null) => false,
        Some(signature) => {
            verify(signature, &manifest, manifest_json)?;
            true
        }
    };
    Ok((manifest, payload, signed))
}

/// What a manifest's numbers must be before any is used: the content
/// within [`MAX_CONTENT`], the bundle's and the changes' numbers within
/// 1 to [`MAX_SEQ`], each device's count within its range.
fn check_manifest(m: &Manifest) -> Result<()> {
    let inconsistent = |d: String| refuse(Refusal::Inconsistent(d));
    if m.content_bytes > MAX_CONTENT {
        return inconsistent(format!(
            "it declares {} bytes of content, more than the {} MiB a bundle may hold",
            m.content_bytes,
            MAX_CONTENT >> 20
        ));
    }
    if !(1..=MAX_SEQ).contains(&m.number) {
        return inconsistent(format!("its number {} is not between 1 and {MAX_SEQ}", m.number));
    }
    if let Some(a) = &m.audit {
        if a.entries as u64 > a.bytes || a.machines.len() > a.entries {
            return inconsistent(format!(
                "it declares {} audit entries in {} bytes, naming {} machines",
                a.entries,
                a.bytes,
                a.machines.len()
            ));
        }
    }
    for r in &m.devices {
        let numbered = |n: i64| (1..=MAX_SEQ).contains(&n);
        // Both numbers within 1..=MAX_SEQ: the span cannot overflow.
        if !numbered(r.from_seq) || !numbered(r.to_seq) || r.from_seq > r.to_seq {
            return inconsistent(format!(
                "device {} is listed with changes {} to {}, not numbers from 1 to {MAX_SEQ} in order",
                r.device.id, r.from_seq, r.to_seq
            ));
        }
        if r.count as u64 > (r.to_seq - r.from_seq + 1) as u64 {
            return inconsistent(format!(
                "device {} is listed with {} changes numbered {} to {}",
                r.device.id, r.count, r.from_seq, r.to_seq
            ));
        }
    }
    Ok(())
}

/// The content of a payload, which must be exactly `declared` bytes (at
/// most [`MAX_CONTENT`], checked by [`open`]). Inflated a piece at a time:
/// memory follows what really comes out, never what the manifest claims,
/// and it stops as soon as more comes out than declared, or a line runs
/// past [`MAX_LINE`] (a bomb of zeros stops after 1 MiB).
fn inflate(payload: &[u8], declared: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    const PIECE: usize = 256 * 1024;
    let damaged = |e: std::io::Error| Error::Refused(Refusal::Corrupt(format!("the content cannot be unpacked ({e})")));
    let declared = usize::try_from(declared.min(MAX_CONTENT)).unwrap_or(0);
    // One byte more than declared tells a payload that makes more.
    let limit = declared + 1;
    let mut decoder = zstd::stream::read::Decoder::with_buffer(payload).map_err(damaged)?;
    // A real manifest declares the very size: room for it (and the byte
    // that would be one too many) at once, unless that is more than a
    // payload of this size usually makes (16 to 1).
    let mut content: Vec<u8> = Vec::with_capacity(limit.min(payload.len().saturating_mul(16)));
    // Bytes since the last `\n`.
    let mut run = 0usize;
    loop {
        let start = content.len();
        let want = PIECE.min(limit - start);
        if content.capacity() - start < want {
            // Doubling, never past the limit.
            content.reserve_exact(start.max(want).min(limit - start));
        }
        // Into the room made, so the vector never grows by itself.
        let n = (&mut decoder).take(want as u64).read_to_end(&mut content).map_err(damaged)?;
        if content.len() > declared {
            return refuse(Refusal::Corrupt(format!(
                "the content is longer than the {declared} bytes its manifest says"
            )));
        }
        let fresh = &content[start..];
        run = match fresh.iter().rposition(|b| *b == b'\n') {
            Some(i) => fresh.len() - i - 1,
            None => run + fresh.len(),
        };
        if run > MAX_LINE {
            let number = content.iter().filter(|b| **b == b'\n').count() + 1;
            return Err(too_long(number, run));
        }
        if n < want {
            break;
        }
    }
    if content.len() < declared {
        return refuse(Refusal::Corrupt(format!(
            "the content is {} bytes where its manifest says {declared}",
            content.len()
        )));
    }
    Ok(content)
}

/// The refusal of change `number`, `len` bytes long (or more).
fn too_long(number: usize, len: usize) -> Error {
    Error::Refused(Refusal::InvalidRecord(format!(
        "change {number} is {len} bytes long or more, past the {} MiB a change may take",
        MAX_LINE >> 20
    )))
}

/// Reads a bundle and checks everything it can on its own (see [`unpack`]).
pub fn decode(bytes: &[u8]) -> Result<Bundle> {
    let Unpacked { manifest, lines, .. } = unpack(bytes)?;
    let changes = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            l.change().or_else(|e| refuse(Refusal::InvalidRecord(format!("change {} is not valid: {e}", i + 1))))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Bundle { manifest, changes })
}

/// Reads a bundle and checks everything it can on its own: container and
/// schema versions, checksums, that the changes are exactly those the
/// manifest lists, and that no change claims a device that did not make it.
pub fn unpack(bytes: &[u8]) -> Result<Unpacked> {
    let (manifest, payload, signed) = open(bytes)?;
    let whole = inflate(payload, manifest.content_bytes)?;
    // The audit entries follow the change lines (checked against the
    // whole content's checksum below, with the changes).
    let audit_bytes = manifest.audit.as_ref().map_or(0, |a| a.bytes);
    let Some(changes_end) = usize::try_from(audit_bytes).ok().and_then(|a| whole.len().checked_sub(a)) else {
        return refuse(Refusal::Inconsistent(format!(
            "it declares {audit_bytes} bytes of audit entries in {} bytes of content",
            whole.len()
        )));
    };
    let (content, audit_lines) = whole.split_at(changes_end);
    if !content.is_empty() && !content.ends_with(b"\n") {
        return refuse(Refusal::Inconsistent("the audit entries do not begin on a line of their own".into()));
    }
    // Two cores: the checksum and the first half of the lines on one, the
    // second half on the other (the hash runs beside the first half, so
    // that both take about as long).
    let cut = content[content.len() / 2..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(content.len(), |i| content.len() / 2 + i + 1);
    let (first, second) = content.split_at(cut);
    let first_lines = first.iter().filter(|b| **b == b'\n').count();
    let lost = || Error::Refused(Refusal::Corrupt("the content cannot be read".into()));
    let (hash, a, b) = std::thread::scope(|s| {
        let hash = s.spawn(|| super::sha256_hex(&whole));
        let other = s.spawn(|| parse_lines(second, first_lines));
        let a = parse_lines(first, 0);
        (hash.join().map_err(|_| lost()), a, other.join().unwrap_or_else(|_| Err(lost())))
    });
    if hash? != manifest.content_sha256 {
        return refuse(Refusal::Corrupt("the content does not match its checksum".into()));
    }
    let (mut lines, bad_a) = a?;
    let (more, bad_b) = b?;
    lines.extend(more);
    check_against_manifest(&manifest, &lines, bad_a.or(bad_b))?;
    let audit = match &manifest.audit {
        Some(section) => {
            crate::audit::read_section(audit_lines, section, manifest.source.id, &crate::audit::names(&manifest))?
        }
        None => Vec::new(),
    };
    Ok(Unpacked { manifest, lines, signed, audit })
}

/// Reads content lines, one change each; `skip` lines came before them.
/// Gives also the first line that fails [`Line::check`], if any.
fn parse_lines(content: &[u8], skip: usize) -> Result<(Vec<Line>, Option<Error>)> {
    let mut lines = Vec::with_capacity(content.len() / 600);
    let mut bad = None;
    for (i, l) in content.split(|b| *b == b'\n').enumerate() {
        if l.is_empty() {
            continue;
        }
        if l.len() > MAX_LINE {
            return Err(too_long(skip + i + 1, l.len()));
        }
        let invalid =
            |e: String| Error::Refused(Refusal::InvalidRecord(format!("change {} is not valid: {e}", skip + i + 1)));
        let line: Line = serde_json::from_slice(l).map_err(|e| invalid(e.to_string()))?;
        for (name, raw) in [("fields", &line.fields), ("old", &line.old), ("base", &line.base)] {
            if !raw.get().starts_with('{') {
                return Err(invalid(format!("{name} is not an object")));
            }
        }
        if bad.is_none() {
            bad = line.check().err();
        }
        lines.push(line);
    }
    Ok((lines, bad))
}

impl Line {
    /// What a change must be on its own: stamped and numbered by the device
    /// that made it, and a creation made there.
    fn check(&self) -> Result<()> {
        // A stamp names the device that made it; a change under another
        // device's name is forged.
        if self.hlc.device != self.device_id {
            return refuse(Refusal::Forged(format!(
                "change {} of device {} is stamped by device {}",
                self.seq, self.device_id, self.hlc.device
            )));
        }
        if self.op == Op::Create {
            let by = self.created_by().or_else(|e| {
                refuse(Refusal::InvalidRecord(format!("change {} of device {}: {e}", self.seq, self.device_id)))
            })?;
            if by.is_some_and(|by| by != self.device_id) {
                return refuse(Refusal::Forged(format!(
                    "record {} says it was created on another device than {}",
                    self.record_id, self.device_id
                )));
            }
        }
        if self.seq < 1 || self.hlc == Hlc::ZERO {
            return refuse(Refusal::Inconsistent(format!(
                "change {} of device {} is not numbered",
                self.seq, self.device_id
            )));
        }
        // Numbered past any real device: the next number would overflow.
        if self.seq > MAX_SEQ {
            return refuse(Refusal::Inconsistent(format!(
                "change {} of device {} is numbered past {MAX_SEQ}",
                self.seq, self.device_id
            )));
        }
        Ok(())
    }
}

/// Checks the changes against what the manifest lists; `bad` is the first
/// change that failed [`Line::check`].
fn check_against_manifest(m: &Manifest, changes: &[Line], bad: Option<Error>) -> Result<()> {
    let inconsistent = |d: String| refuse(Refusal::Inconsistent(d));
    if changes.len() != m.changes {
        return inconsistent(format!("{} changes listed, {} found", m.changes, changes.len()));
    }
    if let Some(e) = bad {
        return Err(e);
    }
    let mut tally = Tally::default();
    for c in changes {
        tally.add(c.device_id, c.seq, c.entity, c.op);
    }
    let (ranges, counts): (Vec<DeviceRange>, _) = (tally.ranges.into_values().collect(), tally.counts);
    let listed: BTreeMap<Uuid, &DeviceRange> = m.devices.iter().map(|r| (r.device.id, r)).collect();
    if listed.len() != m.devices.len() {
        return inconsistent("a device is listed twice".into());
    }
    for r in &ranges {
        match listed.get(&r.device.id) {
            Some(l) if l.from_seq <= r.from_seq && r.to_seq <= l.to_seq && l.count == r.count => {}
            Some(_) => return inconsistent(format!("the changes of device {} are not those listed", r.device.id)),
            None => return inconsistent(format!("changes of device {} are not listed", r.device.id)),
        }
    }
    if ranges.len() != m.devices.iter().filter(|r| r.count > 0).count() {
        return inconsistent("a listed device has no change".into());
    }
    let nonzero = |c: &BTreeMap<Entity, OpCounts>| -> BTreeMap<Entity, OpCounts> {
        c.iter().filter(|(_, n)| **n != OpCounts::default()).map(|(e, n)| (*e, n.clone())).collect()
    };
    if nonzero(&counts) != nonzero(&m.counts) {
        return inconsistent("the counts per kind of record differ".into());
    }
    let mut seen = std::collections::HashSet::with_capacity(changes.len());
    for c in changes {
        if !seen.insert((c.device_id, c.seq)) {
            return inconsistent(format!("change {} of device {} appears twice", c.seq, c.device_id));
        }
    }
    Ok(())
}
