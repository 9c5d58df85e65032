//! The caller's identity: the Cognito username handed over by the API Gateway authorizer.

use crate::{ValidationError, char_count, has_forbidden_control};

/// A Cognito username. Only ever built from the authorizer context, never from a request body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    /// Cognito allows usernames of up to 128 characters.
    pub const MAX_CHARS: usize = 128;

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        if value.trim().is_empty() {
            return Err(ValidationError::new("UserId", "must not be empty"));
        }
        if char_count(value) > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "UserId",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if has_forbidden_control(value) || value.contains(['\t', '\n', '\r']) {
            return Err(ValidationError::new(
                "UserId",
                "must not contain control characters",
            ));
        }
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
    }
}
