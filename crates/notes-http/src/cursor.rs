//! Opaque pagination cursors. A note cursor is bound to the user it was issued to: presented by
//! anyone else it is refused, and in any case the store takes the partition from the caller's
//! identity, never from the cursor.
//!
//! The binding is an HMAC-SHA256 of the cursor's position keyed with the owner's `sub`, not a
//! hash of who owns it: a leaked cursor names nobody and cannot be checked against a guessed name
//! (a bare digest of the owner could), and its position cannot be altered without the owner's
//! `sub`, which the API never shows to anyone else. No server-side secret is needed for that, so
//! there is none to provision or rotate.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use notes_domain::{NoteId, NotePageKey, PostId, PostPageKey, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::ApiError;

/// Longer than any cursor we issue; anything bigger is not ours.
const MAX_CURSOR_CHARS: usize = 512;
/// Version 1 carried a bare SHA-256 of the owner; its cursors are refused (the client starts
/// again from the first page).
const VERSION: u8 = 2;
/// Bytes of the HMAC kept in a cursor: 128 bits, beyond guessing.
const TAG_BYTES: usize = 16;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteCursor {
    v: u8,
    c: String,
    i: String,
    /// The HMAC of `v`, `c` and `i` keyed with the owner's `sub`: another user's cursor, or an
    /// altered one, does not match.
    t: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostCursor {
    v: u8,
    b: u64,
}

fn position_tag(owner: &UserId, created_at: &str, note_id: &str) -> String {
    // An HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(owner.as_str().as_bytes()) else {
        return String::new();
    };
    // Length-prefixed fields, so that no two positions share an input.
    for field in [VERSION.to_string().as_str(), created_at, note_id] {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field.as_bytes());
    }
    let digest = mac.finalize().into_bytes();
    // SHA-256 gives 32 bytes, more than TAG_BYTES.
    URL_SAFE_NO_PAD.encode(digest.get(..TAG_BYTES).unwrap_or(&digest))
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
    let c = key.created_at.to_rfc3339_millis();
    let i = key.note_id.as_str().to_owned();
    let t = position_tag(user, &c, &i);
    encode(&NoteCursor {
        v: VERSION,
        c,
        i,
        t,
    })
}

pub fn decode_note_cursor(user: &UserId, cursor: &str) -> Result<NotePageKey, ApiError> {
    let decoded: NoteCursor = decode(cursor)?;
    let expected = position_tag(user, &decoded.c, &decoded.i);
    // Compared in constant time, so the tag cannot be found byte by byte.
    if decoded.v != VERSION || !constant_time_eq(decoded.t.as_bytes(), expected.as_bytes()) {
        return Err(invalid());
    }
    Ok(NotePageKey {
        created_at: Timestamp::parse(&decoded.c).map_err(|_| invalid())?,
        note_id: NoteId::parse(&decoded.i).map_err(|_| invalid())?,
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
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
        let alice = UserId::parse("alice-sub").unwrap();
        let bob = UserId::parse("bob-sub").unwrap();
        let cursor = encode_note_cursor(&alice, &key());
        assert_eq!(decode_note_cursor(&alice, &cursor).unwrap(), key());
        assert!(
            decode_note_cursor(&bob, &cursor).is_err(),
            "another user's cursor"
        );
        let json = String::from_utf8(URL_SAFE_NO_PAD.decode(&cursor).unwrap()).unwrap();
        assert!(!json.contains("alice"), "{json}");
    }

    #[test]
    fn the_tag_is_keyed_not_a_digest_of_the_owner() {
        // Version 1's tag was the first 12 bytes of SHA-256(owner): anyone could recompute it
        // from a guessed name and confirm whose cursor leaked. The tag must not be derivable
        // from the owner alone, nor be the same for two positions.
        use sha2::Digest as _;
        let alice = UserId::parse("alice-sub").unwrap();
        let tag = |key: &NotePageKey| {
            let cursor = encode_note_cursor(&alice, key);
            let bytes = URL_SAFE_NO_PAD.decode(cursor).unwrap();
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            value["t"].as_str().unwrap().to_owned()
        };
        let digest = Sha256::digest(alice.as_str().as_bytes());
        let bare_hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
        let bare_b64 = URL_SAFE_NO_PAD.encode(&digest[..TAG_BYTES]);
        let first = tag(&key());
        assert_ne!(first, bare_hex);
        assert_ne!(first, bare_b64);
        let other = NotePageKey {
            created_at: Timestamp::parse("2026-11-23T20:15:15.124Z").unwrap(),
            note_id: NoteId::parse("n1").unwrap(),
        };
        assert_ne!(first, tag(&other), "the tag covers the position");
    }

    #[test]
    fn forged_cursors_are_rejected() {
        let alice = UserId::parse("alice-sub").unwrap();
        let forged = |json: &str| URL_SAFE_NO_PAD.encode(json);
        let c = "2026-11-23T20:15:15.123Z";
        let tag = position_tag(&alice, c, "n1");
        let other_position = position_tag(&alice, c, "n2");
        let cases = vec![
            (String::new(), "empty"),
            ("!!!".to_owned(), "not base64"),
            (forged("not json"), "not JSON"),
            (forged("{}"), "missing fields"),
            (
                forged(&format!(r#"{{"v":3,"c":"{c}","i":"n1","t":"{tag}"}}"#)),
                "unknown version",
            ),
            (
                forged(&format!(r#"{{"v":1,"u":"{tag}","c":"{c}","i":"n1"}}"#)),
                "version 1 (a bare digest of the owner)",
            ),
            (
                forged(&format!(r#"{{"v":2,"c":"{c}","i":"n2","t":"{tag}"}}"#)),
                "position altered",
            ),
            (
                forged(&format!(
                    r#"{{"v":2,"c":"{c}","i":"n1","t":"{other_position}"}}"#
                )),
                "another position's tag",
            ),
            (
                forged(&format!(r#"{{"v":2,"c":"{c}","i":"n1"}}"#)),
                "no tag",
            ),
            (
                forged(&format!(
                    r#"{{"v":2,"c":"yesterday","i":"n1","t":"{}"}}"#,
                    position_tag(&alice, "yesterday", "n1")
                )),
                "bad timestamp",
            ),
            (
                forged(&format!(
                    r#"{{"v":2,"c":"{c}","i":"../x","t":"{}"}}"#,
                    position_tag(&alice, c, "../x")
                )),
                "bad note id",
            ),
            (
                forged(&format!(
                    r#"{{"v":2,"c":"{c}","i":"n1","t":"{tag}","UserId":"bob"}}"#
                )),
                "smuggled user",
            ),
            ("A".repeat(600), "oversized"),
        ];
        let genuine = forged(&format!(r#"{{"v":2,"c":"{c}","i":"n1","t":"{tag}"}}"#));
        assert!(
            decode_note_cursor(&alice, &genuine).is_ok(),
            "the cases differ from a genuine cursor"
        );
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
