//! Removable drives (USB sticks) mounted on this computer: where a Save-as
//! dialog opens when one is plugged in, and where the window's one-click
//! "Enregistrer sur la clé USB" writes when exactly one is.
//!
//! No new dependency, one cheap look per operating system:
//! - Linux: the mount points under `/media/$USER` and `/run/media/$USER`
//!   (where the desktop's udisks mounts a stick), read from `/proc/mounts`;
//!   folders there are listed instead when that file cannot be read.
//! - macOS: the folders of `/Volumes`, less the system volume (the one that
//!   is `/`).
//! - Windows: the drive letters whose type is `DRIVE_REMOVABLE`
//!   (`GetDriveTypeW`, declared here rather than through a crate). A USB
//!   hard disk reports itself as fixed and is not listed.

use serde::Serialize;
use std::path::{Path, PathBuf};

/// A mounted removable drive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drive {
    /// Where it is mounted (`/media/samira/KINGSTON`, `E:\`).
    pub path: PathBuf,
    /// What a person calls it: its volume name, or its letter.
    pub label: String,
}

impl Drive {
    fn at(path: PathBuf) -> Drive {
        let label = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| path.display().to_string());
        Drive { path, label }
    }
}

/// The removable drives mounted now, sorted by path; empty where none is
/// (or the system cannot say).
pub fn removable() -> Vec<Drive> {
    let mut drives = platform();
    drives.sort_by(|a, b| a.path.cmp(&b.path));
    drives.dedup();
    drives
}

#[cfg(target_os = "linux")]
fn platform() -> Vec<Drive> {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_default();
    if user.is_empty() {
        return Vec::new();
    }
    match std::fs::read_to_string("/proc/mounts") {
        Ok(table) => from_mount_table(&table, &user),
        Err(_) => roots(&user)
            .iter()
            .filter_map(|root| std::fs::read_dir(root).ok())
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| Drive::at(e.path()))
            .collect(),
    }
}

/// Where the desktop mounts a stick for `user`.
fn roots(user: &str) -> [PathBuf; 2] {
    [Path::new("/media").join(user), Path::new("/run/media").join(user)]
}

/// The drives a mount table (`/proc/mounts`) lists under `user`'s media
/// folders. The table writes a space, tab, newline or backslash in a mount
/// point as an octal escape (`\040`).
pub fn from_mount_table(table: &str, user: &str) -> Vec<Drive> {
    let roots = roots(user);
    table
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .map(|point| PathBuf::from(unescape(point)))
        .filter(|p| roots.iter().any(|r| p.parent() == Some(r.as_path())))
        .map(Drive::at)
        .collect()
}

/// `\040` and the like back to their characters.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal =
            bytes.get(i + 1..i + 4).filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                let v = d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(target_os = "macos")]
fn platform() -> Vec<Drive> {
    let root = std::fs::canonicalize("/").unwrap_or_else(|_| PathBuf::from("/"));
    let Ok(entries) = std::fs::read_dir("/Volumes") else { return Vec::new() };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        // The system volume is a link to `/`.
        .filter(|p| std::fs::canonicalize(p).is_ok_and(|c| c != root))
        .filter(|p| p.is_dir())
        .map(Drive::at)
        .collect()
}

#[cfg(windows)]
fn platform() -> Vec<Drive> {
    #[link(name = "kernel32")]
    extern "system" {
        fn GetLogicalDrives() -> u32;
        fn GetDriveTypeW(root: *const u16) -> u32;
    }
    const DRIVE_REMOVABLE: u32 = 2;
    // SAFETY: no argument; gives a bit mask of the drive letters in use.
    let mask = unsafe { GetLogicalDrives() };
    (0..26u8)
        .filter(|i| mask & (1 << i) != 0)
        .filter_map(|i| {
            let letter = char::from(b'A' + i);
            let root: Vec<u16> = format!("{letter}:\\").encode_utf16().chain(std::iter::once(0)).collect();
            // SAFETY: `root` is a NUL-terminated UTF-16 string that outlives the call.
            let kind = unsafe { GetDriveTypeW(root.as_ptr()) };
            (kind == DRIVE_REMOVABLE)
                .then(|| Drive { path: PathBuf::from(format!("{letter}:\\")), label: format!("{letter}:") })
        })
        .collect()
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn platform() -> Vec<Drive> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
/dev/nvme0n1p2 / ext4 rw,relatime 0 0
/dev/nvme0n1p1 /boot/efi vfat rw,relatime 0 0
/dev/sdb1 /media/samira/KINGSTON vfat rw,nosuid,nodev,relatime,uid=1000 0 0
/dev/sdc1 /run/media/samira/CLE\\040ASSIA vfat rw,nosuid,nodev 0 0
/dev/sdd1 /media/other/THEIRS vfat rw 0 0
/dev/sde1 /media/samira/KINGSTON/inner ext4 rw 0 0
tmpfs /run/user/1000 tmpfs rw 0 0
";

    #[test]
    fn the_sticks_mounted_for_this_user_are_found_in_the_mount_table() {
        let drives = from_mount_table(TABLE, "samira");
        let paths: Vec<_> = drives.iter().map(|d| d.path.display().to_string()).collect();
        assert_eq!(paths, ["/media/samira/KINGSTON", "/run/media/samira/CLE ASSIA"]);
        assert_eq!(drives[1].label, "CLE ASSIA", "the octal escape of a space is read back");
    }

    #[test]
    fn no_stick_means_an_empty_list() {
        assert!(from_mount_table("/dev/sda1 / ext4 rw 0 0\n", "samira").is_empty());
        assert!(from_mount_table("", "samira").is_empty());
        // Another user's stick is not this user's to write on.
        assert!(from_mount_table(TABLE, "assia").is_empty());
    }

    #[test]
    fn a_malformed_escape_is_kept_as_written() {
        assert_eq!(unescape(r"a\04"), r"a\04");
        assert_eq!(unescape(r"a\134b"), r"a\b");
    }
}
