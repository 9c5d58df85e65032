//! The `post` function: the board from the Cognito "post" tutorial. `POST /post` stores a post
//! under the next sequential id (no table scan, no collisions: see notes-dynamodb's posts module);
//! `GET /post` lists recent posts, newest first, for any signed-in user.

use notes_domain::{NewPost, PostContents, PostReader, PostTitle, PostWriter, Timestamp};
use notes_http::http::{Method, StatusCode};
use notes_http::{
    ApiError, Body, PostView, Request, Response, caller, decode_post_cursor, encode_post_cursor,
    json_body, json_response, page_size, required_env, single_query,
};
use serde::Deserialize;

/// What the function reads from its environment at init.
#[derive(Debug, Clone)]
pub struct Config {
    pub posts_table: String,
}

impl Config {
    pub fn from_env() -> Result<Self, notes_http::ConfigError> {
        Ok(Self {
            posts_table: required_env("POSTS_TABLE", "the name of the DynamoDB posts table")?,
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

#[derive(Debug, serde::Serialize)]
struct PostsPage<'a> {
    posts: Vec<PostView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

#[tracing::instrument(name = "post", skip_all)]
pub async fn handle<S: PostWriter + PostReader>(
    store: &S,
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
            let post = store
                .create_post(NewPost {
                    title,
                    contents,
                    author,
                    created_at: Timestamp::now(),
                })
                .await?;
            tracing::info!(post_id = post.id.get(), "post created");
            Ok(json_response(StatusCode::CREATED, &PostView::from(&post)))
        }
        Method::GET => {
            let size = page_size(&request)?;
            let before = single_query(&request, "next")?
                .map(decode_post_cursor)
                .transpose()?;
            let page = store.recent_posts(size, before).await?;
            let body = PostsPage {
                posts: page.items.iter().map(PostView::from).collect(),
                next: page.next.map(encode_post_cursor),
            };
            Ok(json_response(StatusCode::OK, &body))
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
