//! What API Gateway does between a TOKEN authorizer and a function: an Allow policy's
//! `principalId` and context become `requestContext.authorizer` of the proxy event.

use serde_json::{Map, Value};

/// The outcome of running the authorizer on a request, as API Gateway sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizerDecision {
    /// Allow: the `requestContext.authorizer` object to hand to the function.
    Allow(Value),
    /// A valid token refused by policy: API Gateway answers 403.
    Deny,
    /// The authorizer failed with `Unauthorized`: API Gateway answers 401.
    Unauthorized,
}

/// Reads a TOKEN authorizer's response (or its error) the way API Gateway does. Anything but a
/// well-formed Allow for `method_arn` is not an Allow.
pub fn decide(outcome: &local_lambda::Outcome, method_arn: &str) -> AuthorizerDecision {
    let response = match outcome {
        local_lambda::Outcome::Response(response) => response,
        local_lambda::Outcome::Error { .. } => return AuthorizerDecision::Unauthorized,
    };
    let Some(principal) = response.get("principalId").and_then(Value::as_str) else {
        return AuthorizerDecision::Unauthorized;
    };
    let statements = response
        .pointer("/policyDocument/Statement")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let covers = |statement: &Value| {
        statement
            .get("Resource")
            .and_then(Value::as_str)
            .is_some_and(|resource| arn_matches(resource, method_arn))
    };
    let effect_of = |statement: &Value| {
        statement
            .get("Effect")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    // As in IAM, an explicit Deny wins over any Allow.
    if statements
        .iter()
        .any(|s| covers(s) && effect_of(s) == "Deny")
    {
        return AuthorizerDecision::Deny;
    }
    if !statements
        .iter()
        .any(|s| covers(s) && effect_of(s) == "Allow")
    {
        return AuthorizerDecision::Deny;
    }
    let mut context = Map::new();
    if let Some(fields) = response.get("context").and_then(Value::as_object) {
        for (key, value) in fields {
            context.insert(key.clone(), value.clone());
        }
    }
    context.insert("principalId".into(), principal.into());
    AuthorizerDecision::Allow(Value::Object(context))
}

/// IAM-style match of a policy resource (with `*` wildcards) against a method ARN.
pub fn arn_matches(pattern: &str, arn: &str) -> bool {
    fn matches(pattern: &[u8], text: &[u8]) -> bool {
        match (pattern.split_first(), text.split_first()) {
            (None, None) => true,
            (Some((b'*', rest)), _) => {
                matches(rest, text)
                    || (!text.is_empty() && matches(pattern, text.get(1..).unwrap_or_default()))
            }
            (Some((p, prest)), Some((t, trest))) if p == t => matches(prest, trest),
            _ => false,
        }
    }
    matches(pattern.as_bytes(), arn.as_bytes())
}

/// Sets `requestContext.authorizer` of a proxy event.
pub fn with_authorizer_context(mut event: Value, context: Value) -> Value {
    if let Some(request_context) = event
        .get_mut("requestContext")
        .and_then(Value::as_object_mut)
    {
        request_context.insert("authorizer".into(), context);
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abc/Prod/GET/notes";

    fn policy(effect: &str, resource: &str) -> local_lambda::Outcome {
        local_lambda::Outcome::Response(json!({
            "principalId": "sub-1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]},
            "context": {"username": "alice"}
        }))
    }

    #[test]
    fn decisions() {
        let stage = "arn:aws:execute-api:us-east-1:123456789012:abc/Prod/*/*";
        assert_eq!(
            decide(&policy("Allow", stage), ARN),
            AuthorizerDecision::Allow(json!({"username": "alice", "principalId": "sub-1"}))
        );
        assert_eq!(
            decide(&policy("Deny", stage), ARN),
            AuthorizerDecision::Deny
        );
        assert_eq!(
            decide(
                &policy(
                    "Allow",
                    "arn:aws:execute-api:us-east-1:123456789012:abc/Prod/GET/post"
                ),
                ARN
            ),
            AuthorizerDecision::Deny,
            "an Allow for another route is a 403 here"
        );
        let error = local_lambda::Outcome::Error {
            error_type: "Unauthorized".into(),
            error_message: "Unauthorized".into(),
        };
        assert_eq!(decide(&error, ARN), AuthorizerDecision::Unauthorized);
        assert_eq!(
            decide(&local_lambda::Outcome::Response(json!({})), ARN),
            AuthorizerDecision::Unauthorized
        );
    }

    #[test]
    fn wildcards() {
        assert!(arn_matches("a*", "abc"));
        assert!(arn_matches("a/*/*", "a/GET/notes/1"));
        assert!(!arn_matches("a/GET/*", "a/POST/notes"));
        assert!(arn_matches("abc", "abc"));
        assert!(!arn_matches("abc", "abcd"));
    }
}
