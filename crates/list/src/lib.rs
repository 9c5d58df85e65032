//! The `list` function: `GET /notes` (newest first, paginated), `GET /notes/search?text=` (the
//! labs' separate search function, here a route of the same read-only function) and
//! `GET /notes/{id}`. It only reads, so it is only given `NoteReader`.

use notes_domain::{NoteId, NoteReader, SearchText, StoreError, UserId};
use notes_http::http::{Method, StatusCode};
use notes_http::{
    ApiError, Body, NoteView, Request, Response, caller, decode_note_cursor, encode_note_cursor,
    json_response, page_size, path_parameter, request_path, required_env, single_query,
};
use serde::Serialize;

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

#[derive(Debug, Serialize)]
struct NotesPage<'a> {
    notes: Vec<NoteView<'a>>,
    /// Pass as `?next=` to get the following page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

enum Route<'a> {
    List,
    Search,
    Get(&'a str),
}

fn route(request: &Request) -> Option<Route<'_>> {
    let path = request_path(request);
    if path.ends_with("/notes/search") {
        return Some(Route::Search);
    }
    if path.ends_with("/notes") {
        return Some(Route::List);
    }
    path_parameter(request, "id").map(Route::Get)
}

#[tracing::instrument(name = "list", skip_all)]
pub async fn handle<S: NoteReader>(
    store: &S,
    request: Request,
) -> Result<Response<Body>, ApiError> {
    let user = caller(&request)?;
    if request.method() != Method::GET {
        return Err(ApiError::MethodNotAllowed { allow: "GET" });
    }
    match route(&request) {
        Some(Route::List) => list(store, &user, &request).await,
        Some(Route::Search) => search(store, &user, &request).await,
        Some(Route::Get(id)) => get(store, &user, id).await,
        None => Err(ApiError::NotFound("no such route".into())),
    }
}

async fn list<S: NoteReader>(
    store: &S,
    user: &UserId,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let size = page_size(request)?;
    let after = single_query(request, "next")?
        .map(|cursor| decode_note_cursor(user, cursor))
        .transpose()?;
    let page = store.list_notes(user, size, after.as_ref()).await?;
    Ok(page_response(user, &page))
}

async fn search<S: NoteReader>(
    store: &S,
    user: &UserId,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let text = single_query(request, "text")?
        .ok_or_else(|| ApiError::BadRequest("query parameter `text` is required".into()))?;
    let query = SearchText::parse(text)?;
    let size = page_size(request)?;
    let after = single_query(request, "next")?
        .map(|cursor| decode_note_cursor(user, cursor))
        .transpose()?;
    let page = store
        .search_notes(user, &query, size, after.as_ref())
        .await?;
    Ok(page_response(user, &page))
}

async fn get<S: NoteReader>(
    store: &S,
    user: &UserId,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let id = NoteId::parse(id)?;
    match store.get_note(user, &id).await {
        Ok(note) => {
            let mut response = json_response(StatusCode::OK, &NoteView::from(&note));
            notes_http::set_etag(&mut response, note.version);
            Ok(response)
        }
        Err(StoreError::NotFound) => Err(ApiError::NotFound(format!(
            "you have no note with NoteId {id}"
        ))),
        Err(err) => Err(err.into()),
    }
}

fn page_response(
    user: &UserId,
    page: &notes_domain::Page<notes_domain::Note, notes_domain::NotePageKey>,
) -> Response<Body> {
    let body = NotesPage {
        notes: page.items.iter().map(NoteView::from).collect(),
        next: page.next.as_ref().map(|key| encode_note_cursor(user, key)),
    };
    json_response(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notes_domain::testing::UntouchableStore;
    use notes_http::fixtures::{fixture_request, status_and_json};

    /// Requests refused before any storage access: the status, a JSON message, and zero calls.
    #[tokio::test]
    async fn rejected_fixtures_touch_nothing() {
        let cases = [
            ("list-notes-no-identity.json", 401),
            ("list-notes-bad-limit.json", 400),
            ("list-notes-forged-cursor.json", 400),
            ("list-notes-wrong-method.json", 405),
            ("search-notes-no-text.json", 400),
            ("delete-note-bad-id.json", 405),
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

    #[tokio::test]
    async fn an_invalid_note_id_is_a_400_before_any_read() {
        let mut request = fixture_request("get-note.json").unwrap();
        let mut params = std::collections::HashMap::new();
        params.insert("id".to_owned(), "../other-user".to_owned());
        request = notes_http::RequestExt::with_path_parameters(request, params);
        let store = UntouchableStore::default();
        let response = handle(&store, request)
            .await
            .unwrap_or_else(ApiError::into_response);
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(store.calls(), 0);
    }
}
