//! The authorizer's answer: an IAM policy for the whole stage and the context the functions read.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Identity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// The response API Gateway expects from a TOKEN authorizer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerResponse {
    pub principal_id: String,
    pub policy_document: PolicyDocument,
    /// Flat string values only: API Gateway passes them to the function as
    /// `requestContext.authorizer.<key>`.
    pub context: BTreeMap<&'static str, String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub action: &'static str,
    pub effect: Effect,
    pub resource: String,
}

impl AuthorizerResponse {
    pub fn new(identity: &Identity, effect: Effect, resource: String) -> Self {
        let mut context = BTreeMap::from([
            ("username", identity.username.clone()),
            ("sub", identity.sub.clone()),
            ("tokenUse", identity.token_use.as_str().to_owned()),
        ]);
        if let Some(email) = &identity.email {
            context.insert("email", email.clone());
        }
        if let Some(scope) = &identity.scope {
            context.insert("scope", scope.clone());
        }
        Self {
            principal_id: identity.sub.clone(),
            policy_document: PolicyDocument {
                version: "2012-10-17",
                statement: vec![Statement {
                    action: "execute-api:Invoke",
                    effect,
                    resource,
                }],
            },
            context,
        }
    }
}

/// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{path}` ->
/// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/*/*`.
///
/// API Gateway caches the policy per token (300 s by default) and reuses it for every route: a
/// policy naming only the route of the first call would answer the next route with a 403.
pub fn stage_resource(method_arn: &str) -> Option<String> {
    let mut parts = method_arn.splitn(6, ':');
    let (
        Some("arn"),
        Some(partition),
        Some("execute-api"),
        Some(region),
        Some(account),
        Some(path),
    ) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    )
    else {
        return None;
    };
    let mut segments = path.split('/');
    let (Some(api_id), Some(stage)) = (segments.next(), segments.next()) else {
        return None;
    };
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !(plain(partition) && plain(region) && plain(account) && plain(api_id) && plain(stage)) {
        return None;
    }
    Some(format!(
        "arn:{partition}:execute-api:{region}:{account}:{api_id}/{stage}/*/*"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenUse;

    #[test]
    fn resource_covers_the_whole_stage() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef123/Prod/GET/notes",
                Some("arn:aws:execute-api:us-east-1:123456789012:abcdef123/Prod/*/*"),
            ),
            (
                "arn:aws:execute-api:eu-west-1:123456789012:abcdef123/dev/DELETE/notes/42",
                Some("arn:aws:execute-api:eu-west-1:123456789012:abcdef123/dev/*/*"),
            ),
            (
                "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/Prod/POST/post",
                Some("arn:aws-cn:execute-api:cn-north-1:123456789012:abc/Prod/*/*"),
            ),
            ("arn:aws:lambda:us-east-1:123456789012:function:f", None),
            ("arn:aws:execute-api:us-east-1:123456789012:abcdef123", None),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/x",
                None,
            ),
            ("", None),
            ("not an arn", None),
        ];
        for (arn, expected) in cases {
            assert_eq!(stage_resource(arn).as_deref(), *expected, "{arn}");
        }
    }

    #[test]
    fn response_shape() {
        let identity = Identity {
            sub: "sub-1".into(),
            username: "alice".into(),
            token_use: TokenUse::Id,
            email: Some("alice@example.com".into()),
            scope: None,
            groups: vec![],
        };
        let response = AuthorizerResponse::new(&identity, Effect::Allow, "arn:x".into());
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["principalId"], "sub-1");
        assert_eq!(json["policyDocument"]["Version"], "2012-10-17");
        assert_eq!(json["policyDocument"]["Statement"][0]["Effect"], "Allow");
        assert_eq!(
            json["policyDocument"]["Statement"][0]["Action"],
            "execute-api:Invoke"
        );
        assert_eq!(json["policyDocument"]["Statement"][0]["Resource"], "arn:x");
        assert_eq!(
            json["context"],
            serde_json::json!({
                "username": "alice", "sub": "sub-1", "tokenUse": "id", "email": "alice@example.com"
            })
        );
    }
}
