//! The `createUpdate` function: `POST /notes`. Without `NoteId` it creates a note under a new
//! integer id (the labs' client edits by `parseInt(NoteId)`); with `NoteId` it creates or
//! replaces the caller's note of that id, as the labs' clients expect. A version (`If-Match` or
//! `"Version"`) makes the write conditional. An `Idempotency-Key` makes a retried create return
//! the first attempt's note instead of a second.

use std::fmt;
use std::time::Duration;

use notes_domain::{
    Expectation, IdempotencyStore, NewNote, NoteId, NoteText, NoteWrite, NoteWriter, StoreError,
    Timestamp, UserId, Version,
};
use notes_http::http::{HeaderValue, Method, StatusCode, header};
use notes_http::{
    ApiError, Body, Idempotency, NoteView, Request, Response, caller, idempotency_window_from_env,
    if_match_version, json_body, json_response, location_of, required_env, set_etag,
};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// Names this function's idempotency records (`createUpdate#...`).
pub const IDEMPOTENCY_SCOPE: &str = "createUpdate";

/// Everything the function reads from its environment, read once, in `main`, at init.
#[derive(Debug, Clone)]
pub struct Config {
    pub notes_table: String,
    pub idempotency_table: String,
    pub idempotency_window: Duration,
    /// The most notes one user may keep (`MAX_NOTES_PER_USER`, template parameter
    /// `MaxNotesPerUser`): a create beyond it is a 409.
    pub max_notes_per_user: u32,
    /// How the function logs (`AWS_LAMBDA_LOG_LEVEL`, `AWS_LAMBDA_LOG_FORMAT`, `RUST_LOG`).
    pub log: notes_http::LogConfig,
    /// The shared edge: CORS (`ALLOWED_ORIGINS`) and the required group (`REQUIRED_GROUP`).
    pub http: notes_http::HttpConfig,
    /// How its AWS clients are built: endpoint overrides, `DYNAMODB_CONNECT_AT_INIT`.
    pub aws: notes_dynamodb::AwsConfig,
}

/// `MAX_NOTES_PER_USER` when unset: far more than a person writes, few enough that one account
/// cannot fill the table (10,000 notes of at most 10,000 characters: at most about 400 MB).
pub const DEFAULT_MAX_NOTES_PER_USER: u32 = 10_000;

impl Config {
    pub fn from_env() -> Result<Self, notes_http::ConfigError> {
        Ok(Self {
            notes_table: required_env("NOTES_TABLE", "the name of the DynamoDB notes table")?,
            idempotency_table: required_env(
                "IDEMPOTENCY_TABLE",
                "the name of the DynamoDB table of Idempotency-Key records",
            )?,
            idempotency_window: idempotency_window_from_env()?,
            max_notes_per_user: notes_http::number_env(
                "MAX_NOTES_PER_USER",
                DEFAULT_MAX_NOTES_PER_USER,
                1,
                1_000_000,
            )?,
            log: notes_http::LogConfig::from_env(),
            http: notes_http::HttpConfig::from_env()?,
            aws: notes_dynamodb::AwsConfig::from_env(&["DYNAMODB"]).map_err(|e| {
                notes_http::ConfigError::invalid(notes_dynamodb::CONNECT_AT_INIT_VARIABLE, e)
            })?,
        })
    }
}

/// What a retry with the same `Idempotency-Key` must ask for again: the validated request.
#[derive(Serialize)]
struct Fingerprint<'a> {
    note_id: Option<&'a str>,
    note: &'a str,
    version: Option<u64>,
}

/// The request body. Fields a client echoes back from a note it read (`CreatedAt`,
/// `UpdatedAt`) are ignored; `UserId` is refused outright, since identity only ever comes from
/// the authorizer.
#[derive(Debug, Deserialize)]
struct NoteRequest {
    #[serde(rename = "Note")]
    note: Option<String>,
    #[serde(rename = "NoteId", default, deserialize_with = "note_id_input")]
    note_id: Option<String>,
    #[serde(rename = "Version")]
    version: Option<u64>,
    #[serde(rename = "UserId", default, deserialize_with = "notes_http::present")]
    user_id: bool,
}

/// `NoteId` as a string, or as a non-negative integer (the labs' clients number their notes).
fn note_id_input<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct NoteIdVisitor;
    impl<'de> Visitor<'de> for NoteIdVisitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a non-negative integer")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(self)
        }
        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            Ok(Some(value.to_owned()))
        }
        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
            Ok(Some(NoteId::from_number(value).as_str().to_owned()))
        }
    }
    deserializer.deserialize_option(NoteIdVisitor)
}

#[tracing::instrument(name = "create_update", skip_all)]
pub async fn handle<S: NoteWriter, I: IdempotencyStore>(
    store: &S,
    idempotency: &Idempotency<I>,
    request: Request,
) -> Result<Response<Body>, ApiError> {
    let user_id = caller(&request)?.id;
    if request.method() != Method::POST {
        return Err(ApiError::MethodNotAllowed { allow: "POST" });
    }
    let body: NoteRequest = json_body(&request)?;
    if body.user_id {
        return Err(ApiError::BadRequest(
            "UserId must not be sent: notes always belong to the signed-in caller".into(),
        ));
    }
    let text = NoteText::parse(
        body.note
            .ok_or_else(|| ApiError::BadRequest("Note is required".into()))?,
    )?;
    let header_version = if_match_version(&request)?;
    let body_version = body.version.map(Version::new).transpose()?;
    let expected = match (header_version, body_version) {
        // Two different expected versions: whatever is stored, one precondition fails, so this
        // is the version precondition failing (409, nothing written), as for any other expected
        // version that is not the stored one. Each part of the request is well-formed.
        (Some(h), Some(b)) if h != b => {
            return Err(ApiError::Conflict(
                "If-Match and Version disagree, so no stored version can match both: send one, \
                 or the same version in both"
                    .into(),
            ));
        }
        (h, b) => h.or(b),
    };
    let target = match (body.note_id, expected) {
        (None, None) => Target::New,
        // An expected version of a note that has no id yet: a new note has no stored version,
        // so the precondition fails (409, nothing written), as for any version that is not the
        // stored one.
        (None, Some(_)) => {
            return Err(ApiError::Conflict(
                "an expected version (If-Match or Version) needs the NoteId of the note to \
                 update: a new note has no version yet"
                    .into(),
            ));
        }
        (Some(id), None) => Target::Given(NoteId::parse(&id)?, Expectation::Anything),
        (Some(id), Some(version)) => {
            Target::Given(NoteId::parse(&id)?, Expectation::AtVersion(version))
        }
    };
    let fingerprint = Fingerprint {
        note_id: match &target {
            Target::New => None,
            Target::Given(id, _) => Some(id.as_str()),
        },
        note: text.as_str(),
        version: expected.map(Version::get),
    };
    let write = write_note(store, &request, user_id.clone(), &target, text.clone());
    idempotency
        .run(&request, IDEMPOTENCY_SCOPE, &user_id, &fingerprint, write)
        .await
}

/// Which note a request writes.
enum Target {
    /// A new note under an id the store draws.
    New,
    /// The caller's note of this id, as the expectation allows.
    Given(NoteId, Expectation),
}

/// The write itself; a new note's id is drawn here (by the store), so that a replayed create
/// returns the id of the first attempt rather than drawing another.
async fn write_note<S: NoteWriter>(
    store: &S,
    request: &Request,
    user_id: UserId,
    target: &Target,
    text: NoteText,
) -> Result<Response<Body>, ApiError> {
    let now = Timestamp::now();
    let note = match target {
        Target::New => store.create_note(NewNote { user_id, text, now }).await?,
        Target::Given(note_id, expectation) => {
            tracing::debug!(note_id = %note_id, "writing note");
            let write = NoteWrite {
                user_id,
                note_id: note_id.clone(),
                text,
                expectation: *expectation,
                now,
            };
            match store.put_note(write).await {
                Ok(note) => note,
                Err(StoreError::VersionConflict { current }) => {
                    return Err(conflict(note_id, *expectation, current));
                }
                Err(err) => return Err(err.into()),
            }
        }
    };
    tracing::debug!(note_id = %note.note_id, "note written");

    let created = note.version == Version::FIRST;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = json_response(status, &NoteView::from(&note));
    set_etag(&mut response, note.version);
    if created
        && let Ok(location) = HeaderValue::from_str(&location_of(request, note.note_id.as_str()))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The 409 of a versioned write whose version did not match.
fn conflict(note_id: &NoteId, expectation: Expectation, current: Option<Version>) -> ApiError {
    let expected = match expectation {
        Expectation::AtVersion(version) => version.to_string(),
        _ => "none".into(),
    };
    ApiError::Conflict(match current {
        Some(current) => format!(
            "note {note_id} is at version {current}, not {expected}: read it again and retry"
        ),
        None => format!("you have no note with NoteId {note_id} at version {expected}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use notes_domain::testing::UntouchableStore;
    use notes_http::fixtures::{fixture_request, status_and_json};

    fn untouchable() -> Idempotency<UntouchableStore> {
        Idempotency::new(UntouchableStore::default(), notes_http::DEFAULT_WINDOW)
    }

    #[tokio::test]
    async fn rejected_fixtures_touch_nothing() {
        let cases = [
            ("create-note-no-identity.json", 401),
            ("create-note-invalid-json.json", 400),
            ("create-note-wrong-type.json", 400),
            ("create-note-empty.json", 400),
            ("create-note-too-long.json", 400),
            ("create-note-wrong-content-type.json", 415),
            ("create-note-user-smuggled.json", 400),
            ("list-notes.json", 405),
        ];
        for (fixture, expected) in cases {
            let store = UntouchableStore::default();
            let response = handle(&store, &untouchable(), fixture_request(fixture).unwrap())
                .await
                .unwrap_or_else(ApiError::into_response);
            let (status, body) = status_and_json(&response);
            assert_eq!(status, expected, "{fixture}: {body}");
            assert!(body["message"].is_string(), "{fixture}: {body}");
            assert_eq!(store.calls(), 0, "{fixture} reached the store");
        }
    }

    #[tokio::test]
    async fn wrong_types_are_named_and_versions_must_agree() {
        let response = handle(
            &UntouchableStore::default(),
            &untouchable(),
            fixture_request("create-note-wrong-type.json").unwrap(),
        )
        .await
        .unwrap_or_else(ApiError::into_response);
        let (_, body) = status_and_json(&response);
        assert!(
            body["message"].as_str().unwrap().starts_with("Note:"),
            "{body}"
        );

        let bodies = [
            (r#"{"NoteId": -1, "Note": "x"}"#, "a negative numeric id"),
            (r#"{"NoteId": 1.5, "Note": "x"}"#, "a fractional id"),
            (r#"{"NoteId": "a/b", "Note": "x"}"#, "an id with a slash"),
            (
                r#"{"NoteId": "1", "Note": "x", "Version": 0}"#,
                "version zero",
            ),
            (r#"{"NoteId": {"S": "1"}, "Note": "x"}"#, "an object id"),
        ];
        for (json, why) in bodies {
            let mut request = fixture_request("create-note.json").unwrap();
            *request.body_mut() = Body::from(json);
            let store = UntouchableStore::default();
            let response = handle(&store, &untouchable(), request)
                .await
                .unwrap_or_else(ApiError::into_response);
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{why}");
            assert_eq!(store.calls(), 0, "{why}");
        }

        // Preconditions no stored version can meet: two different expected versions, or an
        // expected version of a new note. The precondition fails (409), decided before the
        // store is asked.
        let cases = [
            (
                r#"{"NoteId": "1", "Note": "x", "Version": 2}"#,
                Some("\"3\""),
                "If-Match and Version differ",
            ),
            (
                r#"{"Note": "x", "Version": 2}"#,
                None,
                "a Version without a NoteId",
            ),
            (
                r#"{"Note": "x", "NoteId": null}"#,
                Some("\"1\""),
                "If-Match on a new note",
            ),
        ];
        for (json, if_match, why) in cases {
            let mut request = fixture_request("create-note.json").unwrap();
            *request.body_mut() = Body::from(json);
            if let Some(value) = if_match {
                request
                    .headers_mut()
                    .insert(header::IF_MATCH, HeaderValue::from_static(value));
            }
            let store = UntouchableStore::default();
            let response = handle(&store, &untouchable(), request)
                .await
                .unwrap_or_else(ApiError::into_response);
            assert_eq!(response.status(), StatusCode::CONFLICT, "{why}");
            assert_eq!(store.calls(), 0, "{why}: refused without a write");
        }
    }
}
