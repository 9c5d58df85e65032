//! Who is calling: read from the API Gateway authorizer context and nowhere else. Never from the
//! body, a header or the query, and never a default user. No usable identity is a 401.

use lambda_http::Request;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use notes_domain::{UserId, Username};
use serde_json::Value;

use crate::ApiError;

/// Who is calling: the permanent id that keys everything they own, and the username that is
/// only displayed (a post's author).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: UserId,
    pub username: Username,
}

/// The caller, from whichever authorizer fronts the function:
/// - our TOKEN authorizer (REST API): `principalId` (the Cognito `sub`) and context `username`;
/// - a Cognito user-pool authorizer (REST API): `claims.sub` and `claims["cognito:username"]`;
/// - an HTTP API JWT authorizer: `jwt.claims.sub` and `jwt.claims["cognito:username"]` (ID
///   tokens) or `jwt.claims["username"]` (access tokens).
///
/// The id is the `sub`, never the username: Cognito frees a username when its user is deleted,
/// and a new sign-up under it must not inherit anything. The first source that is present
/// decides: if its id or username is missing, empty or invalid the request is refused, rather
/// than falling through to a weaker source.
pub fn caller(request: &Request) -> Result<Caller, ApiError> {
    let context = request
        .request_context_ref()
        .ok_or(ApiError::Unauthorized)?;
    let authorizer = match context {
        RequestContext::ApiGatewayV1(_) | RequestContext::ApiGatewayV2(_) => context.authorizer(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
    .ok_or(ApiError::Unauthorized)?;

    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
    let (id, username): (Option<String>, Option<String>) =
        if let Some(value) = authorizer.fields.get("username") {
            // lambda_http keeps `principalId` in the context's fields.
            let principal = text(authorizer.fields.get("principalId"));
            let sub = text(authorizer.fields.get("sub"));
            // Our authorizer sets both to the sub; should they ever differ, trust neither.
            let id = match (principal, sub) {
                (Some(principal), Some(sub)) if principal != sub => None,
                (Some(principal), _) => Some(principal),
                (None, sub) => sub,
            };
            (id, text(Some(value)))
        } else if let Some(claims) = authorizer.fields.get("claims") {
            (
                text(claims.get("sub")),
                text(claims.get("cognito:username")),
            )
        } else if let Some(jwt) = &authorizer.jwt {
            (
                jwt.claims.get("sub").cloned(),
                jwt.claims
                    .get("cognito:username")
                    .or_else(|| jwt.claims.get("username"))
                    .cloned(),
            )
        } else {
            (None, None)
        };
    let (Some(id), Some(username)) = (id, username) else {
        return Err(ApiError::Unauthorized);
    };
    Ok(Caller {
        id: UserId::parse(&id).map_err(|_| ApiError::Unauthorized)?,
        username: Username::parse(&username).map_err(|_| ApiError::Unauthorized)?,
    })
}

/// Whether the caller is in `group`, where the request can tell: the claims of an HTTP API JWT
/// authorizer (`cognito:groups`, which API Gateway hands over as the string `[a b]`) or of a
/// Cognito user-pool authorizer. 403 when those claims do not list it. Our TOKEN authorizer
/// has already refused such callers (its context carries no groups), so its requests pass.
pub(crate) fn caller_in_group(request: &Request, group: &str) -> Result<(), ApiError> {
    let Some(authorizer) = request
        .request_context_ref()
        .and_then(|context| context.authorizer())
    else {
        // No authorizer context at all: `caller` answers 401 for it.
        return Ok(());
    };
    let listed: Option<String> = if let Some(jwt) = &authorizer.jwt {
        Some(
            jwt.claims
                .get("cognito:groups")
                .cloned()
                .unwrap_or_default(),
        )
    } else if let Some(claims) = authorizer.fields.get("claims") {
        Some(match claims.get("cognito:groups") {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        })
    } else {
        None
    };
    match listed {
        None => Ok(()),
        Some(groups) => {
            let member = groups
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split([' ', ','])
                .any(|listed| listed.trim() == group);
            if member {
                Ok(())
            } else {
                Err(ApiError::Forbidden(
                    "your account is not in the group this API requires".into(),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rest_event(authorizer: Value) -> Request {
        let mut event = json!({
            "resource": "/notes",
            "path": "/notes",
            "httpMethod": "GET",
            "headers": {},
            "multiValueHeaders": {},
            "queryStringParameters": null,
            "multiValueQueryStringParameters": null,
            "pathParameters": null,
            "stageVariables": null,
            "requestContext": {
                "accountId": "123456789012",
                "resourceId": "abc123",
                "stage": "Prod",
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "identity": {},
                "resourcePath": "/notes",
                "httpMethod": "GET",
                "apiId": "1234567890",
                "path": "/Prod/notes"
            },
            "body": null,
            "isBase64Encoded": false
        });
        if !authorizer.is_null() {
            event["requestContext"]["authorizer"] = authorizer;
        }
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    fn http_api_event(claims: Value) -> Request {
        let event = json!({
            "version": "2.0",
            "routeKey": "GET /notes",
            "rawPath": "/notes",
            "rawQueryString": "",
            "headers": {},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api-id",
                "authorizer": { "jwt": { "claims": claims, "scopes": null } },
                "domainName": "id.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "id",
                "http": { "method": "GET", "path": "/notes", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "agent" },
                "requestId": "id",
                "routeKey": "GET /notes",
                "stage": "$default",
                "time": "12/Mar/2020:19:03:58 +0000",
                "timeEpoch": 1583348638390_i64
            },
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    #[test]
    fn a_required_group_is_checked_where_the_claims_list_groups() {
        let allowed = |request: Request| caller_in_group(&request, "staff").is_ok();
        assert!(allowed(http_api_event(
            json!({"cognito:username": "carol", "cognito:groups": "[admins staff]"})
        )));
        assert!(allowed(http_api_event(
            json!({"cognito:username": "carol", "cognito:groups": "staff"})
        )));
        assert!(!allowed(http_api_event(
            json!({"cognito:username": "carol", "cognito:groups": "[staffers admins]"})
        )));
        assert!(!allowed(http_api_event(
            json!({"cognito:username": "carol"})
        )));
        assert!(allowed(rest_event(
            json!({"claims": {"cognito:username": "bob", "cognito:groups": ["staff"]}})
        )));
        assert!(!allowed(rest_event(
            json!({"claims": {"cognito:username": "bob"}})
        )));
        // Our TOKEN authorizer enforced the group already; its context lists none.
        assert!(allowed(rest_event(
            json!({"principalId": "s", "username": "alice"})
        )));
        let refused = caller_in_group(&http_api_event(json!({"username": "x"})), "staff");
        assert_eq!(refused.map_err(|e| e.status().as_u16()), Err(403));
    }

    #[test]
    fn identity_is_the_sub_and_comes_from_the_authorizer_only() {
        /// The event, the (id, username) expected, and why.
        type Case = (Request, Option<(&'static str, &'static str)>, &'static str);
        let cases: Vec<Case> = vec![
            (
                rest_event(json!({"principalId": "sub-1", "sub": "sub-1", "username": "alice"})),
                Some(("sub-1", "alice")),
                "TOKEN authorizer context",
            ),
            (
                rest_event(json!({"principalId": "sub-1", "username": "alice"})),
                Some(("sub-1", "alice")),
                "TOKEN authorizer: principalId alone",
            ),
            (
                rest_event(json!({"principalId": "sub-1", "sub": "sub-2", "username": "alice"})),
                None,
                "principalId and sub that disagree",
            ),
            (
                rest_event(json!({"claims": {"cognito:username": "bob", "sub": "s"}})),
                Some(("s", "bob")),
                "Cognito user-pool authorizer",
            ),
            (
                http_api_event(json!({"cognito:username": "carol", "sub": "s-3"})),
                Some(("s-3", "carol")),
                "HTTP API JWT authorizer, ID token",
            ),
            (
                http_api_event(json!({"username": "dave", "sub": "s-4", "token_use": "access"})),
                Some(("s-4", "dave")),
                "HTTP API JWT authorizer, access token",
            ),
            (
                http_api_event(json!({"cognito:username": "carol"})),
                None,
                "HTTP API claims without a sub",
            ),
            (
                rest_event(json!({"claims": {"cognito:username": "bob"}})),
                None,
                "user-pool claims without a sub",
            ),
            (rest_event(Value::Null), None, "no authorizer at all"),
            (rest_event(json!({})), None, "empty authorizer context"),
            (
                rest_event(json!({"principalId": "sub-1"})),
                None,
                "principalId without username",
            ),
            (
                rest_event(json!({"username": "alice"})),
                None,
                "username without principalId or sub",
            ),
            (
                rest_event(json!({"principalId": "sub-1", "username": ""})),
                None,
                "empty username",
            ),
            (
                rest_event(json!({"principalId": " ", "username": "alice"})),
                None,
                "blank principalId",
            ),
            (
                rest_event(json!({"principalId": "sub-1", "username": "  "})),
                None,
                "blank username",
            ),
            (
                rest_event(json!({"principalId": "sub-1", "username": 42})),
                None,
                "username of the wrong type",
            ),
            (
                rest_event(
                    json!({"username": "", "claims": {"cognito:username": "bob", "sub": "s"}}),
                ),
                None,
                "an empty first source does not fall through",
            ),
            (
                rest_event(json!({"claims": {"sub": "s"}})),
                None,
                "claims without a username",
            ),
            (http_api_event(json!({})), None, "JWT without claims"),
        ];
        for (request, expected, why) in cases {
            let got = caller(&request).ok();
            let got = got
                .as_ref()
                .map(|caller| (caller.id.as_str(), caller.username.as_str()));
            assert_eq!(got, expected, "{why}");
        }
    }

    #[test]
    fn a_reused_username_is_another_caller() {
        let first = rest_event(json!({"principalId": "sub-old", "username": "carol"}));
        let second = rest_event(json!({"principalId": "sub-new", "username": "carol"}));
        assert_ne!(caller(&first).unwrap().id, caller(&second).unwrap().id);
    }

    #[test]
    fn a_request_without_any_context_is_unauthorized() {
        let request = Request::new(lambda_http::Body::Empty);
        assert!(matches!(caller(&request), Err(ApiError::Unauthorized)));
    }
}
