//! The database key and the accounts that open it.
//!
//! The database, its write-ahead log and every backup are encrypted by
//! SQLCipher under one random 256-bit key, made when the database is
//! created and never changed. Nobody types that key: each account on the
//! machine holds it wrapped under its own passphrase (Argon2id, then
//! XChaCha20-Poly1305, with the account's name and role bound in as
//! associated data, so that editing a role in the file breaks the wrap).
//! The wraps live beside the database in `<db>.accounts`, which is needed
//! to open it with a passphrase and is useless without one.
//!
//! The **recovery key** is the database key itself, written for people
//! (52 letters and digits in groups of four). It opens the database when
//! every passphrase is lost, or when the accounts file is lost; it is
//! shown once, at set-up, to be printed and locked away.

use crate::access::{Actor, Role};
use crate::error::{Error, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use data_encoding::{BASE32_NOPAD, HEXLOWER};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The shortest passphrase accepted.
pub const MIN_PASSPHRASE: usize = 10;

/// The database key: 32 random bytes, wiped from memory when dropped.
#[derive(Clone)]
pub struct DbKey(Zeroizing<[u8; 32]>);

impl DbKey {
    /// A key from its bytes (tests and benchmarks use a fixed one).
    pub fn from_bytes(bytes: [u8; 32]) -> DbKey {
        DbKey(Zeroizing::new(bytes))
    }

    pub fn random() -> DbKey {
        let mut k = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(k.as_mut());
        DbKey(k)
    }

    fn from_slice(bytes: &[u8]) -> Option<DbKey> {
        let k: [u8; 32] = bytes.try_into().ok()?;
        Some(DbKey(Zeroizing::new(k)))
    }

    /// The key as hex, to keep it inside another encrypted database (the
    /// practice database's key lives in the real one).
    pub(crate) fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(HEXLOWER.encode(self.0.as_ref()))
    }

    pub(crate) fn from_hex(hex: &str) -> Option<DbKey> {
        let bytes = Zeroizing::new(HEXLOWER.decode(hex.as_bytes()).ok()?);
        DbKey::from_slice(&bytes)
    }

    /// SQLCipher's raw-key form, `x'…'`: used as is, with no key
    /// derivation of its own (ours is done once, per account).
    pub(crate) fn pragma_value(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", HEXLOWER.encode(self.0.as_ref())))
    }

    /// The recovery key people keep: `ABCD-EFGH-…`, 13 groups of four.
    pub fn recovery_text(&self) -> Zeroizing<String> {
        let plain = Zeroizing::new(BASE32_NOPAD.encode(self.0.as_ref()));
        let groups: Vec<&str> =
            plain.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
        Zeroizing::new(groups.join("-"))
    }

    /// Reads a recovery key as typed: any case, with or without the dashes
    /// or spaces, O read as 0 is not guessed (base32 has no 0 or 1).
    pub fn from_recovery_text(text: &str) -> Result<DbKey> {
        let cleaned: Zeroizing<String> = Zeroizing::new(
            text.chars().filter(|c| !matches!(c, '-' | ' ' | '\t' | '\n' | '\r')).collect::<String>().to_uppercase(),
        );
        let bytes = Zeroizing::new(
            BASE32_NOPAD.decode(cleaned.as_bytes()).map_err(|_| Error::field("recovery_key", "bad_recovery_key"))?,
        );
        DbKey::from_slice(&bytes).ok_or_else(|| Error::field("recovery_key", "bad_recovery_key"))
    }
}

/// How a person opens the database.
pub enum Credentials {
    /// An account's passphrase; the account may be left out where the
    /// machine has only one.
    Passphrase { user: Option<String>, passphrase: Zeroizing<String> },
    /// The recovery key, as typed.
    RecoveryKey(Zeroizing<String>),
    /// The key itself (tests, benchmarks): acts as the key holder.
    Key(DbKey),
}

impl Credentials {
    pub fn passphrase(user: Option<&str>, passphrase: &str) -> Credentials {
        Credentials::Passphrase { user: user.map(str::to_string), passphrase: Zeroizing::new(passphrase.to_string()) }
    }
}

/// Argon2id's cost for a new account: RFC 9106's second recommended
/// setting (64 MiB, 3 passes), about 0.3 s on a 2-core field laptop.
const KDF_MEMORY_KIB: u32 = 64 * 1024;
const KDF_PASSES: u32 = 3;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Kdf {
    alg: String,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    salt: String,
}

/// One account as stored: the database key wrapped under its passphrase.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Wrapped {
    name: String,
    role: Role,
    created_at: String,
    kdf: Kdf,
    nonce: String,
    wrapped_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AccountsFile {
    format: String,
    accounts: Vec<Wrapped>,
}

const FORMAT: &str = "wafira-accounts-1";

/// An account as listed (no secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub name: String,
    pub role: Role,
    pub created_at: String,
}

/// Beside the database: `<db>.accounts`.
pub fn accounts_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".accounts");
    PathBuf::from(p)
}

fn read_file(db: &Path) -> Result<Option<AccountsFile>> {
    let path = accounts_path(db);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let file: AccountsFile = serde_json::from_str(&text)
        .map_err(|e| Error::Other(format!("{} is damaged ({e}): open with the recovery key", path.display())))?;
    if file.format != FORMAT {
        return Err(Error::Other(format!("{} has an unknown format {:?}", path.display(), file.format)));
    }
    Ok(Some(file))
}

fn write_file(db: &Path, file: &AccountsFile) -> Result<()> {
    crate::files::write_private(&accounts_path(db), serde_json::to_string_pretty(file)?.as_bytes())
}

/// The accounts of the database at `db` (none if it has no accounts file).
pub fn list(db: &Path) -> Result<Vec<Account>> {
    Ok(read_file(db)?
        .map(|f| {
            f.accounts.into_iter().map(|w| Account { name: w.name, role: w.role, created_at: w.created_at }).collect()
        })
        .unwrap_or_default())
}

/// Checks a new account's name and passphrase, all problems at once.
pub(crate) fn check_new(name: &str, passphrase: &str) -> Result<()> {
    let mut errors = Vec::new();
    if let Err(Error::Invalid(i)) = check_name(name) {
        errors.extend(i.0);
    }
    if let Err(Error::Invalid(i)) = check_passphrase(passphrase) {
        errors.extend(i.0);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(errors))
    }
}

fn check_passphrase(passphrase: &str) -> Result<()> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(Error::field("passphrase", "passphrase_too_short"));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<String> {
    crate::validate::req_text("account", &Some(name.to_string()), 100).map_err(|e| Error::invalid(vec![e]))
}

fn associated_data(name: &str, role: Role) -> Vec<u8> {
    format!("{FORMAT}\0{name}\0{}", role.as_str()).into_bytes()
}

fn derive(passphrase: &str, kdf: &Kdf) -> Result<Zeroizing<[u8; 32]>> {
    let salt = HEXLOWER.decode(kdf.salt.as_bytes()).map_err(|_| Error::Other("account salt damaged".into()))?;
    if kdf.alg != "argon2id" {
        return Err(Error::Other(format!("unknown key derivation {:?}", kdf.alg)));
    }
    let params = argon2::Params::new(kdf.memory_kib, kdf.passes, kdf.lanes, Some(32))
        .map_err(|e| Error::Other(format!("account key derivation: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), &salt, out.as_mut())
        .map_err(|e| Error::Other(format!("account key derivation: {e}")))?;
    Ok(out)
}

fn wrap(key: &DbKey, name: &str, role: Role, passphrase: &str) -> Result<Wrapped> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let kdf = Kdf {
        alg: "argon2id".into(),
        memory_kib: KDF_MEMORY_KIB,
        passes: KDF_PASSES,
        lanes: 1,
        salt: HEXLOWER.encode(&salt),
    };
    let kek = derive(passphrase, &kdf)?;
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut nonce);
    let aad = associated_data(name, role);
    let sealed = XChaCha20Poly1305::new(kek.as_ref().into())
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: key.0.as_ref(), aad: &aad })
        .map_err(|_| Error::Other("cannot wrap the database key".into()))?;
    Ok(Wrapped {
        name: name.to_string(),
        role,
        created_at: crate::now_utc(),
        kdf,
        nonce: HEXLOWER.encode(&nonce),
        wrapped_key: HEXLOWER.encode(&sealed),
    })
}

fn unwrap_key(w: &Wrapped, passphrase: &str) -> Option<DbKey> {
    let kek = derive(passphrase, &w.kdf).ok()?;
    let nonce = HEXLOWER.decode(w.nonce.as_bytes()).ok()?;
    let sealed = HEXLOWER.decode(w.wrapped_key.as_bytes()).ok()?;
    if nonce.len() != 24 {
        return None;
    }
    let aad = associated_data(&w.name, w.role);
    let plain = Zeroizing::new(
        XChaCha20Poly1305::new(kek.as_ref().into())
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &sealed, aad: &aad })
            .ok()?,
    );
    DbKey::from_slice(&plain)
}

/// Finds the database key and the account for `credentials`: a wrong
/// passphrase, an unknown account and a damaged wrap all read as
/// `wrong_passphrase` (naming the passphrase, telling nothing more).
pub(crate) fn unlock(db: &Path, credentials: &Credentials) -> Result<(DbKey, Actor)> {
    match credentials {
        Credentials::Key(k) => Ok((k.clone(), Actor::key_holder())),
        Credentials::RecoveryKey(text) => Ok((DbKey::from_recovery_text(text)?, Actor::key_holder())),
        Credentials::Passphrase { user, passphrase } => {
            let file = read_file(db)?.ok_or_else(|| Error::NoAccounts(accounts_path(db).display().to_string()))?;
            let candidates: Vec<&Wrapped> = match user.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                Some(u) => file.accounts.iter().filter(|w| w.name.eq_ignore_ascii_case(u)).collect(),
                // Not named: the passphrase finds its account (each tried).
                None => file.accounts.iter().collect(),
            };
            for w in candidates {
                if let Some(key) = unwrap_key(w, passphrase) {
                    return Ok((key, Actor { name: w.name.clone(), role: w.role }));
                }
            }
            Err(Error::field("passphrase", "wrong_passphrase"))
        }
    }
}

/// Adds an account (or replaces the wrap of one of the same name: a new
/// passphrase, a new role), the key taken from the open store.
pub(crate) fn put(db: &Path, key: &DbKey, name: &str, role: Role, passphrase: &str) -> Result<Account> {
    let name = check_name(name)?;
    check_passphrase(passphrase)?;
    let mut file = read_file(db)?.unwrap_or_else(|| AccountsFile { format: FORMAT.into(), accounts: Vec::new() });
    let wrapped = wrap(key, &name, role, passphrase)?;
    let account = Account { name: wrapped.name.clone(), role, created_at: wrapped.created_at.clone() };
    file.accounts.retain(|w| !w.name.eq_ignore_ascii_case(&name));
    file.accounts.push(wrapped);
    write_file(db, &file)?;
    Ok(account)
}

/// Removes an account; the last manager cannot be removed.
pub(crate) fn remove(db: &Path, name: &str) -> Result<bool> {
    let Some(mut file) = read_file(db)? else { return Ok(false) };
    let Some(gone) = file.accounts.iter().position(|w| w.name.eq_ignore_ascii_case(name.trim())) else {
        return Ok(false);
    };
    let removed = file.accounts.remove(gone);
    if removed.role == Role::Manager && !file.accounts.iter().any(|w| w.role == Role::Manager) {
        return Err(Error::field("account", "last_manager"));
    }
    write_file(db, &file)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_text_reads_back_in_any_case_and_spacing() {
        let k = DbKey::random();
        let text = k.recovery_text();
        assert_eq!(text.len(), 13 * 4 + 12);
        let typed = text.to_lowercase().replace('-', " ");
        let back = DbKey::from_recovery_text(&typed).expect("reads back");
        assert_eq!(back.0.as_ref(), k.0.as_ref());
        assert!(DbKey::from_recovery_text("ABCD-EFGH").is_err());
    }
}
