//! Board posts: the Cognito "post" tutorial's board, with collision-free sequential ids.

use crate::note::check_text;
use crate::{Timestamp, UserId, Username, ValidationError};

/// A post's id: sequential from 1, allocated by the store without scanning the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PostId(u64);

impl PostId {
    pub fn new(value: u64) -> Result<Self, ValidationError> {
        if value == 0 {
            return Err(ValidationError::new("id", "must be 1 or more"));
        }
        Ok(Self(value))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostTitle(String);

impl PostTitle {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(value: String) -> Result<Self, ValidationError> {
        check_text("title", &value, Self::MAX_CHARS)?;
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct PostContents(String);

impl PostContents {
    pub const MAX_CHARS: usize = 20_000;

    pub fn parse(value: String) -> Result<Self, ValidationError> {
        check_text("contents", &value, Self::MAX_CHARS)?;
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PostContents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostContents({} chars)", self.0.chars().count())
    }
}

/// A post as submitted, before the store gives it an id.
#[derive(Debug, Clone)]
pub struct NewPost {
    pub title: PostTitle,
    pub contents: PostContents,
    /// Who wrote it: the permanent id, stored so that the author's posts can be found again
    /// (an account deletion re-attributes them); never shown.
    pub author_id: UserId,
    /// The name the board shows.
    pub author: Username,
    pub created_at: Timestamp,
}

/// A stored post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: PostId,
    pub title: PostTitle,
    pub contents: PostContents,
    pub author: Username,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert!(PostTitle::parse("x".repeat(200)).is_ok());
        assert!(PostTitle::parse("x".repeat(201)).is_err());
        assert!(PostTitle::parse(" ".into()).is_err());
        assert!(PostContents::parse("x".repeat(20_000)).is_ok());
        assert!(PostContents::parse("x".repeat(20_001)).is_err());
        assert!(PostContents::parse(String::new()).is_err());
        assert!(PostId::new(0).is_err());
        assert_eq!(PostId::new(7).unwrap().get(), 7);
    }
}
