//! Opaque pagination cursors. A note cursor is bound to the user it was issued to: presented by
//! anyone else it is refused, and in any case the store takes the partition from the caller's
//! identity, never from the cursor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use notes_domain::{NoteId, NotePageKey, PostId, PostPageKey, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ApiError;

/// Longer than any cursor we issue; anything bigger is not ours.
const MAX_CURSOR_CHARS: usize = 512;
const VERSION: u8 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteCursor {
    v: u8,
    /// A digest of the owner's username, so that a cursor cannot be replayed by another user
    /// and does not spell out the username.
    u: String,
    c: String,
    i: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostCursor {
    v: u8,
    b: u64,
}

fn owner_tag(user: &UserId) -> String {
    let digest = Sha256::digest(user.as_str().as_bytes());
    digest
        .iter()
        .take(12)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn invalid() -> ApiError {
    ApiError::BadRequest("next is not a valid cursor for this request".into())
}

fn encode<T: Serialize>(value: &T) -> String {
    // Serialising these plain structs cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

fn decode<T: for<'de> Deserialize<'de>>(cursor: &str) -> Result<T, ApiError> {
    if cursor.len() > MAX_CURSOR_CHARS {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

pub fn encode_note_cursor(user: &UserId, key: &NotePageKey) -> String {
    encode(&NoteCursor {
        v: VERSION,
        u: owner_tag(user),
        c: key.created_at.to_rfc3339_millis(),
        i: key.note_id.as_str().to_owned(),
    })
}

pub fn decode_note_cursor(user: &UserId, cursor: &str) -> Result<NotePageKey, ApiError> {
    let decoded: NoteCursor = decode(cursor)?;
    if decoded.v != VERSION || decoded.u != owner_tag(user) {
        return Err(invalid());
    }
    Ok(NotePageKey {
        created_at: Timestamp::parse(&decoded.c).map_err(|_| invalid())?,
        note_id: NoteId::parse(&decoded.i).map_err(|_| invalid())?,
    })
}

pub fn encode_post_cursor(key: PostPageKey) -> String {
    encode(&PostCursor {
        v: VERSION,
        b: key.before.get(),
    })
}

pub fn decode_post_cursor(cursor: &str) -> Result<PostPageKey, ApiError> {
    let decoded: PostCursor = decode(cursor)?;
    if decoded.v != VERSION {
        return Err(invalid());
    }
    Ok(PostPageKey {
        before: PostId::new(decoded.b).map_err(|_| invalid())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> NotePageKey {
        NotePageKey {
            created_at: Timestamp::parse("2026-11-23T20:15:15.123Z").unwrap(),
            note_id: NoteId::parse("n1").unwrap(),
        }
    }

    #[test]
    fn note_cursors_round_trip_for_their_owner_only() {
        let alice = UserId::parse("alice").unwrap();
        let bob = UserId::parse("bob").unwrap();
        let cursor = encode_note_cursor(&alice, &key());
        assert_eq!(decode_note_cursor(&alice, &cursor).unwrap(), key());
        assert!(
            decode_note_cursor(&bob, &cursor).is_err(),
            "another user's cursor"
        );
        assert!(!cursor.contains("alice"));
    }

    #[test]
    fn forged_cursors_are_rejected() {
        let alice = UserId::parse("alice").unwrap();
        let forged = |json: &str| URL_SAFE_NO_PAD.encode(json);
        let tag = owner_tag(&alice);
        let cases = vec![
            (String::new(), "empty"),
            ("!!!".to_owned(), "not base64"),
            (forged("not json"), "not JSON"),
            (forged("{}"), "missing fields"),
            (
                forged(&format!(
                    r#"{{"v":2,"u":"{tag}","c":"2026-11-23T20:15:15.123Z","i":"n1"}}"#
                )),
                "unknown version",
            ),
            (
                forged(&format!(
                    r#"{{"v":1,"u":"{tag}","c":"yesterday","i":"n1"}}"#
                )),
                "bad timestamp",
            ),
            (
                forged(&format!(
                    r#"{{"v":1,"u":"{tag}","c":"2026-11-23T20:15:15.123Z","i":"../x"}}"#
                )),
                "bad note id",
            ),
            (
                forged(&format!(
                    r#"{{"v":1,"u":"{tag}","c":"2026-11-23T20:15:15.123Z","i":"n1","UserId":"bob"}}"#
                )),
                "smuggled user",
            ),
            ("A".repeat(600), "oversized"),
        ];
        for (cursor, why) in cases {
            assert!(decode_note_cursor(&alice, &cursor).is_err(), "{why}");
        }
    }

    #[test]
    fn post_cursors() {
        let key = PostPageKey {
            before: PostId::new(42).unwrap(),
        };
        assert_eq!(decode_post_cursor(&encode_post_cursor(key)).unwrap(), key);
        assert!(decode_post_cursor(&URL_SAFE_NO_PAD.encode(r#"{"v":1,"b":0}"#)).is_err());
        assert!(decode_post_cursor("garbage").is_err());
    }
}
