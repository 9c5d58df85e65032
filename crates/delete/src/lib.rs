//! The `delete` function: `DELETE /notes/{id}`. 204 when the caller's note was deleted, 404 when
//! the caller has no such note (never a silent success), 409 when `If-Match` names another
//! version. Its own function so that only it holds `dynamodb:DeleteItem`.

use notes_domain::{NoteDeleter, NoteId, StoreError};
use notes_http::http::{Method, StatusCode};
use notes_http::{
    ApiError, Body, Request, Response, caller, empty_response, if_match_version, path_parameter,
    required_env,
};

/// What the function reads from its environment at init.
#[derive(Debug, Clone)]
pub struct Config {
    pub notes_table: String,
}

impl Config {
    pub fn from_env() -> Result<Self, notes_http::ConfigError> {
        Ok(Self {
            notes_table: required_env("NOTES_TABLE", "the name of the DynamoDB notes table")?,
        })
    }
}

#[tracing::instrument(name = "delete", skip_all)]
pub async fn handle<S: NoteDeleter>(
    store: &S,
    request: Request,
) -> Result<Response<Body>, ApiError> {
    let user = caller(&request)?.id;
    if request.method() != Method::DELETE {
        return Err(ApiError::MethodNotAllowed { allow: "DELETE" });
    }
    let id = path_parameter(&request, "id")
        .ok_or_else(|| ApiError::BadRequest("the note id is missing from the path".into()))?;
    let id = NoteId::parse(id)?;
    let expected = if_match_version(&request)?;
    match store.delete_note(&user, &id, expected).await {
        Ok(()) => Ok(empty_response(StatusCode::NO_CONTENT)),
        Err(StoreError::NotFound) => Err(ApiError::NotFound(format!(
            "you have no note with NoteId {id}"
        ))),
        Err(StoreError::VersionConflict { current }) => Err(ApiError::Conflict(format!(
            "note {id} is at version {}, not the one in If-Match: nothing was deleted",
            current.map_or_else(|| "unknown".to_owned(), |v| v.to_string())
        ))),
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notes_domain::testing::UntouchableStore;
    use notes_http::fixtures::{fixture_request, status_and_json};

    #[tokio::test]
    async fn rejected_fixtures_touch_nothing() {
        let cases = [
            ("delete-note-bad-id.json", 400),
            ("list-notes-no-identity.json", 401),
            ("get-note.json", 405),
        ];
        for (fixture, expected) in cases {
            let store = UntouchableStore::default();
            let response = handle(&store, fixture_request(fixture).unwrap())
                .await
                .unwrap_or_else(ApiError::into_response);
            let (status, body) = status_and_json(&response);
            assert_eq!(status, expected, "{fixture}: {body}");
            assert!(body["message"].is_string(), "{fixture}: {body}");
            assert_eq!(store.calls(), 0, "{fixture} reached the store");
        }
    }
}
