//! The `list` function: `GET /notes` (newest first, paginated), `GET /notes/search?text=` (the
//! labs' separate search function, here a route of the same read-only function) and
//! `GET /notes/{id}`. It only reads, so it is only given `NoteReader`. Pages are bare JSON arrays,
//! as the labs' client reads them; the next page is named by the `Link` header.

use notes_domain::{NoteId, NoteReader, SearchText, StoreError, UserId};
use notes_http::http::{Method, StatusCode};
use notes_http::{
    ApiError, Body, NoteView, Request, Response, caller, decode_note_cursor, encode_note_cursor,
    json_response, page_size, path_parameter, request_path, required_env, set_next_link,
    single_query,
};

/// Everything the function reads from its environment, read once, in `main`, at init.
#[derive(Debug, Clone)]
pub struct Config {
    pub notes_table: String,
    /// How the function logs (`AWS_LAMBDA_LOG_LEVEL`, `AWS_LAMBDA_LOG_FORMAT`, `RUST_LOG`).
    pub log: notes_http::LogConfig,
    /// The shared edge: CORS (`ALLOWED_ORIGINS`) and the required group (`REQUIRED_GROUP`).
    pub http: notes_http::HttpConfig,
    /// How its AWS clients are built: endpoint overrides, `DYNAMODB_CONNECT_AT_INIT`.
    pub aws: notes_dynamodb::AwsConfig,
}

impl Config {
    pub fn from_env() -> Result<Self, notes_http::ConfigError> {
        Ok(Self {
            notes_table: required_env("NOTES_TABLE", "the name of the DynamoDB notes table")?,
            log: notes_http::LogConfig::from_env(),
            http: notes_http::HttpConfig::from_env()?,
            aws: notes_dynamodb::AwsConfig::from_env(&["DYNAMODB"]).map_err(|e| {
                notes_http::ConfigError::invalid(notes_dynamodb::CONNECT_AT_INIT_VARIABLE, e)
            })?,
        })
    }
}

/// The query parameters a page's `Link` carries over to the next page (`next` is added).
const CARRIED_QUERY: &[&str] = &["limit", "text"];

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
    let user = caller(&request)?.id;
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
    Ok(page_response(user, request, &page))
}

async fn search<S: NoteReader>(
    store: &S,
    user: &UserId,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let text = single_query(request, "text")?
        .ok_or_else(|| ApiError::BadRequest("query parameter `text` is required".into()))?;
    // The labs' client sends `?text=` when its search box is cleared and shows what comes back:
    // like the labs' own search, nothing to look for means every note. (Its next pages keep the
    // empty `text` and land here again.)
    if text.is_empty() {
        return list(store, user, request).await;
    }
    let query = SearchText::parse(text)?;
    let size = page_size(request)?;
    let after = single_query(request, "next")?
        .map(|cursor| decode_note_cursor(user, cursor))
        .transpose()?;
    let page = store
        .search_notes(user, &query, size, after.as_ref())
        .await?;
    Ok(page_response(user, request, &page))
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

/// A bare array of notes, and `Link: <…>; rel="next"` unless this is the last page.
fn page_response(
    user: &UserId,
    request: &Request,
    page: &notes_domain::Page<notes_domain::Note, notes_domain::NotePageKey>,
) -> Response<Body> {
    let notes: Vec<NoteView<'_>> = page.items.iter().map(NoteView::from).collect();
    let mut response = json_response(StatusCode::OK, &notes);
    if let Some(key) = &page.next {
        let cursor = encode_note_cursor(user, key);
        set_next_link(&mut response, request, CARRIED_QUERY, &cursor);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use notes_domain::testing::UntouchableStore;
    use notes_domain::{Note, NotePageKey, NoteText, Page, PageSize, Timestamp, Version};
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

    type NotesPage = Page<Note, NotePageKey>;

    /// A reader that answers every listing and search with the same page and records which it
    /// was asked for.
    #[derive(Default)]
    struct OnePage {
        page: Option<NotesPage>,
        asked: std::sync::Mutex<Vec<&'static str>>,
    }

    impl OnePage {
        fn with_notes(ids: &[&str], more: bool) -> Self {
            let now = Timestamp::now();
            let items: Vec<Note> = ids
                .iter()
                .map(|id| Note {
                    user_id: UserId::parse("alice").unwrap(),
                    note_id: NoteId::parse(id).unwrap(),
                    text: NoteText::parse(format!("note {id}")).unwrap(),
                    created_at: now,
                    updated_at: now,
                    version: Version::FIRST,
                })
                .collect();
            let next = more.then(|| NotePageKey {
                created_at: now,
                note_id: items.last().unwrap().note_id.clone(),
            });
            Self {
                page: Some(Page { items, next }),
                asked: Default::default(),
            }
        }

        fn answer(&self, what: &'static str) -> Result<NotesPage, StoreError> {
            self.asked.lock().unwrap().push(what);
            Ok(self.page.clone().unwrap())
        }

        fn asked(&self) -> Vec<&'static str> {
            self.asked.lock().unwrap().clone()
        }
    }

    impl NoteReader for OnePage {
        async fn list_notes(
            &self,
            _: &UserId,
            _: PageSize,
            _: Option<&NotePageKey>,
        ) -> Result<NotesPage, StoreError> {
            self.answer("list")
        }
        async fn search_notes(
            &self,
            _: &UserId,
            _: &SearchText,
            _: PageSize,
            _: Option<&NotePageKey>,
        ) -> Result<NotesPage, StoreError> {
            self.answer("search")
        }
        async fn get_note(&self, _: &UserId, _: &NoteId) -> Result<Note, StoreError> {
            Err(StoreError::NotFound)
        }
    }

    #[tokio::test]
    async fn pages_are_bare_arrays_with_a_link_to_the_next_page() {
        let cases: &[(&str, bool, &str, Option<&str>)] = &[
            (
                "list-notes.json",
                true,
                "list",
                Some("https://1234567890.execute-api.us-east-1.amazonaws.com/Prod/notes?next="),
            ),
            ("list-notes.json", false, "list", None),
            (
                "list-notes-limit.json",
                true,
                "list",
                Some(
                    "https://1234567890.execute-api.us-east-1.amazonaws.com/Prod/notes?limit=2&next=",
                ),
            ),
            (
                "search-notes.json",
                true,
                "search",
                Some(
                    "https://1234567890.execute-api.us-east-1.amazonaws.com/Prod/notes/search?text=MILK&next=",
                ),
            ),
            // The labs' cleared search box: every note, and the next page keeps `text=`.
            (
                "search-notes-empty-text.json",
                true,
                "list",
                Some(
                    "https://1234567890.execute-api.us-east-1.amazonaws.com/Prod/notes/search?text=&next=",
                ),
            ),
            ("search-notes-empty-text.json", false, "list", None),
        ];
        for (fixture, more, asked, link) in cases {
            let store = OnePage::with_notes(&["3", "2"], *more);
            let response = handle(&store, fixture_request(fixture).unwrap())
                .await
                .unwrap_or_else(ApiError::into_response);
            let (status, body) = status_and_json(&response);
            assert_eq!(status, 200, "{fixture}: {body}");
            let ids: Vec<&str> = body
                .as_array()
                .unwrap_or_else(|| panic!("{fixture}: not an array: {body}"))
                .iter()
                .map(|note| note["NoteId"].as_str().unwrap())
                .collect();
            assert_eq!(ids, ["3", "2"], "{fixture}");
            assert_eq!(store.asked(), [*asked], "{fixture}");
            let header = response
                .headers()
                .get(notes_http::http::header::LINK)
                .map(|v| v.to_str().unwrap());
            match link {
                None => assert_eq!(header, None, "{fixture}: the last page has no Link"),
                Some(prefix) => {
                    let header = header.unwrap_or_else(|| panic!("{fixture}: no Link"));
                    let url = header
                        .strip_prefix('<')
                        .and_then(|h| h.strip_suffix(">; rel=\"next\""))
                        .unwrap_or_else(|| panic!("{fixture}: {header}"));
                    let cursor = url
                        .strip_prefix(prefix)
                        .unwrap_or_else(|| panic!("{fixture}: {url} does not start {prefix}"));
                    let user = UserId::parse(&notes_http::fixtures::sub_of("alice")).unwrap();
                    assert!(
                        decode_note_cursor(&user, cursor).is_ok(),
                        "{fixture}: {cursor} is alice's cursor"
                    );
                }
            }
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
