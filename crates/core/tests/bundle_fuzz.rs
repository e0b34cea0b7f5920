//! A bundle is a file from a USB stick: whatever it holds, reading it
//! (`bundle::unpack`, the check every import makes first) never panics and
//! finishes quickly. Random bytes; a real bundle with bytes flipped,
//! inserted, removed or cut; its content or manifest rewritten with good
//! checksums but hostile values; and decompression bombs.

mod sync_support;

use proptest::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use sync_support::*;
use wafira_core::sync::bundle::{self, Refusal, MAX_SEQ};
use wafira_core::Error;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// A real bundle, cut into its parts.
struct Fixture {
    bytes: Vec<u8>,
    manifest: Value,
    content: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut a = machine("Portable A");
        let mut b = machine("Portable B");
        let fatima = a.register(json!({ "phone": "0612345678" }));
        a.visit(fatima, "2025-01-10");
        b.import(&a.export());
        b.register(json!({ "first_name": "Zineb", "last_name": "Tazi" }));
        b.edit(fatima, json!({ "commune": "Zirara" }));
        // Changes of two devices, creations, an update, a visit; the
        // plaintext of the bundle (what `age -d` gives), signed.
        let bytes = plain(&b.export_with(true));
        let (manifest, payload) = split(&bytes);
        let content = zstd::stream::decode_all(payload).unwrap();
        Fixture { manifest: serde_json::from_slice(manifest).unwrap(), content, bytes }
    })
}

/// The manifest's JSON and the payload of a well-formed bundle.
fn split(bytes: &[u8]) -> (&[u8], &[u8]) {
    let first = bytes.iter().position(|b| *b == b'\n').unwrap();
    let second = first + 1 + bytes[first + 1..].iter().position(|b| *b == b'\n').unwrap();
    let envelope: Value = serde_json::from_slice(&bytes[first + 1..second]).unwrap();
    let n = envelope["manifest_bytes"].as_u64().unwrap() as usize;
    (&bytes[second + 1..second + 1 + n], &bytes[second + 2 + n..])
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A bundle around a manifest and a payload, with the envelope's checksum
/// of the manifest right: what anyone with the format in hand can write.
fn seal_with(manifest: &Value, payload: &[u8], envelope: impl FnOnce(&mut Value)) -> Vec<u8> {
    let manifest = serde_json::to_vec(manifest).unwrap();
    let mut env = json!({
        "encryption": "none",
        "compression": "zstd",
        "signature": null,
        "manifest_bytes": manifest.len(),
        "manifest_sha256": sha256_hex(&manifest),
        "payload_bytes": payload.len(),
    });
    envelope(&mut env);
    let mut out = format!("{} {}\n", bundle::MAGIC, bundle::FORMAT).into_bytes();
    out.extend(serde_json::to_vec(&env).unwrap());
    out.push(b'\n');
    out.extend(manifest);
    out.push(b'\n');
    out.extend_from_slice(payload);
    out
}

fn seal(manifest: &Value, payload: &[u8]) -> Vec<u8> {
    seal_with(manifest, payload, |_| {})
}

/// A bundle of some content, its manifest's size and checksum of the
/// content right (its counts and ranges as `manifest` says).
fn seal_content(manifest: &Value, content: &[u8]) -> Vec<u8> {
    let mut m = manifest.clone();
    m["content_bytes"] = json!(content.len());
    m["content_sha256"] = json!(sha256_hex(content));
    seal(&m, &zstd::bulk::compress(content, 3).unwrap())
}

/// `n` zero bytes compressed, without holding them: 1 GiB makes about 33 KB.
fn zeros(n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    zstd::stream::copy_encode(std::io::repeat(0).take(n), &mut out, 1).unwrap();
    out
}

fn bomb_1gib() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| zeros(GIB))
}

fn bomb_512mib() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| zeros(512 * MIB))
}

/// Counts panics on any thread (the check runs on two), so that one caught
/// and turned into an error still fails the test.
fn panics() -> usize {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            COUNT.fetch_add(1, Ordering::SeqCst);
            previous(info)
        }));
    });
    COUNT.load(Ordering::SeqCst)
}

/// Unpacks, checking that nothing panicked; gives the outcome and the time taken.
fn unpack(bytes: &[u8]) -> (Result<bundle::Unpacked, Error>, Duration) {
    let before = panics();
    let t = Instant::now();
    let out = bundle::unpack(bytes);
    let took = t.elapsed();
    assert_eq!(panics(), before, "unpacking panicked");
    (out, took)
}

fn refusal(r: Result<bundle::Unpacked, Error>) -> Refusal {
    match r {
        Err(Error::Refused(r)) => r,
        Err(e) => panic!("not a refusal: {e}"),
        Ok(_) => panic!("accepted"),
    }
}

/// The sanity bound on one bomb: a real one took 14 to 21 s and 1 GB.
const QUICK: Duration = Duration::from_secs(2);

#[test]
fn the_fixture_is_a_good_bundle() {
    let f = fixture();
    let (out, _) = unpack(&f.bytes);
    let u = out.unwrap();
    assert!(u.lines.len() >= 4 && u.lines.len() == u.manifest.changes);
    assert_eq!(u.manifest.devices.len(), 2);
    let (out, _) = unpack(&seal_content(&f.manifest, &f.content));
    assert!(out.is_ok(), "the test's own sealing makes good bundles");
}

// --- Resources ------------------------------------------------------------

#[test]
fn a_bundle_declaring_a_gibibyte_is_refused_before_it_is_inflated() {
    let mut m = fixture().manifest.clone();
    m["content_bytes"] = json!(GIB);
    let bytes = seal(&m, bomb_1gib());
    assert!(bytes.len() < 64 * 1024, "a file of {} bytes", bytes.len());
    let (out, took) = unpack(&bytes);
    let r = refusal(out);
    assert_eq!(r.code(), "bundle_inconsistent", "{r}");
    assert!(took < QUICK, "refused in {took:?}");
    eprintln!("a {} byte bundle declaring 1 GiB: refused in {took:?}: {r}", bytes.len());
}

#[test]
fn a_bomb_within_the_declared_size_stops_at_its_first_overlong_line() {
    // Within the largest content allowed, and the very size it inflates
    // to (512 MiB from 16 KB), but no line ends within 1 MiB.
    let payload = bomb_512mib();
    let mut m = fixture().manifest.clone();
    m["content_bytes"] = json!(512 * MIB);
    let (out, took) = unpack(&seal(&m, payload));
    let r = refusal(out);
    assert_eq!(r.code(), "bundle_invalid_record", "{r}");
    assert!(took < QUICK, "refused in {took:?}");
    eprintln!("a {} byte payload of 512 MiB of zeros, declared: refused in {took:?}: {r}", payload.len());
}

#[test]
fn a_payload_inflating_past_its_declared_size_is_cut_short() {
    let f = fixture();
    let mut m = f.manifest.clone();
    for declared in [0, f.content.len() as u64, MIB] {
        m["content_bytes"] = json!(declared);
        let (out, took) = unpack(&seal(&m, bomb_1gib()));
        let r = refusal(out);
        assert_eq!(r.code(), "bundle_corrupt", "{r}");
        assert!(took < QUICK, "refused in {took:?}");
    }
}

#[test]
fn a_change_longer_than_a_mebibyte_is_refused() {
    let f = fixture();
    let long = rewrite(&f.bytes, |_, changes| {
        changes[0].fields.insert("notes".into(), json!("x".repeat(MIB as usize + 10)));
    });
    let r = refusal(unpack(&long).0);
    assert_eq!(r.code(), "bundle_invalid_record", "{r}");
    assert!(r.to_string().contains("change 1") && r.to_string().contains("MiB"), "{r}");
    let fine = rewrite(&f.bytes, |_, changes| {
        changes[0].fields.insert("notes".into(), json!("x".repeat(64 * 1024)));
    });
    assert!(unpack(&fine).0.is_ok(), "a long change within the bound is read");
}

// --- Numbers a file carries -----------------------------------------------

#[test]
fn change_numbers_beyond_the_largest_are_refused_naming_the_device() {
    let f = fixture();
    for (seq, ok) in [(MAX_SEQ, true), (MAX_SEQ + 1, false), (i64::MAX, false)] {
        let mut device = None;
        let bytes = rewrite(&f.bytes, |m, changes| {
            let last = changes.last_mut().unwrap();
            last.seq = seq;
            device = Some(last.device_id);
            let range = m.devices.iter_mut().find(|r| r.device.id == last.device_id).unwrap();
            range.to_seq = seq;
        });
        let (out, _) = unpack(&bytes);
        if ok {
            assert!(out.is_ok(), "change number {seq}: {:?}", out.err());
            continue;
        }
        let r = refusal(out);
        assert_eq!(r.code(), "bundle_inconsistent", "{r}");
        assert!(r.to_string().contains(&device.unwrap().to_string()), "{r}");
    }
}

#[test]
fn manifest_ranges_out_of_bounds_are_refused_naming_the_device() {
    let f = fixture();
    let id = f.manifest["devices"][0]["id"].as_str().unwrap().to_string();
    let from = f.manifest["devices"][0]["from_seq"].as_i64().unwrap();
    let to = f.manifest["devices"][0]["to_seq"].as_i64().unwrap();
    for (from_seq, to_seq, count) in [
        (from, i64::MAX, None),
        (from, MAX_SEQ + 1, None),
        (i64::MIN, to, None),
        (0, to, None),
        (to, from - 1, None),
        (from, to, Some(to - from + 2)),
    ] {
        let mut m = f.manifest.clone();
        m["devices"][0]["from_seq"] = json!(from_seq);
        m["devices"][0]["to_seq"] = json!(to_seq);
        if let Some(count) = count {
            m["devices"][0]["count"] = json!(count);
        }
        let r = refusal(unpack(&seal_content(&m, &f.content)).0);
        assert_eq!(r.code(), "bundle_inconsistent", "{from_seq}..{to_seq}: {r}");
        assert!(r.to_string().contains(&id), "{r}");
    }
}

#[test]
fn bundle_numbers_out_of_bounds_are_refused() {
    let f = fixture();
    for number in [i64::MIN, -1, 0, MAX_SEQ + 1, i64::MAX] {
        let mut m = f.manifest.clone();
        m["number"] = json!(number);
        let r = refusal(unpack(&seal_content(&m, &f.content)).0);
        assert_eq!(r.code(), "bundle_inconsistent", "number {number}: {r}");
    }
}

#[test]
fn envelope_sizes_at_the_end_of_the_integers_are_refused() {
    let f = fixture();
    let payload = zstd::bulk::compress(&f.content, 3).unwrap();
    for key in ["manifest_bytes", "payload_bytes"] {
        for n in [u64::MAX, u64::MAX - 1, usize::MAX as u64 / 2 + 1] {
            let bytes = seal_with(&f.manifest, &payload, |e| e[key] = json!(n));
            let r = refusal(unpack(&bytes).0);
            assert_eq!(r, Refusal::Truncated, "{key} = {n}");
        }
    }
}

// --- Fuzzing --------------------------------------------------------------

/// One edit of a byte string, its place drawn anywhere in it.
#[derive(Debug, Clone)]
enum Edit {
    Flip(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Remove(prop::sample::Index, usize),
    Cut(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), 1..=255u8).prop_map(|(i, x)| Edit::Flip(i, x)),
        2 => (any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, b)| Edit::Insert(i, b)),
        2 => (any::<prop::sample::Index>(), 1..64usize).prop_map(|(i, n)| Edit::Remove(i, n)),
        1 => any::<prop::sample::Index>().prop_map(Edit::Cut),
    ]
}

fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for e in edits {
        let len = bytes.len().max(1);
        match e {
            Edit::Flip(i, x) if !bytes.is_empty() => bytes[i.index(len)] ^= x,
            Edit::Insert(i, b) => {
                let at = i.index(len + 1).min(bytes.len());
                bytes.splice(at..at, b.iter().copied());
            }
            Edit::Remove(i, n) if !bytes.is_empty() => {
                let at = i.index(len);
                bytes.drain(at..(at + n).min(bytes.len()));
            }
            Edit::Cut(i) => bytes.truncate(i.index(len + 1)),
            _ => {}
        }
    }
}

/// Values a forger may put anywhere in a manifest.
fn hostile() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1)),
        Just(json!(MAX_SEQ)),
        Just(json!(MAX_SEQ + 1)),
        Just(json!(GIB)),
        Just(json!(512 * MIB + 1)),
        Just(json!(1.5)),
        Just(json!(1e300)),
        Just(json!("x")),
        Just(json!("")),
        Just(Value::Null),
        Just(json!(true)),
        Just(json!([])),
        Just(json!({})),
        Just(serde_json::from_str::<Value>(&format!("{}{}", "[".repeat(120), "]".repeat(120))).unwrap()),
        Just(json!("é".repeat(100_000))),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
    ]
}

/// Where in a manifest they go.
const PLACES: &[&str] = &[
    "/format",
    "/schema_version",
    "/bundle_id",
    "/source/id",
    "/source/name",
    "/number",
    "/full",
    "/created_at",
    "/changes",
    "/content_bytes",
    "/content_sha256",
    "/devices",
    "/devices/0/id",
    "/devices/0/from_seq",
    "/devices/0/to_seq",
    "/devices/0/count",
    "/devices/1/from_seq",
    "/devices/1/to_seq",
    "/devices/1/count",
    "/counts",
    "/counts/beneficiary",
    "/counts/beneficiary/create",
    "/counts/visit/create",
];

#[derive(Debug, Clone)]
enum ManifestEdit {
    Set(usize, Value),
    Remove(usize),
    /// A device listed twice.
    Twice(usize),
}

fn manifest_edit() -> impl Strategy<Value = ManifestEdit> {
    prop_oneof![
        6 => (0..PLACES.len(), hostile()).prop_map(|(p, v)| ManifestEdit::Set(p, v)),
        1 => (0..PLACES.len()).prop_map(ManifestEdit::Remove),
        1 => (0..2usize).prop_map(ManifestEdit::Twice),
    ]
}

fn apply_to_manifest(m: &mut Value, e: &ManifestEdit) {
    let parent_and_key = |p: &str| {
        let (parent, key) = p.rsplit_once('/').unwrap();
        (parent.to_string(), key.to_string())
    };
    match e {
        ManifestEdit::Set(p, v) => {
            let (parent, key) = parent_and_key(PLACES[*p]);
            match m.pointer_mut(&parent) {
                Some(Value::Object(o)) => {
                    o.insert(key, v.clone());
                }
                Some(Value::Array(a)) => {
                    if let Some(slot) = key.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                        *slot = v.clone();
                    }
                }
                _ => {}
            }
        }
        ManifestEdit::Remove(p) => {
            let (parent, key) = parent_and_key(PLACES[*p]);
            if let Some(Value::Object(o)) = m.pointer_mut(&parent) {
                o.remove(&key);
            }
        }
        ManifestEdit::Twice(i) => {
            if let Some(Value::Array(a)) = m.get_mut("devices") {
                if let Some(d) = a.get(*i).cloned() {
                    a.push(d);
                }
            }
        }
    }
}

/// Values a forger may give a change's fields.
fn hostile_line_value() -> impl Strategy<Value = (usize, Value)> {
    const KEYS: &[&str] = &["seq", "hlc", "device_id", "record_id", "entity", "op", "fields", "old", "base", "at"];
    let stamps = prop_oneof![
        Just(json!("999999999999999-999999-0195b4a0c0de7000800000000000abcd")),
        Just(json!("1000000000000000-000000-0195b4a0c0de7000800000000000abcd")),
        Just(json!("000000000000001-4294967295-0195b4a0c0de7000800000000000abcd")),
        Just(json!("-00000000000001-000000-0195b4a0c0de7000800000000000abcd")),
    ];
    (0..KEYS.len(), prop_oneof![4 => hostile(), 1 => stamps]).prop_map(|(k, v)| (k, json!({ KEYS[k]: v })))
}

fn bombs() -> impl Strategy<Value = (usize, u64)> {
    // Payload: 1 GiB or 512 MiB of zeros, or the 1 GiB one cut; declared
    // content: from nothing to far more than allowed.
    let declared = prop_oneof![
        Just(0),
        Just(1),
        Just(fixture().content.len() as u64),
        Just(MIB),
        Just(64 * MIB),
        Just(512 * MIB),
        Just(512 * MIB + 1),
        Just(GIB),
        Just(u64::MAX),
        0..=GIB,
    ];
    (0..3usize, declared)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_refused(
        header in prop_oneof![Just(String::new()), Just("WAFIRA-BUNDLE 1\n".to_string()), Just("WAFIRA-BUNDLE 1\n{\"encryption\":\"none\",\"compression\":\"zstd\",".to_string())],
        tail in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut bytes = header.into_bytes();
        bytes.extend(tail);
        prop_assert!(unpack(&bytes).0.is_err());
    }

    #[test]
    fn a_damaged_bundle_is_refused_or_reads_as_it_was_made(edits in prop::collection::vec(edit(), 1..6)) {
        let f = fixture();
        let mut bytes = f.bytes.clone();
        apply(&mut bytes, &edits);
        if let (Ok(u), _) = unpack(&bytes) {
            // Only the header's unchecked parts can change without a refusal.
            prop_assert_eq!(&u.manifest.content_sha256, f.manifest["content_sha256"].as_str().unwrap());
            prop_assert_eq!(u.lines.len(), f.manifest["changes"].as_u64().unwrap() as usize);
        }
    }

    #[test]
    fn damaged_content_with_good_checksums_never_panics(edits in prop::collection::vec(edit(), 1..6)) {
        let f = fixture();
        let mut content = f.content.clone();
        apply(&mut content, &edits);
        let _ = unpack(&seal_content(&f.manifest, &content));
    }

    #[test]
    fn a_hostile_change_with_good_checksums_never_panics(line in any::<prop::sample::Index>(), (key, value) in hostile_line_value()) {
        let f = fixture();
        let mut lines: Vec<Value> =
            f.content.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
        let line = line.index(lines.len());
        let (k, v) = value.as_object().unwrap().iter().next().unwrap();
        lines[line][k] = v.clone();
        let mut content = Vec::new();
        for l in &lines {
            content.extend(serde_json::to_vec(l).unwrap());
            content.push(b'\n');
        }
        // The manifest lists the hostile number, so that only the bounds refuse it.
        let mut m = f.manifest.clone();
        if key == 0 {
            let device = lines[line]["device_id"].clone();
            for r in m["devices"].as_array_mut().unwrap() {
                if r["id"] == device {
                    r["to_seq"] = v.clone();
                }
            }
        }
        let out = unpack(&seal_content(&m, &content)).0;
        if key == 0 {
            let n = v.as_i64().filter(|n| (1..=MAX_SEQ).contains(n));
            prop_assert!(n.is_some() || out.is_err(), "change number {} accepted", v);
        }
    }

    #[test]
    fn a_hostile_manifest_with_good_checksums_never_panics(edits in prop::collection::vec(manifest_edit(), 1..4)) {
        let f = fixture();
        let mut m = f.manifest.clone();
        for e in &edits {
            apply_to_manifest(&mut m, e);
        }
        let hostile_number = |v: &Value| v.as_i64().is_none_or(|n| !(1..=MAX_SEQ).contains(&n));
        let out = unpack(&seal(&m, &zstd::bulk::compress(&f.content, 3).unwrap())).0;
        if m != f.manifest {
            let number = hostile_number(&m["number"]);
            let ranges = m["devices"].as_array().is_some_and(|d| {
                d.iter().any(|r| hostile_number(&r["from_seq"]) || hostile_number(&r["to_seq"]))
            });
            prop_assert!(!(number || ranges) || out.is_err(), "accepted: {}", m);
        }
    }
}

proptest! {
    // Each may inflate a few megabytes: fewer cases.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_decompression_bomb_is_refused_quickly((bomb, declared) in bombs()) {
        let payload = match bomb {
            0 => bomb_1gib(),
            1 => bomb_512mib(),
            _ => &bomb_1gib()[..bomb_1gib().len() / 2],
        };
        let mut m = fixture().manifest.clone();
        m["content_bytes"] = json!(declared);
        let (out, took) = unpack(&seal(&m, payload));
        prop_assert!(out.is_err());
        prop_assert!(took < QUICK, "{} bytes declared: {:?}", declared, took);
    }
}
