//! Hybrid logical clock: every change gets a stamp that orders it after
//! everything its device had seen, even when wall clocks disagree, and
//! that is unique across laptops (the device id breaks ties).
//!
//! A laptop whose clock runs a year ahead stamps its changes a year ahead;
//! whoever imports them moves its own clock past them, so the next edit made
//! there still wins over them: they do not win for ever. Stamps beyond
//! [`MAX_DRIFT_MS`] of the importer's wall clock are flagged by sync.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// How far ahead of the local wall clock a received stamp may be before it
/// is flagged: 10 minutes.
pub const MAX_DRIFT_MS: i64 = 10 * 60 * 1000;

/// A stamp: physical milliseconds since the Unix epoch, a counter for
/// events in the same millisecond, and the device that made it. Its text
/// form sorts like the stamp itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    pub millis: i64,
    pub counter: u32,
    pub device: Uuid,
}

impl Hlc {
    pub const ZERO: Hlc = Hlc { millis: 0, counter: 0, device: Uuid::nil() };

    /// The next stamp of `device` after `last`, given the wall clock now.
    pub fn tick(last: Hlc, wall_millis: i64, device: Uuid) -> Hlc {
        if wall_millis > last.millis {
            Hlc { millis: wall_millis, counter: 0, device }
        } else {
            Hlc { millis: last.millis, counter: last.counter + 1, device }
        }
    }

    /// The clock after receiving `remote`: never behind anything seen.
    pub fn observe(last: Hlc, remote: Hlc) -> Hlc {
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

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("not a clock stamp: {s:?}");
        let mut parts = s.splitn(3, '-');
        let millis = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let counter = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let device = parts.next().and_then(|p| Uuid::parse_str(p).ok()).ok_or_else(bad)?;
        Ok(Hlc { millis, counter, device })
    }
}

impl Serialize for Hlc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
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
