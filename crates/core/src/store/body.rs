//! A record read straight from its row's `body`, SQLite's binary JSON
//! (JSONB, <https://sqlite.org/jsonb.html>), its id put in from the row.
//!
//! The list and the profile read hundreds of records a screen. Asked for
//! their text (`doc`, `json_insert(body, '$.id', id)`), SQLite writes each
//! as JSON (about 1.6 µs a person) for serde to parse back: a page of 200
//! people took 0.3–0.5 ms longer than schema 8's stored text. Read here,
//! the binary JSON goes to serde without any text in between: its strings
//! are borrowed as they lie in the row, its numbers parsed once.
//!
//! It reads what SQLite makes of JSON text. The JSON5 forms (which only
//! JSON5 input makes), a damaged body, or one holding an id of its own are
//! errors here, and the caller reads `doc` instead (`store::write::doc_from_row`),
//! so what a record reads as never depends on which way it was read.

use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer, StringDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::Error;

/// Element types of JSONB (the low four bits of an element's header);
/// 4, 6 and 9 are JSON5's, 13–15 reserved.
const NULL: u8 = 0;
const TRUE: u8 = 1;
const FALSE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 5;
const TEXT: u8 = 7;
const TEXTJ: u8 = 8;
const TEXTRAW: u8 = 10;
const ARRAY: u8 = 11;
const OBJECT: u8 = 12;

/// How deep arrays and objects may nest: serde_json's limit, so a body
/// too deep for it is refused here too, not read off the end of the stack.
const MAX_DEPTH: u8 = 128;

/// The record `body` holds, with `id` as its `id`.
pub(crate) fn read<T: DeserializeOwned>(body: &[u8], id: &str) -> Result<T, Error> {
    let (element, rest) = split(body, 0)?;
    if element.kind != OBJECT || !rest.is_empty() {
        return Err(invalid("a record's body is not one object"));
    }
    T::deserialize(Element { id: Some(id), ..element })
}

fn invalid(what: &str) -> Error {
    de::Error::custom(format!("binary JSON: {what}"))
}

/// One element of a body, as a serde deserializer.
#[derive(Clone, Copy)]
struct Element<'de> {
    kind: u8,
    payload: &'de [u8],
    /// The id to put first among an object's members (the record's own).
    id: Option<&'de str>,
    /// How many arrays and objects it lies in.
    depth: u8,
}

/// The element at the start of `bytes`, `depth` deep, and what follows it.
fn split(bytes: &[u8], depth: u8) -> Result<(Element<'_>, &[u8]), Error> {
    let (&header, after) = bytes.split_first().ok_or_else(|| invalid("cut short"))?;
    let (size, after) = match header >> 4 {
        n @ 0..=11 => (usize::from(n), after),
        n => {
            let (digits, after) = after.split_at_checked(1 << (n - 12)).ok_or_else(|| invalid("cut short"))?;
            let size = digits
                .iter()
                .try_fold(0usize, |s, &b| s.checked_mul(256)?.checked_add(usize::from(b)))
                .ok_or_else(|| invalid("a size beyond memory"))?;
            (size, after)
        }
    };
    let (payload, rest) = after.split_at_checked(size).ok_or_else(|| invalid("cut short"))?;
    Ok((Element { kind: header & 0x0f, payload, id: None, depth }, rest))
}

impl<'de> Element<'de> {
    fn text(&self) -> Result<&'de str, Error> {
        std::str::from_utf8(self.payload).map_err(|_| invalid("text that is not UTF-8"))
    }

    /// A string with JSON's escapes in it, unescaped (by serde_json: few
    /// strings have any).
    fn unescaped(&self) -> Result<String, Error> {
        serde_json::from_str(&format!("\"{}\"", self.text()?))
    }

    /// The depth of its items or members.
    fn inner(&self) -> Result<u8, Error> {
        Some(self.depth + 1).filter(|&d| d <= MAX_DEPTH).ok_or_else(|| invalid("nested too deep"))
    }

    fn number<V: Visitor<'de>>(&self, visitor: V) -> Result<V::Value, Error> {
        let text = self.text()?;
        if self.kind == INT {
            if let Ok(n) = text.parse::<u64>() {
                return visitor.visit_u64(n);
            }
            if let Ok(n) = text.parse::<i64>() {
                return visitor.visit_i64(n);
            }
        }
        // A float, or an integer beyond 64 bits (a float to serde_json
        // too), parsed by serde_json: its parsing may differ from Rust's in
        // the last bit, and the text path reads it so.
        match serde_json::from_str::<f64>(text) {
            Ok(f) => visitor.visit_f64(f),
            Err(_) => Err(invalid("a number that is not JSON's")),
        }
    }
}

impl<'de> de::Deserializer<'de> for Element<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.kind {
            NULL => visitor.visit_unit(),
            TRUE => visitor.visit_bool(true),
            FALSE => visitor.visit_bool(false),
            INT | FLOAT => self.number(visitor),
            TEXT | TEXTRAW => visitor.visit_borrowed_str(self.text()?),
            TEXTJ => visitor.visit_string(self.unescaped()?),
            ARRAY => visitor.visit_seq(Items { rest: self.payload, depth: self.inner()? }),
            OBJECT => visitor.visit_map(Members { rest: self.payload, id: self.id, value: None, depth: self.inner()? }),
            _ => Err(invalid("a JSON5 or unknown element")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.kind {
            NULL => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// As serde_json: a variant's name alone, or an object of one member,
    /// the variant's name and its content.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.kind {
            TEXT | TEXTRAW => visitor.visit_enum(BorrowedStrDeserializer::new(self.text()?)),
            TEXTJ => {
                let name: StringDeserializer<Error> = self.unescaped()?.into_deserializer();
                visitor.visit_enum(name)
            }
            OBJECT => visitor.visit_enum(MapAccessDeserializer::new(Members {
                rest: self.payload,
                id: None,
                value: None,
                depth: self.inner()?,
            })),
            _ => Err(invalid("an enum that is neither a name nor an object")),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// An array's items.
struct Items<'de> {
    rest: &'de [u8],
    depth: u8,
}

impl<'de> de::SeqAccess<'de> for Items<'de> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, Error> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let (item, rest) = split(self.rest, self.depth)?;
        self.rest = rest;
        seed.deserialize(item).map(Some)
    }
}

/// An object's members, after the id given to put first.
struct Members<'de> {
    rest: &'de [u8],
    id: Option<&'de str>,
    /// The value of the key just read: an element, or the id.
    value: Option<Result<Element<'de>, &'de str>>,
    depth: u8,
}

impl<'de> de::MapAccess<'de> for Members<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        if let Some(id) = self.id.take() {
            self.value = Some(Err(id));
            return seed.deserialize(BorrowedStrDeserializer::new("id")).map(Some);
        }
        if self.rest.is_empty() {
            return Ok(None);
        }
        let (key, rest) = split(self.rest, self.depth)?;
        let (value, rest) = split(rest, self.depth)?;
        if !matches!(key.kind, TEXT | TEXTJ | TEXTRAW) {
            return Err(invalid("an object's key that is not text"));
        }
        self.rest = rest;
        self.value = Some(Ok(value));
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        match self.value.take() {
            Some(Ok(value)) => seed.deserialize(value),
            Some(Err(id)) => seed.deserialize(BorrowedStrDeserializer::new(id)),
            None => Err(invalid("a value asked before its key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::read;
    use proptest::prelude::*;
    use rusqlite::Connection;
    use serde_json::{json, Map, Value};

    /// SQLite's binary JSON of a JSON text.
    fn jsonb(conn: &Connection, text: &str) -> Vec<u8> {
        conn.query_row("SELECT jsonb(?1)", [text], |r| r.get(0)).expect("jsonb")
    }

    /// What SQLite's own text gives: the value `doc` reads as.
    fn as_sqlite_reads(conn: &Connection, body: &[u8], id: &str) -> Value {
        let text: String = conn
            .query_row("SELECT json_insert(?1, '$.id', ?2)", rusqlite::params![body, id], |r| r.get(0))
            .expect("json_insert");
        serde_json::from_str(&text).expect("SQLite's text")
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()).prop_map(|f| json!(f)),
            // Quotes, backslashes, controls, accents, Arabic, emoji.
            "[\"\\\\\\x00-\\x1f a-zé\u{0627}-\u{064a}\u{1F600}]{0,12}".prop_map(Value::String),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_\"\\\\é]{1,8}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    proptest! {
        /// Any record SQLite's binary JSON holds reads as SQLite's text of
        /// it does.
        #[test]
        fn reads_as_sqlite_text_does(members in prop::collection::btree_map("[a-z_]{1,12}", value(), 0..20)) {
            let conn = Connection::open_in_memory().expect("SQLite");
            let members: Map<String, Value> = members.into_iter().filter(|(k, _)| k != "id").collect();
            let body = jsonb(&conn, &serde_json::to_string(&members).expect("JSON"));
            let id = "01890a5d-ac96-774b-bcce-b302099a8057";
            let ours: Value = read(&body, id).expect("read");
            prop_assert_eq!(ours, as_sqlite_reads(&conn, &body, id));
        }
    }

    #[test]
    fn a_person_with_escapes_and_arabic() {
        let conn = Connection::open_in_memory().expect("SQLite");
        let text = r#"{"first_name":"Fâṭima \"Fati\"","name_ar":"فاطمة الزهراء","notes":"a\\b\nc\u0001","seasons_abroad":5,"consent":true,"cin":null,"amount":"1250.50","x":-1.5e-7,"big":123456789012345678901234,"list":[1,[],{}]}"#;
        let body = jsonb(&conn, text);
        let ours: Value = read(&body, "id-1").expect("read");
        assert_eq!(ours, as_sqlite_reads(&conn, &body, "id-1"));
        assert_eq!(ours["name_ar"], "فاطمة الزهراء");
        assert_eq!(ours["first_name"], "Fâṭima \"Fati\"");
    }

    #[test]
    fn json5_damaged_and_id_bearing_bodies_are_refused() {
        let conn = Connection::open_in_memory().expect("SQLite");
        // JSON5: a hexadecimal number, a single-quoted string, a bare point.
        for text in ["{\"n\":0x1F}", "{\"s\":'x\\'y'}", "{\"n\":.5}"] {
            assert!(read::<Value>(&jsonb(&conn, text), "id").is_err(), "{text}");
        }
        let body = jsonb(&conn, r#"{"a":"b"}"#);
        assert!(read::<Value>(&body[..body.len() - 1], "id").is_err(), "cut short");
        assert!(read::<Value>(&jsonb(&conn, "[1]"), "id").is_err(), "not an object");
        assert!(read::<Value>(&[], "id").is_err(), "empty");
        // Deeper than serde_json reads: refused, as the text would be.
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(130), "]".repeat(130));
        assert!(read::<Value>(&jsonb(&conn, &deep), "id").is_err(), "too deep");
        assert!(serde_json::from_str::<Value>(&deep).is_err());
        let fine = format!("{{\"a\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(read::<Value>(&jsonb(&conn, &fine), "id").is_ok());
        // A typed record refuses a second id, as serde_json does a repeated field.
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Record {
            id: String,
        }
        assert!(read::<Record>(&jsonb(&conn, r#"{"id":"x"}"#), "y").is_err());
    }

    /// Every record the demo writes reads from its body as from its text:
    /// people, visits and milestones as the list and the profile read them,
    /// every kind as JSON.
    #[test]
    fn the_demo_records_read_as_their_text_does() {
        use crate::beneficiary::Beneficiary;
        use crate::milestone::Milestone;
        use crate::visit::Visit;
        use serde::{de::DeserializeOwned, Serialize};

        fn same<T: DeserializeOwned + Serialize>(id: &str, body: &[u8], doc: &str) {
            let ours: T = read(body, id).unwrap_or_else(|e| panic!("{id}: {e}"));
            let theirs: T = serde_json::from_str(doc).expect("doc");
            assert_eq!(serde_json::to_value(ours).expect("JSON"), serde_json::to_value(theirs).expect("JSON"), "{id}");
        }
        let dir = tempfile::tempdir().expect("folder");
        let key = crate::accounts::DbKey::from_bytes([7; 32]);
        let mut store = crate::Store::open_with_key(dir.path().join("w.sqlite"), &key).expect("store");
        store.init_device("Portable test", "Test").expect("device");
        crate::demo::generate(&mut store, 150, 11).expect("demo");
        let conn = store.conn();
        let mut read_rows = 0;
        for table in crate::store::log::Entity::ALL.iter().map(|e| e.as_str()) {
            let mut stmt = conn.prepare(&format!("SELECT id, body, doc FROM {table}")).expect("select");
            let mut rows = stmt.query([]).expect("rows");
            while let Some(r) = rows.next().expect("row") {
                let (id, body, doc): (String, Vec<u8>, String) =
                    (r.get(0).expect("id"), r.get(1).expect("body"), r.get(2).expect("doc"));
                match table {
                    "beneficiary" => same::<Beneficiary>(&id, &body, &doc),
                    "visit" => same::<Visit>(&id, &body, &doc),
                    "milestone" => same::<Milestone>(&id, &body, &doc),
                    _ => {}
                }
                same::<Value>(&id, &body, &doc);
                read_rows += 1;
            }
        }
        assert!(read_rows > 1500, "{read_rows} records");
    }
}
