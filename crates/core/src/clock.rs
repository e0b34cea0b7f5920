//! Hybrid logical clock: every change gets a stamp that orders it after
//! everything its device had seen, even when wall clocks disagree, and
//! that is unique across laptops (the device id breaks ties).
//!
//! A laptop whose clock runs a year ahead stamps its changes a year ahead;
//! whoever imports them moves its own clock past them, so the next edit made
//! there still wins over them: they do not win for ever. Stamps beyond
//! [`MAX_DRIFT_MS`] of the importer's wall clock are flagged by sync, and
//! those beyond [`HOLD_AHEAD_MS`] held for a person to accept.
//!
//! Stamps come from files, so they are bounded: the text form has fixed
//! widths ([`MAX_MILLIS`], [`MAX_COUNTER`]) and only that very text is read.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// How far ahead of the local wall clock a received stamp may be before it
/// is flagged: 10 minutes.
pub const MAX_DRIFT_MS: i64 = 10 * 60 * 1000;

/// Stamps further ahead of the importing machine's wall clock than this are
/// held for a person to accept: 1 day.
pub const HOLD_AHEAD_MS: i64 = 24 * 60 * 60 * 1000;

/// The largest physical part a stamp may have: 15 digits, the width of its
/// text form (the year 33658). A 16th digit would sort that stamp before
/// smaller ones.
pub const MAX_MILLIS: i64 = 999_999_999_999_999;

/// The largest counter a stamp may have: 6 digits, the width of its text
/// form. One millisecond holds a million stamps of a device; the next
/// one moves to the next millisecond (see [`Hlc::tick`]).
pub const MAX_COUNTER: u32 = 999_999;

/// Length of the text form: `{millis:015}-{counter:06}-{device simple}`.
const TEXT_LEN: usize = 15 + 1 + 6 + 1 + 32;

/// A stamp: physical milliseconds since the Unix epoch, a counter for
/// events in the same millisecond, and the device that made it. Its text
/// form sorts like the stamp itself.
///
/// Every stamp read from text (a bundle, the database) lies within
/// `0..=MAX_MILLIS` and `0..=MAX_COUNTER`; [`Hlc::tick`] and
/// [`Hlc::observe`] keep within them whatever they are given, so no
/// arithmetic on a stamp overflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    pub millis: i64,
    pub counter: u32,
    pub device: Uuid,
}

impl Hlc {
    pub const ZERO: Hlc = Hlc { millis: 0, counter: 0, device: Uuid::nil() };

    /// The stamp, if its parts are within the bounds of the text form.
    pub fn checked(millis: i64, counter: u32, device: Uuid) -> Option<Hlc> {
        ((0..=MAX_MILLIS).contains(&millis) && counter <= MAX_COUNTER).then_some(Hlc { millis, counter, device })
    }

    /// Whether its parts are within the bounds of the text form.
    pub fn in_bounds(&self) -> bool {
        Hlc::checked(self.millis, self.counter, self.device).is_some()
    }

    /// The nearest stamp within the bounds (itself when it is).
    fn clamped(self) -> Hlc {
        Hlc { millis: self.millis.clamp(0, MAX_MILLIS), counter: self.counter.min(MAX_COUNTER), ..self }
    }

    /// The next stamp of `device` after `last`, given the wall clock now;
    /// `None` when none is left: `last` is the last stamp there can be
    /// (or lies beyond it), which only a stamp received from a clock set
    /// thirty thousand years ahead could bring.
    pub fn checked_tick(last: Hlc, wall_millis: i64, device: Uuid) -> Option<Hlc> {
        if last.millis > MAX_MILLIS {
            return None;
        }
        let last = last.clamped();
        let wall = wall_millis.clamp(0, MAX_MILLIS);
        if wall > last.millis {
            Some(Hlc { millis: wall, counter: 0, device })
        } else if last.counter < MAX_COUNTER {
            Some(Hlc { millis: last.millis, counter: last.counter + 1, device })
        } else if last.millis < MAX_MILLIS {
            // A million stamps in one millisecond: the clock moves on by
            // one, ahead of the wall clock as a hybrid clock may be.
            Some(Hlc { millis: last.millis + 1, counter: 0, device })
        } else {
            None
        }
    }

    /// The next stamp of `device` after `last`, given the wall clock now.
    ///
    /// Within the bounds whatever it is given: a wall clock outside them
    /// counts as their nearest end; a counter at [`MAX_COUNTER`] moves to
    /// the next millisecond with counter 0. When no stamp is left (see
    /// [`Hlc::checked_tick`]) it gives the last one, [`MAX_MILLIS`] and
    /// [`MAX_COUNTER`], again rather than overflow.
    pub fn tick(last: Hlc, wall_millis: i64, device: Uuid) -> Hlc {
        Hlc::checked_tick(last, wall_millis, device).unwrap_or(Hlc { millis: MAX_MILLIS, counter: MAX_COUNTER, device })
    }

    /// The clock after receiving `remote`: never behind anything seen
    /// (within the bounds: a stamp beyond them counts as the last one).
    pub fn observe(last: Hlc, remote: Hlc) -> Hlc {
        let (last, remote) = (last.clamped(), remote.clamped());
        if remote > last {
            Hlc { device: last.device, ..remote }
        } else {
            last
        }
    }

    pub fn now_millis() -> i64 {
        chrono::Utc::now().timestamp_millis()
    }

    /// The UTC instant of the physical part, ISO 8601.
    pub fn instant(&self) -> String {
        chrono::DateTime::from_timestamp_millis(self.millis)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .unwrap_or_default()
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:015}-{:06}-{}", self.millis, self.counter, self.device.simple())
    }
}

impl FromStr for Hlc {
    type Err = String;

    /// Reads only the text [`Display`](fmt::Display) writes: 15 digits, 6
    /// digits, the device's 32 lower-case hex digits. Any other spelling
    /// of the same stamp (a sign, a 16th digit, a hyphenated or upper-case
    /// device) would sort differently from the stamp, so it is refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("not a clock stamp: {s:?}");
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        let lower_hex = b[b.len().min(23)..].iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        if b.len() != TEXT_LEN || !digits(0..15) || b[15] != b'-' || !digits(16..22) || b[22] != b'-' || !lower_hex {
            return Err(bad());
        }
        // 15 and 6 digits: both parse and lie within the bounds; written
        // again, each part gives back its very characters.
        let millis: i64 = s[..15].parse().map_err(|_| bad())?;
        let counter: u32 = s[16..22].parse().map_err(|_| bad())?;
        let device = Uuid::try_parse_ascii(&b[23..]).map_err(|_| bad())?;
        Hlc::checked(millis, counter, device).ok_or_else(bad)
    }
}

impl Serialize for Hlc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Reads the text where it lies when it can (each change of a
        /// bundle has a stamp: no copy of each).
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Hlc;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a clock stamp")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Hlc, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_sorts_like_the_stamp_and_round_trips() {
        let d = Uuid::now_v7();
        let a = Hlc { millis: 999, counter: 5, device: d };
        let b = Hlc { millis: 1000, counter: 0, device: d };
        assert!(a < b && a.to_string() < b.to_string());
        assert_eq!(a.to_string().parse::<Hlc>().unwrap(), a);
    }

    #[test]
    fn a_clock_behind_still_moves_forward() {
        let d = Uuid::now_v7();
        let ahead = Hlc { millis: 2_000_000, counter: 3, device: Uuid::now_v7() };
        let mine = Hlc::observe(Hlc { millis: 10, counter: 0, device: d }, ahead);
        let next = Hlc::tick(mine, 20, d);
        assert!(next > ahead);
        assert_eq!(next.device, d);
    }
}
