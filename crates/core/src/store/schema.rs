//! Schema migrations, versioned in code. The version is SQLite's
//! `user_version`; a migration is never edited once released, only
//! followed by another.
//!
//! The change log (`change_log`, read through the `change` view, V8) is
//! the truth: every write appends to it, and the record tables
//! (`beneficiary`, `visit`, `milestone`…) are what the log folds to, kept
//! for querying. Each record row keeps its canonical JSON
//! (`doc`) and the clock stamp of every field (`clocks`).

use rusqlite_migration::{Migrations, M};

const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Every laptop (and station) whose changes this database holds.
CREATE TABLE device (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    coordinator TEXT NOT NULL,
    first_seen  TEXT NOT NULL
) WITHOUT ROWID;

-- The change log: one row per write, numbered per device. Its key never
-- collides across laptops; `hlc` orders changes and is unique too.
CREATE TABLE change (
    device_id   TEXT NOT NULL REFERENCES device(id),
    seq         INTEGER NOT NULL CHECK (seq > 0),
    hlc         TEXT NOT NULL UNIQUE,
    entity      TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    op          TEXT NOT NULL CHECK (op IN ('create', 'update', 'archive')),
    fields      TEXT NOT NULL,            -- JSON object: the new values
    old         TEXT NOT NULL DEFAULT '{}', -- JSON object: the values replaced
    base        TEXT NOT NULL DEFAULT '{}', -- JSON object: field -> stamp of the value replaced
    at          TEXT NOT NULL,            -- UTC instant, wall clock of the writer
    coordinator TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
CREATE INDEX change_record ON change(entity, record_id, hlc);

CREATE TABLE beneficiary (
    id                  TEXT PRIMARY KEY,
    first_name          TEXT NOT NULL,
    last_name           TEXT NOT NULL,
    name_ar             TEXT,
    sex                 TEXT NOT NULL CHECK (sex IN ('F', 'M')),
    birth_date          TEXT NOT NULL,
    cin                 TEXT,
    phone               TEXT,
    region              TEXT NOT NULL,
    province            TEXT,
    commune             TEXT,
    destination_country TEXT,
    phase               TEXT NOT NULL,
    iga_sector          TEXT,
    cohort              TEXT,
    created_at          TEXT NOT NULL,
    created_by          TEXT NOT NULL,
    archived_at         TEXT,
    doc                 TEXT NOT NULL,
    clocks              TEXT NOT NULL,
    -- Kept by the store from the fields above and from visits and milestones.
    sort_name           TEXT NOT NULL,
    stage               TEXT,
    stage_rank          INTEGER NOT NULL DEFAULT 0,
    last_visit_date     TEXT,
    next_visit_date     TEXT,
    visit_count         INTEGER NOT NULL DEFAULT 0,
    -- Set (with archived_at) while a merge decision folds her into another
    -- person; derived from the log like the rest (sync/merge.rs).
    merged_into         TEXT
);
CREATE INDEX beneficiary_cin ON beneficiary(cin) WHERE cin IS NOT NULL;
CREATE INDEX beneficiary_phone ON beneficiary(phone) WHERE phone IS NOT NULL;
CREATE INDEX beneficiary_birth ON beneficiary(birth_date);
CREATE INDEX beneficiary_commune ON beneficiary(commune);
CREATE INDEX beneficiary_sort ON beneficiary(sort_name);
CREATE INDEX beneficiary_region ON beneficiary(region, province);
-- The list's counts, sorts and the follow-up plan read these narrow
-- indexes, not the wide rows: one per sort order, each holding every
-- filter column (store/query.rs names them).
CREATE INDEX beneficiary_live ON beneficiary(archived_at);
CREATE INDEX beneficiary_list_name
    ON beneficiary(sort_name, id, archived_at, region, province, phase, sex, cohort, stage);
CREATE INDEX beneficiary_list_visit
    ON beneficiary(last_visit_date, sort_name, id, archived_at, region, province, phase, sex, cohort, stage);
CREATE INDEX beneficiary_list_stage
    ON beneficiary(stage_rank DESC, sort_name, id, archived_at, region, province, phase, sex, cohort, stage);
CREATE INDEX beneficiary_followup ON beneficiary(archived_at, next_visit_date, last_visit_date, created_at);

CREATE VIRTUAL TABLE beneficiary_fts USING fts5(
    text,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

CREATE TABLE visit (
    id              TEXT PRIMARY KEY,
    beneficiary_id  TEXT NOT NULL REFERENCES beneficiary(id),
    date            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    next_visit_date TEXT,
    created_at      TEXT NOT NULL,
    archived_at     TEXT,
    doc             TEXT NOT NULL,
    clocks          TEXT NOT NULL
);
CREATE INDEX visit_beneficiary ON visit(beneficiary_id, date);
CREATE INDEX visit_date ON visit(date);

CREATE TABLE milestone (
    id             TEXT PRIMARY KEY,
    beneficiary_id TEXT NOT NULL REFERENCES beneficiary(id),
    kind           TEXT NOT NULL,
    date           TEXT NOT NULL,
    amount         TEXT,                  -- exact decimal text, MAD
    created_at     TEXT NOT NULL,
    archived_at    TEXT,
    doc            TEXT NOT NULL,
    clocks         TEXT NOT NULL
);
CREATE INDEX milestone_beneficiary ON milestone(beneficiary_id, date);

-- The results framework: a target per indicator, programme-wide
-- (region NULL) or for one region. Exact decimals as text.
CREATE TABLE target (
    id          TEXT PRIMARY KEY,
    indicator   TEXT NOT NULL,
    region      TEXT,
    baseline    TEXT,
    target      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    archived_at TEXT,
    doc         TEXT NOT NULL,
    clocks      TEXT NOT NULL
);
CREATE INDEX target_indicator ON target(indicator, region);

-- Visits and milestones whose person has not arrived yet (an import
-- brought them first); materialised as soon as she does.
CREATE TABLE waiting (
    entity    TEXT NOT NULL,
    record_id TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    PRIMARY KEY (entity, record_id)
) WITHOUT ROWID;
CREATE INDEX waiting_parent ON waiting(parent_id);

-- Sync (crates/core/src/sync): conflicts found among the changes: two
-- changes of one field of one record that replaced the same value. A
-- function of the set of changes, so any import order finds the same.
CREATE TABLE conflict (
    id        TEXT PRIMARY KEY,     -- hash of (entity, record_id, field, base)
    entity    TEXT NOT NULL,
    record_id TEXT NOT NULL,
    field     TEXT NOT NULL,
    base      TEXT NOT NULL         -- stamp both writers replaced ('' for none)
) WITHOUT ROWID;
CREATE INDEX conflict_record ON conflict(entity, record_id);

-- Logged records (entity 'resolution'): a person settled a conflict.
CREATE TABLE resolution (
    id          TEXT PRIMARY KEY,
    conflict_id TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    archived_at TEXT,
    doc         TEXT NOT NULL,
    clocks      TEXT NOT NULL
);
CREATE INDEX resolution_conflict ON resolution(conflict_id);

-- Logged records (entity 'merge'): a person's decision on a pair of
-- possible duplicates, one record per pair (its id derives from the pair).
CREATE TABLE merge (
    id          TEXT PRIMARY KEY,
    kept        TEXT NOT NULL,
    other       TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('merged', 'distinct', 'open')),
    created_at  TEXT NOT NULL,
    archived_at TEXT,
    doc         TEXT NOT NULL,
    clocks      TEXT NOT NULL
);
CREATE INDEX merge_other ON merge(other, status);

-- Possible duplicates found when bundles brought people in (a < b).
CREATE TABLE duplicate (
    a       TEXT NOT NULL,
    b       TEXT NOT NULL,
    score   INTEGER NOT NULL,
    reasons TEXT NOT NULL,              -- JSON array of reason codes
    PRIMARY KEY (a, b)
) WITHOUT ROWID;

-- Every bundle imported here, for the per-laptop status and its gaps.
CREATE TABLE bundle_import (
    bundle_id   TEXT PRIMARY KEY,
    source      TEXT NOT NULL,          -- device that exported it
    number      INTEGER NOT NULL,       -- its export number on that device
    full        INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    changes     INTEGER NOT NULL,
    new_changes INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX bundle_import_source ON bundle_import(source, number);
"#;

/// Sync you can trust.
///
/// - `change.rcv`: the order in which this database received (or made)
///   each change. An export sends every change after the last `rcv` it
///   sent, so a change that arrives late (an earlier bundle imported after
///   a later one) still leaves in the next bundle. Per-device "highest
///   number exported" marks, which skipped such changes, are dropped: the
///   first export after this migration sends everything once, which also
///   repairs what those marks had held back.
/// - `device.successor_of`: a database restored from a backup or copied
///   continues under a new device identity, linked to the one it was, so
///   that no two different changes ever share a device and number.
/// - `bundle_import.content_sha256`: a bundle already imported is
///   recognised from its manifest alone.
/// - `duplicate(b)` indexed: possible duplicates are re-scored person by
///   person after every edit.
const V2: &str = r#"
CREATE TABLE change_v2 (
    device_id   TEXT NOT NULL REFERENCES device(id),
    seq         INTEGER NOT NULL CHECK (seq > 0),
    hlc         TEXT NOT NULL UNIQUE,
    entity      TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    op          TEXT NOT NULL CHECK (op IN ('create', 'update', 'archive')),
    fields      TEXT NOT NULL,
    old         TEXT NOT NULL DEFAULT '{}',
    base        TEXT NOT NULL DEFAULT '{}',
    at          TEXT NOT NULL,
    coordinator TEXT NOT NULL,
    rcv         INTEGER NOT NULL UNIQUE CHECK (rcv > 0),  -- order received here
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
INSERT INTO change_v2 (device_id, seq, hlc, entity, record_id, op, fields, old, base, at, coordinator, rcv)
    SELECT device_id, seq, hlc, entity, record_id, op, fields, old, base, at, coordinator,
           row_number() OVER (ORDER BY hlc)
    FROM change;
DROP TABLE change;
ALTER TABLE change_v2 RENAME TO change;
CREATE INDEX change_record ON change(entity, record_id, hlc);
DELETE FROM meta WHERE key LIKE 'sync.exported.%';

ALTER TABLE device ADD COLUMN successor_of TEXT;
ALTER TABLE bundle_import ADD COLUMN content_sha256 TEXT;
-- Re-scoring one person reads her pairs from both sides.
CREATE INDEX duplicate_b ON duplicate(b);
"#;

/// Bundles encrypted to the computers that may read them and signed by the
/// computer that made them (docs/sync.md, "Keys and enrolment").
///
/// - `own_key`: this computer's own key pair, made once (at `init_device`,
///   or at the first open after this migration, `sync/keys.rs`): its age
///   identity (X25519, the secret that opens the bundles addressed to it)
///   and its Ed25519 signing key. Both are secrets, kept in the database
///   like the people's data, until the database file itself is encrypted
///   (a separate piece of work).
/// - `trusted_recipient`: the computers this one encrypts its bundles to,
///   besides itself: added by a person (`wafira keys trust`), or when a
///   laptop is enrolled (its recipient travels in its signed manifest).
/// - `device_key`: for each computer whose bundles are taken here, the
///   signing key pinned once a person approved it. `signing_key` NULL is an
///   approval waiting for that computer's next bundle (for the key of
///   `fingerprint`, when the person gave it).
const V3: &str = r#"
CREATE TABLE own_key (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    age_identity TEXT NOT NULL,     -- AGE-SECRET-KEY-1…: secret
    signing_seed TEXT NOT NULL,     -- Ed25519 secret key, hex: secret
    created_at   TEXT NOT NULL
);

CREATE TABLE trusted_recipient (
    recipient TEXT PRIMARY KEY,     -- age1…
    name      TEXT NOT NULL,
    device_id TEXT,                 -- the computer enrolled; NULL: added by a person
    added_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE device_key (
    device_id   TEXT PRIMARY KEY,
    signing_key TEXT,               -- Ed25519 public key, hex; NULL until its first bundle
    fingerprint TEXT,               -- the key a person approved, when given
    approved_at TEXT NOT NULL,
    pinned_at   TEXT
) WITHOUT ROWID;
CREATE INDEX device_key_signing ON device_key(signing_key);
"#;

/// The audit trail (crates/core/src/audit.rs): one chain of entries per
/// machine, each carrying the hash of the one before it. Entries of other
/// machines arrive in bundles and are kept as they came; `rcv` is the
/// order in which this database received (or made) each, what an export
/// sends after (`sync.exported_audit_rcv`).
const V4: &str = r#"
CREATE TABLE audit (
    machine   TEXT NOT NULL,                -- device id of the chain
    seq       INTEGER NOT NULL CHECK (seq > 0),
    at        TEXT NOT NULL,                -- UTC instant, milliseconds
    who       TEXT NOT NULL,                -- the account
    role      TEXT NOT NULL,
    action    TEXT NOT NULL,                -- a stable code (audit::Act)
    subject   TEXT NOT NULL,                -- record id, bundle file, report kind
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,                -- SHA-256 of the entry, prev_hash included
    rcv       INTEGER NOT NULL UNIQUE CHECK (rcv > 0),
    PRIMARY KEY (machine, seq)
) WITHOUT ROWID;
CREATE INDEX audit_at ON audit(at);
CREATE INDEX audit_action ON audit(action, at);
CREATE INDEX audit_who ON audit(who, at);
"#;

/// Consent withdrawn (crates/core/src/erasure.rs): the people whose
/// identifying data was erased, one row each, folded from the logged
/// `erasure` record whose id is hers, like any record.
const V5: &str = r#"
CREATE TABLE erasure (
    id         TEXT PRIMARY KEY,        -- the person erased
    created_at TEXT NOT NULL,
    doc        TEXT NOT NULL,
    clocks     TEXT NOT NULL
);
"#;

/// The results framework (crates/core/src/programme.rs): IGAs as records
/// (several per person), their follow-up surveys, migration seasons,
/// referrals, partners, group sessions and attendance; each table's
/// columns are its kind's declared `columns`, then `doc` and `clocks`.
/// Milestones now belong to an IGA; the ones recorded before get the
/// person's first IGA when they are folded again (`store::upgrade`).
const V6: &str = r#"
ALTER TABLE milestone ADD COLUMN iga_id TEXT;
CREATE INDEX milestone_iga ON milestone(iga_id);

CREATE TABLE iga (
    id              TEXT PRIMARY KEY,
    beneficiary_id  TEXT NOT NULL,
    sector          TEXT NOT NULL,
    form            TEXT NOT NULL,
    legal_status    TEXT NOT NULL,
    social_security TEXT,
    region          TEXT,
    created_at      TEXT NOT NULL,
    archived_at     TEXT,
    doc             TEXT NOT NULL,
    clocks          TEXT NOT NULL
);
CREATE INDEX iga_person ON iga(beneficiary_id);

CREATE TABLE iga_followup (
    id             TEXT PRIMARY KEY,
    beneficiary_id TEXT NOT NULL,
    iga_id         TEXT NOT NULL,
    date           TEXT NOT NULL,
    operating      INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    archived_at    TEXT,
    doc            TEXT NOT NULL,
    clocks         TEXT NOT NULL
);
CREATE INDEX iga_followup_iga ON iga_followup(iga_id, date);
CREATE INDEX iga_followup_person ON iga_followup(beneficiary_id);

CREATE TABLE season (
    id             TEXT PRIMARY KEY,
    beneficiary_id TEXT NOT NULL,
    year           INTEGER NOT NULL,
    country        TEXT NOT NULL,
    departure_date TEXT,
    return_date    TEXT,
    created_at     TEXT NOT NULL,
    archived_at    TEXT,
    doc            TEXT NOT NULL,
    clocks         TEXT NOT NULL
);
CREATE INDEX season_person ON season(beneficiary_id, year);

CREATE TABLE referral (
    id             TEXT PRIMARY KEY,
    beneficiary_id TEXT NOT NULL,
    partner_id     TEXT NOT NULL,
    date           TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    archived_at    TEXT,
    doc            TEXT NOT NULL,
    clocks         TEXT NOT NULL
);
CREATE INDEX referral_person ON referral(beneficiary_id);

CREATE TABLE partner (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    archived_at TEXT,
    doc         TEXT NOT NULL,
    clocks      TEXT NOT NULL
);

CREATE TABLE session (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    module      TEXT,
    date        TEXT NOT NULL,
    region      TEXT,
    created_at  TEXT NOT NULL,
    archived_at TEXT,
    doc         TEXT NOT NULL,
    clocks      TEXT NOT NULL
);
CREATE INDEX session_date ON session(date);

CREATE TABLE attendance (
    id             TEXT PRIMARY KEY,
    beneficiary_id TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    archived_at    TEXT,
    doc            TEXT NOT NULL,
    clocks         TEXT NOT NULL
);
CREATE INDEX attendance_session ON attendance(session_id);
CREATE INDEX attendance_person ON attendance(beneficiary_id);
"#;

/// Targets per year and per sex (crates/core/src/target.rs): a target is
/// known by (indicator, region, year, sex); `year` NULL is the
/// end-of-project target, `sex` NULL everyone's. The targets stored before
/// are end-of-project targets for everyone, as their records (without
/// these fields) read. Not unique: two laptops may each set the same
/// target offline; the first by creation is the one in effect.
const V7: &str = r#"
ALTER TABLE target ADD COLUMN year INTEGER;
ALTER TABLE target ADD COLUMN sex TEXT CHECK (sex IN ('F', 'M'));
DROP INDEX target_indicator;
CREATE INDEX target_key ON target(indicator, region, year, sex);
"#;

/// A compact change log (issue 12: the database took 1.8 KB per record,
/// each record's content stored twice and every change naming its device
/// and clock stamp in 36 to 55 characters, in the table and its indexes).
///
/// - `change_log` holds the changes; `change` becomes a view giving them as
///   before (same columns and text), so every reader is unchanged.
/// - `device_no`: a small number for each device identity the log names (a
///   change's writer, its stamp's node); the log keeps numbers, its stamp
///   as (`hlc_ms`, `hlc_n`, `hlc_node`), which the view writes back in the
///   stamp's one text form (`Hlc`'s `Display`, the only one `FromStr`
///   reads, so every stored stamp round-trips).
/// - `rcv` is the row's key: no separate index for the order received.
/// - Content once: a create's `fields` is NULL while its record's row
///   still holds exactly that content: its `doc` less the `"id":"…",` the
///   fold puts in (a text replace, not a JSON function: cheap, and the
///   same function at both ends, so it need only give the same text back
///   when the text it is given has not changed), compared as text when
///   the row is written; the view reads it there. Triggers
///   keep that true whatever writes a record table: before a row's `doc`
///   changes or the row is deleted, the create's content goes back into
///   the log, from the row as it was. A migration that rebuilds a record
///   table (a DROP fires no trigger) must first put it back:
///   `UPDATE change_log SET fields = (SELECT fields FROM change v WHERE
///   v.rcv = change_log.rcv) WHERE fields IS NULL` (`log::keep_all_content`).
/// - A change's device must still be a known device (the foreign key the
///   old table had), checked by a trigger.
const V8: &str = r#"
CREATE TABLE device_no (
    no INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE
);
INSERT OR IGNORE INTO device_no (id) SELECT device_id FROM change ORDER BY rcv;
INSERT OR IGNORE INTO device_no (id)
    SELECT substr(hlc, 24, 8) || '-' || substr(hlc, 32, 4) || '-' || substr(hlc, 36, 4) || '-'
           || substr(hlc, 40, 4) || '-' || substr(hlc, 44, 12)
    FROM change ORDER BY rcv;

CREATE TABLE change_log (
    rcv         INTEGER PRIMARY KEY CHECK (rcv > 0),       -- order received here
    device      INTEGER NOT NULL REFERENCES device_no(no),
    seq         INTEGER NOT NULL CHECK (seq > 0),
    hlc_ms      INTEGER NOT NULL,
    hlc_n       INTEGER NOT NULL,
    hlc_node    INTEGER NOT NULL REFERENCES device_no(no),
    entity      TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    op          TEXT NOT NULL CHECK (op IN ('create', 'update', 'archive')),
    fields      TEXT CHECK (fields IS NOT NULL OR op = 'create'), -- NULL: in its record's doc
    old         TEXT NOT NULL DEFAULT '{}',
    base        TEXT NOT NULL DEFAULT '{}',
    at          TEXT NOT NULL,
    coordinator TEXT NOT NULL
);
INSERT INTO change_log (rcv, device, seq, hlc_ms, hlc_n, hlc_node, entity, record_id, op, fields, old, base, at, coordinator)
    SELECT rcv, (SELECT no FROM device_no WHERE id = device_id), seq,
           CAST(substr(hlc, 1, 15) AS INTEGER), CAST(substr(hlc, 17, 6) AS INTEGER),
           (SELECT no FROM device_no WHERE id = substr(hlc, 24, 8) || '-' || substr(hlc, 32, 4) || '-'
               || substr(hlc, 36, 4) || '-' || substr(hlc, 40, 4) || '-' || substr(hlc, 44, 12)),
           entity, record_id, op, fields, old, base, at, coordinator
    FROM change;
DROP TABLE change;
CREATE UNIQUE INDEX change_number ON change_log(device, seq);
CREATE UNIQUE INDEX change_stamp ON change_log(hlc_ms, hlc_n, hlc_node);
CREATE INDEX change_record ON change_log(entity, record_id);

CREATE VIEW change (device_id, seq, hlc, entity, record_id, op, fields, old, base, at, coordinator, rcv) AS
    SELECT d.id, c.seq, printf('%015d-%06d-%s', c.hlc_ms, c.hlc_n, replace(n.id, '-', '')),
           c.entity, c.record_id, c.op,
           coalesce(c.fields, CASE c.entity
            WHEN 'beneficiary' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM beneficiary WHERE id = c.record_id)
            WHEN 'visit' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM visit WHERE id = c.record_id)
            WHEN 'milestone' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM milestone WHERE id = c.record_id)
            WHEN 'target' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM target WHERE id = c.record_id)
            WHEN 'resolution' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM resolution WHERE id = c.record_id)
            WHEN 'merge' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM merge WHERE id = c.record_id)
            WHEN 'erasure' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM erasure WHERE id = c.record_id)
            WHEN 'iga' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM iga WHERE id = c.record_id)
            WHEN 'iga_followup' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM iga_followup WHERE id = c.record_id)
            WHEN 'season' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM season WHERE id = c.record_id)
            WHEN 'referral' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM referral WHERE id = c.record_id)
            WHEN 'partner' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM partner WHERE id = c.record_id)
            WHEN 'session' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM session WHERE id = c.record_id)
            WHEN 'attendance' THEN (SELECT replace(doc, '"id":"' || c.record_id || '",', '') FROM attendance WHERE id = c.record_id)
           END),
           c.old, c.base, c.at, c.coordinator, c.rcv
    FROM change_log c LEFT JOIN device_no d ON d.no = c.device LEFT JOIN device_no n ON n.no = c.hlc_node;

CREATE TRIGGER change_log_device BEFORE INSERT ON change_log
    WHEN NOT EXISTS (SELECT 1 FROM device_no n JOIN device d ON d.id = n.id WHERE n.no = NEW.device)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: a change of an unknown device');
END;

CREATE TRIGGER beneficiary_content_once AFTER INSERT ON beneficiary BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'beneficiary' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER beneficiary_content_again AFTER UPDATE OF doc ON beneficiary BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'beneficiary' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER beneficiary_content_kept BEFORE UPDATE OF id, doc ON beneficiary BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'beneficiary' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER beneficiary_content_kept_deleted BEFORE DELETE ON beneficiary BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'beneficiary' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'beneficiary' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM beneficiary WHERE id = change_log.record_id);
CREATE TRIGGER visit_content_once AFTER INSERT ON visit BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'visit' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER visit_content_again AFTER UPDATE OF doc ON visit BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'visit' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER visit_content_kept BEFORE UPDATE OF id, doc ON visit BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'visit' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER visit_content_kept_deleted BEFORE DELETE ON visit BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'visit' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'visit' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM visit WHERE id = change_log.record_id);
CREATE TRIGGER milestone_content_once AFTER INSERT ON milestone BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'milestone' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER milestone_content_again AFTER UPDATE OF doc ON milestone BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'milestone' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER milestone_content_kept BEFORE UPDATE OF id, doc ON milestone BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'milestone' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER milestone_content_kept_deleted BEFORE DELETE ON milestone BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'milestone' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'milestone' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM milestone WHERE id = change_log.record_id);
CREATE TRIGGER target_content_once AFTER INSERT ON target BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'target' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER target_content_again AFTER UPDATE OF doc ON target BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'target' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER target_content_kept BEFORE UPDATE OF id, doc ON target BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'target' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER target_content_kept_deleted BEFORE DELETE ON target BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'target' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'target' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM target WHERE id = change_log.record_id);
CREATE TRIGGER resolution_content_once AFTER INSERT ON resolution BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'resolution' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER resolution_content_again AFTER UPDATE OF doc ON resolution BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'resolution' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER resolution_content_kept BEFORE UPDATE OF id, doc ON resolution BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'resolution' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER resolution_content_kept_deleted BEFORE DELETE ON resolution BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'resolution' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'resolution' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM resolution WHERE id = change_log.record_id);
CREATE TRIGGER merge_content_once AFTER INSERT ON merge BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'merge' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER merge_content_again AFTER UPDATE OF doc ON merge BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'merge' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER merge_content_kept BEFORE UPDATE OF id, doc ON merge BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'merge' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER merge_content_kept_deleted BEFORE DELETE ON merge BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'merge' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'merge' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM merge WHERE id = change_log.record_id);
CREATE TRIGGER erasure_content_once AFTER INSERT ON erasure BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'erasure' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER erasure_content_again AFTER UPDATE OF doc ON erasure BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'erasure' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER erasure_content_kept BEFORE UPDATE OF id, doc ON erasure BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'erasure' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER erasure_content_kept_deleted BEFORE DELETE ON erasure BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'erasure' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'erasure' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM erasure WHERE id = change_log.record_id);
CREATE TRIGGER iga_content_once AFTER INSERT ON iga BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'iga' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER iga_content_again AFTER UPDATE OF doc ON iga BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'iga' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER iga_content_kept BEFORE UPDATE OF id, doc ON iga BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'iga' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER iga_content_kept_deleted BEFORE DELETE ON iga BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'iga' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'iga' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM iga WHERE id = change_log.record_id);
CREATE TRIGGER iga_followup_content_once AFTER INSERT ON iga_followup BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'iga_followup' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER iga_followup_content_again AFTER UPDATE OF doc ON iga_followup BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'iga_followup' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER iga_followup_content_kept BEFORE UPDATE OF id, doc ON iga_followup BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'iga_followup' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER iga_followup_content_kept_deleted BEFORE DELETE ON iga_followup BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'iga_followup' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'iga_followup' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM iga_followup WHERE id = change_log.record_id);
CREATE TRIGGER season_content_once AFTER INSERT ON season BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'season' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER season_content_again AFTER UPDATE OF doc ON season BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'season' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER season_content_kept BEFORE UPDATE OF id, doc ON season BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'season' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER season_content_kept_deleted BEFORE DELETE ON season BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'season' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'season' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM season WHERE id = change_log.record_id);
CREATE TRIGGER referral_content_once AFTER INSERT ON referral BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'referral' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER referral_content_again AFTER UPDATE OF doc ON referral BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'referral' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER referral_content_kept BEFORE UPDATE OF id, doc ON referral BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'referral' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER referral_content_kept_deleted BEFORE DELETE ON referral BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'referral' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'referral' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM referral WHERE id = change_log.record_id);
CREATE TRIGGER partner_content_once AFTER INSERT ON partner BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'partner' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER partner_content_again AFTER UPDATE OF doc ON partner BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'partner' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER partner_content_kept BEFORE UPDATE OF id, doc ON partner BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'partner' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER partner_content_kept_deleted BEFORE DELETE ON partner BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'partner' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'partner' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM partner WHERE id = change_log.record_id);
CREATE TRIGGER session_content_once AFTER INSERT ON session BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'session' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER session_content_again AFTER UPDATE OF doc ON session BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'session' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER session_content_kept BEFORE UPDATE OF id, doc ON session BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'session' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER session_content_kept_deleted BEFORE DELETE ON session BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'session' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'session' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM session WHERE id = change_log.record_id);
CREATE TRIGGER attendance_content_once AFTER INSERT ON attendance BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'attendance' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER attendance_content_again AFTER UPDATE OF doc ON attendance BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = 'attendance' AND record_id = NEW.id AND op = 'create' AND fields = replace(NEW.doc, '"id":"' || NEW.id || '",', '');
END;
CREATE TRIGGER attendance_content_kept BEFORE UPDATE OF id, doc ON attendance BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'attendance' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER attendance_content_kept_deleted BEFORE DELETE ON attendance BEGIN
    UPDATE change_log SET fields = replace(OLD.doc, '"id":"' || OLD.id || '",', '')
     WHERE entity = 'attendance' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = 'attendance' AND op = 'create'
   AND fields = (SELECT replace(doc, '"id":"' || id || '",', '') FROM attendance WHERE id = change_log.record_id);
"#;

/// Records and changes stored once, compactly (issue 12: at most 800
/// bytes a record).
/// Each record table held its record three times over: as `doc` (its
/// canonical JSON, id included), as query columns copied from it, and its
/// clocks with 55-character stamps. Now:
///
/// - `body` is the record without its id, as SQLite's binary JSON (JSONB:
///   no quotes, colons or commas), the one stored copy of its content;
/// - the query columns are generated from `body` (`VIRTUAL`: computed when
///   read, stored only in the indexes that name them), and so is `doc`,
///   the record's JSON with its id, for the readers that read it;
/// - `clocks` writes a stamp with the local number of its node's device
///   (`<ms>.<counter>.<no>`, `device_no`), and a record whose fields share
///   one stamp as that stamp alone (`log::stored_clocks`); rows written
///   before keep the full text, which is read as before.
///
/// The log keeps a change's `at` as its milliseconds when they give back
/// its text exactly (`log::AT_TEXT_SQL`, checked as it is written, so a
/// text in any other form stays as it came), and `old` and `base` as NULL
/// when empty (`{}`). The `change` view gives every change as before.
/// Tables are renamed into place with `legacy_alter_table` on: the record
/// tables' triggers name the log while it is being made again.
///
/// Content once (V8) compares a create's `fields` with `json(body)`: the
/// text JSONB gives back is the text it was made from (SQLite keeps a
/// string's escapes and a number's digits as they were written), so a
/// record written from its creation alone still keeps its content in its
/// row only; where the text would differ, the log keeps its own copy, as
/// for any record changed since. The migration first puts every create's
/// content back in the log (a DROP fires no trigger), rebuilds each table
/// (foreign keys are off while migrations run, `migrate`), then takes the
/// content out again where the rows hold it.
///
/// Its first part, here: every create's content back in the log, the log
/// made again; [`v9`] puts the whole together.
const V9_LOG: &str = r#"
UPDATE change_log SET fields = (SELECT v.fields FROM change v WHERE v.rcv = change_log.rcv) WHERE fields IS NULL;
DROP VIEW change;
PRAGMA legacy_alter_table = ON;

CREATE TABLE change_log_v9 (
    rcv         INTEGER PRIMARY KEY CHECK (rcv > 0),       -- order received here
    device      INTEGER NOT NULL REFERENCES device_no(no),
    seq         INTEGER NOT NULL CHECK (seq > 0),
    hlc_ms      INTEGER NOT NULL,
    hlc_n       INTEGER NOT NULL,
    hlc_node    INTEGER NOT NULL REFERENCES device_no(no),
    entity      TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    op          TEXT NOT NULL CHECK (op IN ('create', 'update', 'archive')),
    fields      TEXT CHECK (fields IS NOT NULL OR op = 'create'), -- NULL: in its record's body
    old         TEXT,                     -- NULL: {}
    base        TEXT,                     -- NULL: {}
    at          NOT NULL,                 -- milliseconds, or the text when they would not give it back
    coordinator TEXT NOT NULL
);
INSERT INTO change_log_v9 (rcv, device, seq, hlc_ms, hlc_n, hlc_node, entity, record_id, op, fields, old, base, at, coordinator)
    SELECT rcv, device, seq, hlc_ms, hlc_n, hlc_node, entity, record_id, op, fields, nullif(old, '{}'), nullif(base, '{}'),
        (SELECT CASE WHEN strftime('%Y-%m-%dT%H:%M:%fZ', ms / 1000.0, 'unixepoch') = at THEN ms ELSE at END
            FROM (SELECT CAST(round((julianday(at) - 2440587.5) * 86400000.0) AS INTEGER) AS ms)),
        coordinator
    FROM change_log;
DROP TABLE change_log;
ALTER TABLE change_log_v9 RENAME TO change_log;
CREATE UNIQUE INDEX change_number ON change_log(device, seq);
CREATE UNIQUE INDEX change_stamp ON change_log(hlc_ms, hlc_n, hlc_node);
CREATE INDEX change_record ON change_log(entity, record_id);
CREATE TRIGGER change_log_device BEFORE INSERT ON change_log
    WHEN NOT EXISTS (SELECT 1 FROM device_no n JOIN device d ON d.id = n.id WHERE n.no = NEW.device)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: a change of an unknown device');
END;

"#;

/// A record table as V9 makes it again.
struct V9Table {
    name: &'static str,
    /// The columns generated from `body`: name, then type and constraints.
    generated: &'static [(&'static str, &'static str)],
    /// The columns the store keeps itself (people's summaries), declared.
    kept: &'static str,
    /// Their names, each after a comma, for the copy.
    kept_names: &'static str,
    indexes: &'static str,
}

/// V9's record tables (an erasure's id is the person erased; a
/// milestone's amount an exact decimal's text, in MAD). What V9 does with
/// each is the same (`v9`).
const V9_TABLES: [V9Table; 14] = [
    V9Table {
        name: "beneficiary",
        generated: &[
            ("first_name", "TEXT NOT NULL"),
            ("last_name", "TEXT NOT NULL"),
            ("name_ar", "TEXT"),
            ("sex", "TEXT NOT NULL CHECK (sex IN ('F', 'M'))"),
            ("birth_date", "TEXT NOT NULL"),
            ("cin", "TEXT"),
            ("phone", "TEXT"),
            ("region", "TEXT NOT NULL"),
            ("province", "TEXT"),
            ("commune", "TEXT"),
            ("destination_country", "TEXT"),
            ("phase", "TEXT NOT NULL"),
            ("iga_sector", "TEXT"),
            ("cohort", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
            ("created_by", "TEXT NOT NULL"),
            ("archived_at", "TEXT"),
        ],
        kept: r#"    -- Kept by the store from the fields above and from visits and milestones.
    sort_name TEXT NOT NULL,
    stage TEXT,
    stage_rank INTEGER NOT NULL DEFAULT 0,
    last_visit_date TEXT,
    next_visit_date TEXT,
    visit_count INTEGER NOT NULL DEFAULT 0,
    -- Set (with archived_at) while a merge decision folds her into another
    -- person; derived from the log like the rest (sync/merge.rs).
    merged_into TEXT"#,
        kept_names: ", sort_name, stage, stage_rank, last_visit_date, next_visit_date, visit_count, merged_into",
        indexes: r#"CREATE INDEX beneficiary_cin ON beneficiary(cin) WHERE cin IS NOT NULL;
CREATE INDEX beneficiary_phone ON beneficiary(phone) WHERE phone IS NOT NULL;
CREATE INDEX beneficiary_birth ON beneficiary(birth_date);
CREATE INDEX beneficiary_commune ON beneficiary(commune);
CREATE INDEX beneficiary_sort ON beneficiary(sort_name);
CREATE INDEX beneficiary_region ON beneficiary(region, province);
CREATE INDEX beneficiary_live ON beneficiary(archived_at);
CREATE INDEX beneficiary_list_name
    ON beneficiary(sort_name, id, archived_at, region, province, phase, sex, cohort, stage);
CREATE INDEX beneficiary_list_visit
    ON beneficiary(last_visit_date, sort_name, id, archived_at, region, province, phase, sex, cohort, stage);
CREATE INDEX beneficiary_list_stage
    ON beneficiary(stage_rank DESC, sort_name, id, archived_at, region, province, phase, sex, cohort, stage);
CREATE INDEX beneficiary_followup ON beneficiary(archived_at, next_visit_date, last_visit_date, created_at);
"#,
    },
    V9Table {
        name: "visit",
        generated: &[
            ("beneficiary_id", "TEXT NOT NULL REFERENCES beneficiary(id)"),
            ("date", "TEXT NOT NULL"),
            ("kind", "TEXT NOT NULL"),
            ("next_visit_date", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
            ("archived_at", "TEXT"),
        ],
        kept: "",
        kept_names: "",
        indexes: r#"CREATE INDEX visit_beneficiary ON visit(beneficiary_id, date);
CREATE INDEX visit_date ON visit(date);
"#,
    },
    V9Table {
        name: "milestone",
        generated: &[
            ("beneficiary_id", "TEXT NOT NULL REFERENCES beneficiary(id)"),
            ("kind", "TEXT NOT NULL"),
            ("date", "TEXT NOT NULL"),
            ("amount", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
            ("archived_at", "TEXT"),
            ("iga_id", "TEXT"),
        ],
        kept: "",
        kept_names: "",
        indexes: r#"CREATE INDEX milestone_beneficiary ON milestone(beneficiary_id, date);
CREATE INDEX milestone_iga ON milestone(iga_id);
"#,
    },
    V9Table {
        name: "target",
        generated: &[
            ("indicator", "TEXT NOT NULL"),
            ("region", "TEXT"),
            ("baseline", "TEXT"),
            ("target", "TEXT NOT NULL"),
            ("created_at", "TEXT NOT NULL"),
            ("archived_at", "TEXT"),
            ("year", "INTEGER"),
            ("sex", "TEXT CHECK (sex IN ('F', 'M'))"),
        ],
        kept: "",
        kept_names: "",
        indexes: r#"CREATE INDEX target_key ON target(indicator, region, year, sex);
"#,
    },
    V9Table {
        name: "resolution",
        generated: &[("conflict_id", "TEXT NOT NULL"), ("created_at", "TEXT NOT NULL"), ("archived_at", "TEXT")],
        kept: "",
        kept_names: "",
        indexes: r#"CREATE INDEX resolution_conflict ON resolution(conflict_id);
"#,
    },
    V9Table {
        name: "merge",
        generated: &[
            ("kept", "TEXT NOT NULL"),
            ("other", "TEXT NOT NULL"),
            ("status", "TEXT NOT NULL CHECK (status IN ('merged', 'distinct', 'open'))"),
            ("created_at", "TEXT NOT NULL"),
            ("archived_at", "TEXT"),
        ],
        kept: "",
        kept_names: "",
        indexes: r#"CREATE INDEX merge_other ON merge(other, status);
"#,
    },
    V9Table {
        name: "erasure",
        generated: &[("created_at", "TEXT NOT NULL")],
        kept: "",
        kept_names: "",
        indexes: r#""#,
    },
    V9Table {
        name: "iga",
        generated: &[
            ("beneficiary_id", "TEXT NOT NULL"),
            ("sector", "TEXT NOT NULL"),
            ("form", "TEXT NOT NULL"),
            ("legal_status", "TEXT NOT NULL"),
            ("social_security", "TEXT"),
            ("region", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
            ("archived_at", "TEXT"),
        ],
        kept: "",
        kept_names: "",
        indexes: r#"CREATE INDEX iga_person ON iga(beneficiary_id);
"#,
    },
    V9Table {
        name: "iga_followup",
        generated: &[
            ("beneficiary_id", "TEXT NOT NULL"),
            ("iga_id", "TEXT NOT NULL"),
            ("date", "TEXT NOT NULL"),
            ("operating", "INTEGER NOT NULL"),
            ("created_at", "TEXT NOT NULL"),
            ("archived_at", "TEXT"),
        ],
        kept: "",
        kept_names: "",
        indexes: r#"CREATE INDEX iga_followup_iga ON iga_followup(iga_id, date);
CREATE INDEX iga_followup_person ON iga_followup(beneficiary_id);
"#,
    },
    V9Table {
        name: "season",
        generated: &[
            ("beneficiary_id", "TEXT NOT NULL"),
            ("year", "INTEGER NOT NULL"),
            ("country", "TEXT NOT NULL"),
            ("departure_date", "TEXT"),
            ("return_date", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
            ("archived_at", "TEXT"),
        ],
        kept: "",
        kept_names: "",
        indexes: r#"CREATE INDEX season_person ON season(beneficiary_id, year);
"#,
    },
    V9Table {
        name: "referral",
        generated: &[
            ("beneficiary_id", "TEXT NOT NULL"),
            ("partner_id", "TEXT NOT NULL"),
            ("date", "TEXT NOT NULL"),
            ("outcome", "TEXT NOT NULL"),
            ("created_at", "TEXT NOT NULL"),
            ("archived_at", "TEXT"),
        ],
        kept: "",
        kept_names: "",
        indexes: r#"CREATE INDEX referral_person ON referral(beneficiary_id);
"#,
    },
    V9Table {
        name: "partner",
        generated: &[
            ("name", "TEXT NOT NULL"),
            ("kind", "TEXT NOT NULL"),
            ("created_at", "TEXT NOT NULL"),
            ("archived_at", "TEXT"),
        ],
        kept: "",
        kept_names: "",
        indexes: r#""#,
    },
    V9Table {
        name: "session",
        generated: &[
            ("kind", "TEXT NOT NULL"),
            ("module", "TEXT"),
            ("date", "TEXT NOT NULL"),
            ("region", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
            ("archived_at", "TEXT"),
        ],
        kept: "",
        kept_names: "",
        indexes: r#"CREATE INDEX session_date ON session(date);
"#,
    },
    V9Table {
        name: "attendance",
        generated: &[
            ("beneficiary_id", "TEXT NOT NULL"),
            ("session_id", "TEXT NOT NULL"),
            ("created_at", "TEXT NOT NULL"),
            ("archived_at", "TEXT"),
        ],
        kept: "",
        kept_names: "",
        indexes: r#"CREATE INDEX attendance_session ON attendance(session_id);
CREATE INDEX attendance_person ON attendance(beneficiary_id);
"#,
    },
];

/// A row's clocks as V9 stores them, from its clocks before: the usual
/// `{"*":"<stamp>"}` made short; any other form stays as it was (read as it
/// is, `log::full_clocks`).
const V9_CLOCKS: &str = r#"CASE WHEN length(clocks) = 63 AND substr(clocks, 1, 6) = '{"*":"' AND substr(clocks, 62) = '"}'
        THEN coalesce(CAST(substr(clocks, 7, 15) AS INTEGER) || '.' || CAST(substr(clocks, 23, 6) AS INTEGER) || '.'
            || (SELECT no FROM device_no WHERE replace(id, '-', '') = substr(clocks, 30, 32)), clocks)
        ELSE clocks END"#;

const V9_VIEW_HEAD: &str = r#"CREATE VIEW change (device_id, seq, hlc, entity, record_id, op, fields, old, base, at, coordinator, rcv) AS
    SELECT d.id, c.seq, printf('%015d-%06d-%s', c.hlc_ms, c.hlc_n, replace(n.id, '-', '')),
           c.entity, c.record_id, c.op,
           coalesce(c.fields, CASE c.entity
"#;

const V9_VIEW_TAIL: &str = r#"           END),
           coalesce(c.old, '{}'), coalesce(c.base, '{}'),
           CASE typeof(c.at) WHEN 'integer' THEN strftime('%Y-%m-%dT%H:%M:%fZ', c.at / 1000.0, 'unixepoch') ELSE c.at END,
           c.coordinator, c.rcv
    FROM change_log c LEFT JOIN device_no d ON d.no = c.device LEFT JOIN device_no n ON n.no = c.hlc_node;

PRAGMA legacy_alter_table = OFF;
"#;

/// Schema V9's text, put together once from the parts above: the log made
/// again, then each record table copied into its new form, its old one
/// dropped, its indexes and content-once triggers made, its content taken
/// out of the log again; then the `change` view. A migration, so never
/// edited: its parts are its own.
fn v9() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let mut sql = V9_LOG.to_string();
        for V9Table { name: t, generated, kept: declared, kept_names: kept, indexes } in V9_TABLES {
            sql.push_str(&format!(
                "CREATE TABLE {t}_v9 (\n    id TEXT PRIMARY KEY,\n    body BLOB NOT NULL,\n    clocks TEXT NOT NULL,\n"
            ));
            for (c, declaration) in generated {
                sql.push_str(&format!(
                    "    {c} {declaration} GENERATED ALWAYS AS (json_extract(body, '$.{c}')) VIRTUAL,\n"
                ));
            }
            sql.push_str("    doc TEXT GENERATED ALWAYS AS (json_insert(body, '$.id', id)) VIRTUAL");
            if !declared.is_empty() {
                sql.push_str(",\n");
                sql.push_str(declared);
            }
            sql.push_str("\n);\n");
            sql.push_str(&format!(
                "INSERT INTO {t}_v9 (rowid, id, body, clocks{kept})
    SELECT rowid, id, jsonb_remove(doc, '$.id'),
        {V9_CLOCKS}{kept}
    FROM {t};
DROP TABLE {t};
ALTER TABLE {t}_v9 RENAME TO {t};
{indexes}CREATE TRIGGER {t}_content_once AFTER INSERT ON {t} BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = '{t}' AND record_id = NEW.id AND op = 'create' AND fields = json(NEW.body);
END;
CREATE TRIGGER {t}_content_again AFTER UPDATE OF body ON {t} BEGIN
    UPDATE change_log SET fields = NULL
     WHERE entity = '{t}' AND record_id = NEW.id AND op = 'create' AND fields = json(NEW.body);
END;
CREATE TRIGGER {t}_content_kept BEFORE UPDATE OF id, body ON {t} BEGIN
    UPDATE change_log SET fields = json(OLD.body) WHERE entity = '{t}' AND record_id = OLD.id AND fields IS NULL;
END;
CREATE TRIGGER {t}_content_kept_deleted BEFORE DELETE ON {t} BEGIN
    UPDATE change_log SET fields = json(OLD.body) WHERE entity = '{t}' AND record_id = OLD.id AND fields IS NULL;
END;
UPDATE change_log SET fields = NULL
 WHERE entity = '{t}' AND op = 'create' AND fields = (SELECT json(body) FROM {t} WHERE id = change_log.record_id);
"
            ));
        }
        sql.push('\n');
        sql.push_str(V9_VIEW_HEAD);
        for V9Table { name: t, .. } in V9_TABLES {
            sql.push_str(&format!("            WHEN '{t}' THEN (SELECT json(body) FROM {t} WHERE id = c.record_id)\n"));
        }
        sql.push_str(V9_VIEW_TAIL);
        sql
    })
}

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2),
        M::up(V3),
        M::up(V4),
        M::up(V5),
        M::up(V6),
        M::up(V7),
        M::up(V8),
        M::up(v9()).foreign_key_check(),
    ])
}

/// Brings a database to this program's schema. Foreign keys are off while
/// the migrations run, as SQLite asks of a migration that rebuilds a table
/// others refer to (V9 rebuilds people, whose visits and milestones name
/// them); the migrations that need it check them before they commit.
///
/// A file brought past V9 is then rebuilt (`VACUUM`): V9 writes every
/// record table and the log anew, and the file would otherwise keep the
/// old pages, free, at twice its size until later writes fill them.
pub fn migrate(conn: &mut rusqlite::Connection) -> crate::error::Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let migrated = migrations().to_latest(conn);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrated?;
    if (1..9).contains(&found) {
        conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
    }
    Ok(())
}

/// The version of the records' content that bundles carry (their
/// `schema_version`): the last migration that changed what a record may
/// hold. V8 and V9 changed only how the log and the records are stored, so
/// a station still at V7 reads the bundles of a laptop at V9, and the other
/// way round.
pub fn content_version() -> i64 {
    7
}

/// The schema version this program writes.
pub fn current_version() -> i64 {
    9
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        assert!(super::migrations().validate().is_ok());
    }
}
