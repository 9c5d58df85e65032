//! The caller's identity as the API Gateway authorizer hands it over: the permanent id that
//! keys every item (`UserId`, the token's `sub`) and the name that is only ever displayed
//! (`Username`).

use crate::{ValidationError, char_count, has_forbidden_control};

/// The caller's permanent id: the Cognito `sub`, which no other user ever gets, even after this
/// account is deleted and its username signed up again. Everything a user owns is keyed by it.
/// Only ever built from the authorizer context, never from a request body.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(String);

/// One-line, non-blank and at most 128 characters: what both a `sub` and a Cognito username are.
fn check_identity(field: &'static str, value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if char_count(value) > UserId::MAX_CHARS {
        return Err(ValidationError::new(
            field,
            format!("must be at most {} characters", UserId::MAX_CHARS),
        ));
    }
    if has_forbidden_control(value) || value.contains(['\t', '\n', '\r']) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

impl UserId {
    /// Cognito's `sub` is a UUID; usernames, which this type also held before the ids moved to
    /// `sub` (the migration reads them), are at most 128 characters.
    pub const MAX_CHARS: usize = 128;

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        check_identity("UserId", value)?;
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Cognito username, for display only (a post's author): Cognito frees a username when its
/// user is deleted, so it never keys anything.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// What the board shows for the posts of an account that was deleted.
    pub const DELETED: &'static str = "deleted user";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        check_identity("username", value)?;
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_usernames_and_rejects_empty_long_or_control() {
        let cases: &[(&str, bool, &str)] = &[
            ("alice", true, "plain username"),
            ("alice@example.com", true, "email-shaped username"),
            (
                "8f1c2d3e-aaaa-bbbb-cccc-123456789012",
                true,
                "sub-shaped username",
            ),
            ("", false, "empty"),
            ("   ", false, "blank"),
            ("al\nice", false, "newline"),
            ("al\0ice", false, "NUL"),
        ];
        for (input, ok, why) in cases {
            assert_eq!(UserId::parse(input).is_ok(), *ok, "{why}");
        }
        assert!(UserId::parse(&"a".repeat(128)).is_ok(), "128 characters");
        assert!(UserId::parse(&"a".repeat(129)).is_err(), "129 characters");
        assert!(Username::parse("carol").is_ok());
        assert!(Username::parse(" ").is_err(), "blank username");
        assert!(Username::parse("car\nol").is_err(), "newline in a username");
    }
}
