//! The `post` function: the board from the Cognito "post" tutorial. `POST /post` stores a post
//! under the next sequential id (no table scan, no collisions: see notes-dynamodb's posts module);
//! `GET /post` lists recent posts, newest first, for any signed-in user, as a bare JSON array
//! paged by the `Link` header like the notes. An `Idempotency-Key` makes a retried `POST /post`
//! return the first attempt's post instead of a second.

use std::time::Duration;

use notes_domain::{
    IdempotencyStore, NewPost, PostContents, PostReader, PostTitle, PostWriter, Timestamp,
};
use notes_http::http::{Method, StatusCode};
use notes_http::{
    ApiError, Body, Idempotency, PostView, Request, Response, caller, decode_post_cursor,
    encode_post_cursor, idempotency_window_from_env, json_body, json_response, page_size,
    required_env, set_next_link, single_query,
};
use serde::Deserialize;

/// Names this function's idempotency records (`post#...`).
pub const IDEMPOTENCY_SCOPE: &str = "post";

/// Everything the function reads from its environment, read once, in `main`, at init.
#[derive(Debug, Clone)]
pub struct Config {
    pub posts_table: String,
    pub idempotency_table: String,
    pub idempotency_window: Duration,
    /// Where each author's post count is kept (`USAGE_TABLE`).
    pub usage_table: String,
    /// The most posts one user may write (`MAX_POSTS_PER_USER`, template parameter
    /// `MaxPostsPerUser`): a post beyond it is a 409.
    pub max_posts_per_user: u32,
    /// How the function logs (`AWS_LAMBDA_LOG_LEVEL`, `AWS_LAMBDA_LOG_FORMAT`, `RUST_LOG`).
    pub log: notes_http::LogConfig,
    /// The shared edge: CORS (`ALLOWED_ORIGINS`) and the required group (`REQUIRED_GROUP`).
    pub http: notes_http::HttpConfig,
    /// How its AWS clients are built: endpoint overrides, `DYNAMODB_CONNECT_AT_INIT`.
    pub aws: notes_dynamodb::AwsConfig,
}

/// `MAX_POSTS_PER_USER` when unset.
pub const DEFAULT_MAX_POSTS_PER_USER: u32 = 10_000;

impl Config {
    pub fn from_env() -> Result<Self, notes_http::ConfigError> {
        Ok(Self {
            usage_table: required_env(
                "USAGE_TABLE",
                "the name of the DynamoDB table of per-user counters",
            )?,
            max_posts_per_user: notes_http::number_env(
                "MAX_POSTS_PER_USER",
                DEFAULT_MAX_POSTS_PER_USER,
                1,
                1_000_000,
            )?,
            posts_table: required_env("POSTS_TABLE", "the name of the DynamoDB posts table")?,
            idempotency_table: required_env(
                "IDEMPOTENCY_TABLE",
                "the name of the DynamoDB table of Idempotency-Key records",
            )?,
            idempotency_window: idempotency_window_from_env()?,
            log: notes_http::LogConfig::from_env(),
            http: notes_http::HttpConfig::from_env()?,
            aws: notes_dynamodb::AwsConfig::from_env(&["DYNAMODB"]).map_err(|e| {
                notes_http::ConfigError::invalid(notes_dynamodb::CONNECT_AT_INIT_VARIABLE, e)
            })?,
        })
    }
}

#[derive(Debug, Deserialize)]
struct PostRequest {
    title: Option<String>,
    contents: Option<String>,
    /// The author is the caller; a body that tries to choose it is refused, even as `null`.
    #[serde(default, deserialize_with = "notes_http::present")]
    author: bool,
    #[serde(rename = "UserId", default, deserialize_with = "notes_http::present")]
    user_id: bool,
}

#[tracing::instrument(name = "post", skip_all)]
pub async fn handle<S: PostWriter + PostReader, I: IdempotencyStore>(
    store: &S,
    idempotency: &Idempotency<I>,
    request: Request,
) -> Result<Response<Body>, ApiError> {
    let author = caller(&request)?;
    match *request.method() {
        Method::POST => {
            let body: PostRequest = json_body(&request)?;
            if body.author || body.user_id {
                return Err(ApiError::BadRequest(
                    "author must not be sent: posts are signed by the signed-in caller".into(),
                ));
            }
            let title = PostTitle::parse(
                body.title
                    .ok_or_else(|| ApiError::BadRequest("title is required".into()))?,
            )?;
            let contents = PostContents::parse(
                body.contents
                    .ok_or_else(|| ApiError::BadRequest("contents is required".into()))?,
            )?;
            // What a retry with the same Idempotency-Key must ask for again.
            let fingerprint = (title.as_str(), contents.as_str());
            let create = async {
                let post = store
                    .create_post(NewPost {
                        title: title.clone(),
                        contents: contents.clone(),
                        author_id: author.id.clone(),
                        author: author.username.clone(),
                        created_at: Timestamp::now(),
                    })
                    .await?;
                tracing::info!(post_id = post.id.get(), "post created");
                Ok(json_response(StatusCode::CREATED, &PostView::from(&post)))
            };
            idempotency
                .run(
                    &request,
                    IDEMPOTENCY_SCOPE,
                    &author.id,
                    &fingerprint,
                    create,
                )
                .await
        }
        Method::GET => {
            let size = page_size(&request)?;
            let before = single_query(&request, "next")?
                .map(decode_post_cursor)
                .transpose()?;
            let page = store.recent_posts(size, before).await?;
            let posts: Vec<PostView<'_>> = page.items.iter().map(PostView::from).collect();
            let mut response = json_response(StatusCode::OK, &posts);
            if let Some(key) = page.next {
                set_next_link(
                    &mut response,
                    &request,
                    &["limit"],
                    &encode_post_cursor(key),
                );
            }
            Ok(response)
        }
        _ => Err(ApiError::MethodNotAllowed { allow: "GET, POST" }),
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
            ("create-post-missing-title.json", 400),
            ("create-post-author-smuggled.json", 400),
            ("list-posts-no-identity.json", 401),
            ("delete-note.json", 405),
        ];
        for (fixture, expected) in cases {
            let store = UntouchableStore::default();
            let idempotency =
                Idempotency::new(UntouchableStore::default(), notes_http::DEFAULT_WINDOW);
            let response = handle(&store, &idempotency, fixture_request(fixture).unwrap())
                .await
                .unwrap_or_else(ApiError::into_response);
            let (status, body) = status_and_json(&response);
            assert_eq!(status, expected, "{fixture}: {body}");
            assert!(body["message"].is_string(), "{fixture}: {body}");
            assert_eq!(store.calls(), 0, "{fixture} reached the store");
        }
    }
}
