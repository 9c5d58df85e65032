//! Pagination: page sizes and the positions a page resumes from.

use crate::{NoteId, PostId, Timestamp, ValidationError};

/// How many items a page holds: 1 to 100, 25 unless the caller says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u8);

impl PageSize {
    pub const MAX: u8 = 100;
    pub const DEFAULT: PageSize = PageSize(25);

    pub fn new(value: i64) -> Result<Self, ValidationError> {
        match u8::try_from(value) {
            Ok(v) if (1..=Self::MAX).contains(&v) => Ok(Self(v)),
            _ => Err(ValidationError::new(
                "limit",
                format!("must be an integer from 1 to {}", Self::MAX),
            )),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// Where a page of one user's notes (newest first) resumes: the last note returned. The user is
/// deliberately not part of it: the store always takes the user from the authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotePageKey {
    pub created_at: Timestamp,
    pub note_id: NoteId,
}

/// Where a page of posts (newest first) resumes: the next page holds posts with smaller ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostPageKey {
    pub before: PostId,
}

/// One page of results and where the next one starts, if there is more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, K> {
    pub items: Vec<T>,
    pub next: Option<K>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes() {
        for (value, ok) in [
            (0, false),
            (1, true),
            (25, true),
            (100, true),
            (101, false),
            (-1, false),
            (i64::MAX, false),
        ] {
            assert_eq!(PageSize::new(value).is_ok(), ok, "{value}");
        }
        assert_eq!(PageSize::DEFAULT.get(), 25);
    }
}
