//! Timestamps as stored and returned: UTC, millisecond precision, fixed width, so that the
//! string order is the time order (DynamoDB sorts the CreatedAt index by string).

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::ValidationError;

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        // Truncate to what we store, so that a value round-trips through the table unchanged.
        let millis = now.millisecond();
        Self(now.replace_millisecond(millis).unwrap_or(now))
    }

    /// Parses the stored form, e.g. `2026-11-23T20:15:15.123Z`.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        PrimitiveDateTime::parse(value, FORMAT)
            .map(|t| Self(t.assume_offset(UtcOffset::UTC)))
            .map_err(|_| {
                ValidationError::new("timestamp", "must look like 2026-01-31T12:00:00.000Z")
            })
    }

    /// Milliseconds since the Unix epoch (negative before 1970).
    pub fn unix_millis(&self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// Whole seconds since the Unix epoch: the unit DynamoDB's TTL attribute expects.
    pub fn unix_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// The timestamp `by` later, saturating at the end of what the type can hold.
    pub fn plus(&self, by: std::time::Duration) -> Self {
        Self(
            self.0
                .checked_add(by.try_into().unwrap_or(time::Duration::MAX))
                .unwrap_or(
                    // Far beyond any expiry this is used for; reached only with absurd durations.
                    self.0.replace_year(9999).unwrap_or(self.0),
                ),
        )
    }

    /// The UTC day this falls on, e.g. `2026-12-07`: what a daily budget is counted by.
    pub fn utc_day(&self) -> String {
        let date = self.0.date();
        format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )
    }

    /// Whole seconds from this moment until the next UTC day begins, at least 1.
    pub fn seconds_until_next_utc_day(&self) -> u64 {
        let since_midnight = u64::from(self.0.hour()) * 3600
            + u64::from(self.0.minute()) * 60
            + u64::from(self.0.second());
        (86_400 - since_midnight.min(86_399)).max(1)
    }

    pub fn to_rfc3339_millis(&self) -> String {
        // Formatting a valid UTC date with this static description cannot fail for years 0..=9999;
        // fall back to the well-known format rather than panic for anything else.
        self.0.format(FORMAT).unwrap_or_else(|_| {
            self.0
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        })
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_rfc3339_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_orders_as_strings() {
        let a = Timestamp::parse("2026-01-02T03:04:05.006Z").unwrap();
        assert_eq!(a.to_rfc3339_millis(), "2026-01-02T03:04:05.006Z");
        let now = Timestamp::now();
        assert_eq!(Timestamp::parse(&now.to_string()).unwrap(), now);
        assert!(
            a.to_string() < now.to_string(),
            "string order is time order"
        );
    }

    #[test]
    fn converts_to_epoch_units_and_adds_durations() {
        let t = Timestamp::parse("2026-01-02T03:04:05.006Z").unwrap();
        assert_eq!(t.unix_seconds(), 1_767_323_045);
        assert_eq!(t.unix_millis(), 1_767_323_045_006);
        let later = t.plus(std::time::Duration::from_millis(3_600_500));
        assert_eq!(later.to_string(), "2026-01-02T04:04:05.506Z");
        assert!(
            t.plus(std::time::Duration::MAX) > later,
            "saturates, no panic"
        );
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "",
            "2026-01-02",
            "2026-01-02T03:04:05Z",
            "2026-13-02T03:04:05.006Z",
            "x",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_utc_day_and_the_seconds_left_in_it() {
        let cases = [
            ("2026-12-07T00:00:00.000Z", "2026-12-07", 86_400),
            ("2026-12-07T23:59:59.999Z", "2026-12-07", 1),
            ("2026-01-31T12:00:00.000Z", "2026-01-31", 43_200),
        ];
        for (at, day, left) in cases {
            let at = Timestamp::parse(at).unwrap();
            assert_eq!(at.utc_day(), day, "{at:?}");
            assert_eq!(at.seconds_until_next_utc_day(), left, "{at:?}");
        }
    }
}
