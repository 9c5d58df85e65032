//! The ids the server gives notes created without a `NoteId`: decimal integers that a JavaScript
//! `Number` holds exactly, because the labs' client edits a note by sending `parseInt(NoteId)`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use crate::{NoteId, Timestamp};

/// The largest integer a JavaScript `Number` (an IEEE 754 double) holds exactly: 2^53 − 1.
pub const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

/// How many ids one millisecond offers: the random part of a generated id is below this.
const IDS_PER_MILLISECOND: u64 = 1_000;

/// The last millisecond whose ids stay at or below `MAX_SAFE_INTEGER` (in the year 2255).
const LAST_MILLISECOND: u64 = (MAX_SAFE_INTEGER - (IDS_PER_MILLISECOND - 1)) / IDS_PER_MILLISECOND;

/// Where the ids of new notes come from. A source only proposes: the store writes a note under
/// a proposed id only if the user has no note of that id yet, and asks again otherwise, so a
/// source needs to make collisions rare, not impossible.
pub trait NoteIdSource: Send + Sync + std::fmt::Debug {
    /// A candidate id for a note created at `now`.
    fn candidate(&self, now: Timestamp) -> NoteId;
}

/// `unix_millis × 1000 + r`, `r` drawn from 0..1000: about 1.8 × 10^15 today, far below 2^53 − 1
/// (about 9.0 × 10^15), which leaves room for clients that number their own notes `max + 1`.
/// Ids grow with time, but nothing relies on it: listings are ordered by `CreatedAt`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeAndRandomIds;

impl NoteIdSource for TimeAndRandomIds {
    fn candidate(&self, now: Timestamp) -> NoteId {
        time_and_random_id(now.unix_millis(), random_below(IDS_PER_MILLISECOND))
    }
}

/// The id for a millisecond and a random number, clamped so that it is always a positive integer
/// at most `MAX_SAFE_INTEGER` (a clock before 1970 or after 2255 gives colliding ids, which the
/// store's conditional write and retry turn into another draw, never an overwrite).
pub fn time_and_random_id(unix_millis: i64, random: u64) -> NoteId {
    let millis = u64::try_from(unix_millis)
        .unwrap_or(0)
        .min(LAST_MILLISECOND);
    let value = millis * IDS_PER_MILLISECOND + random % IDS_PER_MILLISECOND;
    NoteId::from_number(value.max(1))
}

/// A number below `bound`. std's `RandomState` is seeded from the operating system's random
/// source (once per thread, then stepped for every instance), which is all this needs: two
/// sandboxes creating notes for one user in the same millisecond should rarely pick the same
/// number, and a collision only costs another conditional write. Nothing secret depends on it.
fn random_below(bound: u64) -> u64 {
    RandomState::new().build_hasher().finish() % bound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_integers_a_javascript_number_holds_exactly() {
        let now = Timestamp::parse("2026-01-02T03:04:05.006Z").unwrap();
        let cases: &[(i64, u64, u64, &str)] = &[
            (now.unix_millis(), 0, 1_767_323_045_006_000, "today, r = 0"),
            (
                now.unix_millis(),
                999,
                1_767_323_045_006_999,
                "today, r = 999",
            ),
            (
                now.unix_millis(),
                1_234,
                1_767_323_045_006_234,
                "r reduced mod 1000",
            ),
            (0, 0, 1, "the epoch: still positive"),
            (-5, 7, 7, "a clock before 1970"),
            (
                i64::MAX,
                999,
                9_007_199_254_739_999,
                "the far future: clamped",
            ),
        ];
        for (millis, random, expected, why) in cases {
            let id = time_and_random_id(*millis, *random);
            let value: u64 = id.as_str().parse().unwrap();
            assert_eq!(value, *expected, "{why}");
            assert!(
                (1..=MAX_SAFE_INTEGER).contains(&value),
                "{why}: {value} is not a safe integer"
            );
            assert_eq!(
                value as f64 as u64, value,
                "{why}: a double holds it exactly"
            );
            assert!(NoteId::parse(id.as_str()).is_ok(), "{why}");
        }
        assert_eq!(
            MAX_SAFE_INTEGER,
            (1_u64 << 53) - 1,
            "Number.MAX_SAFE_INTEGER"
        );
    }

    #[test]
    fn candidates_are_plain_decimal_integers_and_spread() {
        let now = Timestamp::now();
        let ids: std::collections::BTreeSet<String> = (0..200)
            .map(|_| TimeAndRandomIds.candidate(now).as_str().to_owned())
            .collect();
        for id in &ids {
            assert!(
                id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0'),
                "{id}"
            );
            let value: u64 = id.parse().unwrap();
            assert!(value <= MAX_SAFE_INTEGER, "{id}");
            assert_eq!(
                value / IDS_PER_MILLISECOND,
                u64::try_from(now.unix_millis()).unwrap()
            );
        }
        // 200 draws from 1000 values: a source stuck on one value (or a few) fails this.
        assert!(ids.len() > 100, "only {} distinct candidates", ids.len());
    }
}
