//! Notes: their id, text and version, and what a write expects to find.

use crate::{Timestamp, UserId, ValidationError, char_count, has_forbidden_control};

/// A note id. Clients of the labs send their own, small integers they `parseInt`; server-generated
/// ids are decimal integers too (see `generated_ids`), so that such a client edits the note it
/// means. Any other string is accepted for clients that name their notes. Restricted to
/// characters that are safe in a URL path segment and a DynamoDB key, so an id can never smuggle
/// `/`, `..`, `#` or control characters into a route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoteId(String);

impl NoteId {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        if value.is_empty() {
            return Err(ValidationError::new("NoteId", "must not be empty"));
        }
        if value.len() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "NoteId",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ValidationError::new(
                "NoteId",
                "may only contain letters A-Z and a-z, digits, '-' and '_'",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// A numeric id as sent by the labs' clients (`"NoteId": 3`).
    pub fn from_number(value: u64) -> Self {
        Self(value.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for NoteId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The text of a note: 1 to 10,000 characters, not blank, no control characters but tab and
/// line breaks.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteText(String);

impl NoteText {
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(value: String) -> Result<Self, ValidationError> {
        check_text("Note", &value, Self::MAX_CHARS)?;
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Note bodies are private: a `{:?}` in a log line must not leak them.
impl std::fmt::Debug for NoteText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoteText({} chars)", char_count(&self.0))
    }
}

pub(crate) fn check_text(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    let count = char_count(value);
    if count > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters (got {count})"),
        ));
    }
    if has_forbidden_control(value) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters other than tab and line breaks",
        ));
    }
    Ok(())
}

/// What to search for: matched case-insensitively as a substring of the note text.
#[derive(Clone, PartialEq, Eq)]
pub struct SearchText {
    folded: String,
}

impl SearchText {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        check_text("text", value, Self::MAX_CHARS)?;
        Ok(Self {
            folded: fold_case(value),
        })
    }

    /// True when the note contains the search text, ignoring case (Unicode lower-casing).
    pub fn matches(&self, text: &NoteText) -> bool {
        fold_case(text.as_str()).contains(&self.folded)
    }
}

impl std::fmt::Debug for SearchText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SearchText({} chars)", char_count(&self.folded))
    }
}

fn fold_case(value: &str) -> String {
    value.to_lowercase()
}

/// A note's version: 1 on creation, +1 on every write. Used for optimistic concurrency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u64);

impl Version {
    pub const FIRST: Version = Version(1);

    pub fn new(value: u64) -> Result<Self, ValidationError> {
        if value == 0 {
            return Err(ValidationError::new("Version", "must be 1 or more"));
        }
        Ok(Self(value))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A stored note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub user_id: UserId,
    pub note_id: NoteId,
    pub text: NoteText,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: Version,
}

/// What a write expects to find in the store before it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    /// Create or replace, whatever is there (the labs' behaviour).
    Anything,
    /// The note must not exist yet (server-generated ids: never overwrite).
    Absent,
    /// The note must exist at exactly this version (If-Match / `"Version"`).
    AtVersion(Version),
}

/// A note created without a `NoteId`: the store draws its id (`NoteWriter::create_note`).
#[derive(Debug, Clone)]
pub struct NewNote {
    pub user_id: UserId,
    pub text: NoteText,
    pub now: Timestamp,
}

/// One write of a note by its owner.
#[derive(Debug, Clone)]
pub struct NoteWrite {
    pub user_id: UserId,
    pub note_id: NoteId,
    pub text: NoteText,
    pub expectation: Expectation,
    pub now: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_ids() {
        let cases: &[(&str, bool, &str)] = &[
            ("1", true, "lab numeric id"),
            (
                "0190d1a2-7b3c-7def-8abc-0123456789ab",
                true,
                "a UUIDv7, as generated before integer ids",
            ),
            ("my_note-2", true, "letters, digits, - and _"),
            ("", false, "empty"),
            ("a/b", false, "slash"),
            ("..", false, "dot dot"),
            ("a#b", false, "hash, the usual DynamoDB key separator"),
            ("a b", false, "space"),
            ("a\u{0}b", false, "NUL"),
            ("é", false, "non-ASCII"),
        ];
        for (input, ok, why) in cases {
            assert_eq!(NoteId::parse(input).is_ok(), *ok, "{why}");
        }
        assert!(NoteId::parse(&"a".repeat(64)).is_ok(), "64 characters");
        assert!(NoteId::parse(&"a".repeat(65)).is_err(), "65 characters");
        assert!(
            NoteId::parse(&"a".repeat(2000)).is_err(),
            "2,000 characters"
        );
        assert_eq!(NoteId::from_number(42).as_str(), "42");
    }

    #[test]
    fn note_text_limits() {
        let cases: Vec<(String, bool, &str)> = vec![
            ("hello".into(), true, "plain"),
            ("line one\nline two\ttabbed".into(), true, "tab and newline"),
            ("שלום עולם".into(), true, "right-to-left"),
            ("e\u{301}\u{301}\u{301}".into(), true, "combining marks"),
            ("🦀 notes".into(), true, "emoji"),
            ("x".repeat(10_000), true, "10,000 characters"),
            ("é".repeat(10_000), true, "10,000 two-byte characters"),
            (String::new(), false, "empty"),
            ("  \n ".into(), false, "blank"),
            ("x".repeat(10_001), false, "10,001 characters"),
            ("a\u{0}b".into(), false, "NUL"),
            ("a\u{1b}[31m".into(), false, "terminal escape"),
        ];
        for (input, ok, why) in cases {
            assert_eq!(NoteText::parse(input).is_ok(), ok, "{why}");
        }
    }

    #[test]
    fn note_text_debug_hides_the_body() {
        let text = NoteText::parse("secret plans".into()).unwrap();
        assert!(!format!("{text:?}").contains("secret"));
    }

    #[test]
    fn search_is_case_insensitive_substring() {
        let note = NoteText::parse("Buy MILK and Straße bread".into()).unwrap();
        let cases: &[(&str, bool)] = &[
            ("milk", true),
            ("MILK", true),
            ("buy milk", true),
            ("STRASSE", false),
            ("straße", true),
            ("STRAßE", true),
            ("cheese", false),
        ];
        for (query, expected) in cases {
            let search = SearchText::parse(query).unwrap();
            assert_eq!(search.matches(&note), *expected, "{query}");
        }
        assert!(SearchText::parse("").is_err());
        assert!(SearchText::parse(&"a".repeat(201)).is_err());
    }

    #[test]
    fn versions_start_at_one() {
        assert!(Version::new(0).is_err());
        assert_eq!(Version::new(1).unwrap(), Version::FIRST);
    }
}
