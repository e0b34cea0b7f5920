//! Clock stamps come from files: whatever a bundle or a database holds,
//! reading it, ticking after it and observing it never overflows nor
//! panics, and a stamp's text always sorts like the stamp.

use proptest::prelude::*;
use uuid::Uuid;
use wafira_core::clock::{Hlc, HOLD_AHEAD_MS, MAX_COUNTER, MAX_DRIFT_MS, MAX_MILLIS};

const DEVICE: &str = "0195b4a0c0de7000800000000000abcd";

fn device() -> Uuid {
    Uuid::parse_str(DEVICE).unwrap()
}

fn in_bounds(h: Hlc) -> bool {
    (0..=MAX_MILLIS).contains(&h.millis) && h.counter <= MAX_COUNTER
}

#[test]
fn the_bounds_are_those_of_the_text_form() {
    assert_eq!(MAX_MILLIS, 999_999_999_999_999, "15 digits");
    assert_eq!(MAX_COUNTER, 999_999, "6 digits");
    assert_eq!(HOLD_AHEAD_MS, 24 * 60 * 60 * 1000);
    const { assert!(HOLD_AHEAD_MS > MAX_DRIFT_MS) };
    let last = Hlc { millis: MAX_MILLIS, counter: MAX_COUNTER, device: device() };
    assert_eq!(last.to_string(), format!("999999999999999-999999-{DEVICE}"));
    assert_eq!(last.to_string().parse::<Hlc>().unwrap(), last);
    assert_eq!(Hlc::checked(MAX_MILLIS, MAX_COUNTER, device()), Some(last));
    assert_eq!(Hlc::checked(MAX_MILLIS + 1, 0, device()), None);
    assert_eq!(Hlc::checked(-1, 0, device()), None);
    assert_eq!(Hlc::checked(0, MAX_COUNTER + 1, device()), None);
}

#[test]
fn only_the_canonical_text_is_a_stamp() {
    let good = format!("001700000000000-000042-{DEVICE}");
    assert_eq!(good.parse::<Hlc>().unwrap(), Hlc { millis: 1_700_000_000_000, counter: 42, device: device() });
    let hyphenated = device().hyphenated().to_string();
    for bad in [
        // 16-digit milliseconds would sort before 15-digit ones.
        format!("1000000000000000-000000-{DEVICE}"),
        format!("00001700000000-000042-{DEVICE}"),
        format!("+00001700000000-000042-{DEVICE}"),
        format!("-00001700000000-000042-{DEVICE}"),
        // A counter at 2^32 - 1 would overflow at the next tick.
        format!("000001700000000-4294967295-{DEVICE}"),
        format!("000001700000000-1000000-{DEVICE}"),
        format!("000001700000000-00042-{DEVICE}"),
        format!("000001700000000-+00042-{DEVICE}"),
        format!("000001700000000-000042-{}", DEVICE.to_uppercase()),
        format!("000001700000000-000042-{hyphenated}"),
        format!("000001700000000-000042-{{{DEVICE}}}"),
        format!("000001700000000-000042-urn:uuid:{hyphenated}"),
        format!("000001700000000-000042-{DEVICE} "),
        format!(" 000001700000000-000042-{DEVICE}"),
        format!("000001700000000_000042-{DEVICE}"),
        format!("00000170000000a-000042-{DEVICE}"),
        format!("000001700000000-000042-{}", &DEVICE[1..]),
        "000001700000000-000042".to_string(),
        String::new(),
        "é".repeat(30),
    ] {
        assert!(bad.parse::<Hlc>().is_err(), "{bad:?} is not a stamp");
        let json = serde_json::to_string(&bad).unwrap();
        assert!(serde_json::from_str::<Hlc>(&json).is_err(), "{json} is not a stamp");
    }
    let json = serde_json::to_string(&good).unwrap();
    assert_eq!(serde_json::from_str::<Hlc>(&json).unwrap().to_string(), good);
    // An escaped character in the JSON text is read like any other.
    assert!(serde_json::from_str::<Hlc>(&json.replace("-000042", "\\u002d000042")).is_ok());
}

#[test]
fn a_counter_at_its_last_value_moves_to_the_next_millisecond() {
    let d = device();
    let last = Hlc { millis: 5_000, counter: MAX_COUNTER, device: d };
    let next = Hlc::tick(last, 4_000, d);
    assert_eq!(next, Hlc { millis: 5_001, counter: 0, device: d });
    assert!(next.to_string() > last.to_string());
    // The counter a file could once carry (2^32 - 1): no panic, no wrap.
    let wild = Hlc { millis: 5_000, counter: u32::MAX, device: d };
    let next = Hlc::tick(wild, 4_000, d);
    assert!(next > wild && in_bounds(next), "{next:?}");
}

#[test]
fn ticking_at_the_end_of_time_neither_panics_nor_leaves_the_bounds() {
    let d = device();
    let end = Hlc { millis: MAX_MILLIS, counter: MAX_COUNTER, device: d };
    assert_eq!(Hlc::tick(end, i64::MAX, d), end, "the last stamp is kept");
    assert_eq!(Hlc::checked_tick(end, i64::MAX, d), None, "and the checked tick says so");
    for last in [
        Hlc { millis: i64::MAX, counter: u32::MAX, device: d },
        Hlc { millis: i64::MIN, counter: u32::MAX, device: d },
        Hlc { millis: -1, counter: 0, device: d },
    ] {
        for wall in [i64::MIN, -1, 0, 1, MAX_MILLIS, MAX_MILLIS + 1, i64::MAX] {
            assert!(in_bounds(Hlc::tick(last, wall, d)), "tick({last:?}, {wall})");
            assert!(in_bounds(Hlc::observe(last, last)), "observe({last:?})");
        }
    }
}

fn stamp() -> impl Strategy<Value = Hlc> {
    (0..=MAX_MILLIS, 0..=MAX_COUNTER, any::<u128>()).prop_map(|(millis, counter, d)| Hlc {
        millis,
        counter,
        device: Uuid::from_u128(d),
    })
}

/// Stamps near the edges, where overflows live.
fn edgy_stamp() -> impl Strategy<Value = Hlc> {
    let millis = prop_oneof![Just(0), Just(MAX_MILLIS), (MAX_MILLIS - 3)..=MAX_MILLIS, 0..=MAX_MILLIS];
    let counter = prop_oneof![Just(0), Just(MAX_COUNTER), (MAX_COUNTER - 3)..=MAX_COUNTER];
    (millis, counter, 0..4u128).prop_map(|(millis, counter, d)| Hlc { millis, counter, device: Uuid::from_u128(d) })
}

#[derive(Debug, Clone)]
enum Event {
    Tick(i64),
    Observe(Hlc),
}

fn event() -> impl Strategy<Value = Event> {
    let wall = prop_oneof![any::<i64>(), (MAX_MILLIS - 3)..=MAX_MILLIS, 0..=MAX_MILLIS];
    prop_oneof![wall.prop_map(Event::Tick), edgy_stamp().prop_map(Event::Observe)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn text_sorts_like_the_stamp_and_reads_back(a in stamp(), b in stamp()) {
        let (ta, tb) = (a.to_string(), b.to_string());
        prop_assert_eq!(a.cmp(&b), ta.cmp(&tb));
        prop_assert_eq!(ta.parse::<Hlc>().unwrap(), a);
        prop_assert_eq!(serde_json::from_str::<Hlc>(&serde_json::to_string(&b).unwrap()).unwrap(), b);
    }

    #[test]
    fn a_stamp_text_edited_reads_only_if_it_is_still_its_own_form(
        h in edgy_stamp(),
        at in any::<prop::sample::Index>(),
        c in prop::sample::select(&['0', '1', '9', 'a', 'f', 'A', 'F', 'g', '-', '+', ' ', '{', 'é'][..]),
        how in 0..3u8,
    ) {
        let mut s = h.to_string();
        let i = at.index(s.len());
        match how {
            0 => s.replace_range(i..i + 1, &c.to_string()),
            1 => s.insert(i, c),
            _ => { s.remove(i); }
        }
        if let Ok(read) = s.parse::<Hlc>() {
            prop_assert_eq!(read.to_string(), s);
            prop_assert!(in_bounds(read));
        }
    }

    #[test]
    fn a_clock_fed_anything_stays_in_bounds_and_moves_forward(start in edgy_stamp(), events in prop::collection::vec(event(), 1..40)) {
        let me = Uuid::from_u128(2);
        let mut clock = start;
        for e in events {
            let before = clock;
            match e {
                Event::Tick(wall) => {
                    clock = Hlc::tick(clock, wall, me);
                    let end = before.millis == MAX_MILLIS && before.counter == MAX_COUNTER;
                    prop_assert!(end || clock > before, "{:?} then {:?}", before, clock);
                    prop_assert_eq!(Hlc::checked_tick(before, wall, me).is_some(), !end);
                }
                Event::Observe(remote) => {
                    clock = Hlc::observe(clock, remote);
                    prop_assert!((clock.millis, clock.counter) >= (remote.millis, remote.counter));
                    prop_assert!(clock >= before);
                }
            }
            prop_assert!(in_bounds(clock), "{:?}", clock);
            prop_assert_eq!(clock.to_string().parse::<Hlc>().unwrap(), clock);
        }
    }
}
