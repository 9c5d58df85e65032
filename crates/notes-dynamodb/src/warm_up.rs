//! Opening the DynamoDB connection during init (`DYNAMODB_CONNECT_AT_INIT`), so that the TCP and
//! TLS handshakes and the SDK's first-call work (credentials, endpoint rules, signing) are paid
//! before the first request rather than by it.

use aws_sdk_dynamodb::types::AttributeValue;

/// The variable that turns the warm-up on (`true`) or off (`false`); unset means
/// [`CONNECT_AT_INIT_DEFAULT`].
pub const CONNECT_AT_INIT_VARIABLE: &str = "DYNAMODB_CONNECT_AT_INIT";

/// Off unless asked for. `make bench` measures both ways, over TLS to a DynamoDB endpoint on
/// loopback: the warm-up moves the handshake from the first invocation into init but adds a
/// round trip of its own, and since Lambda hands an on-demand sandbox its first event as soon as
/// init ends, nothing overlaps with it and the cold start as the caller sees it (init plus
/// first invocation) does not get shorter (docs/benchmarks.md). Where init happens before any
/// request is waiting (provisioned concurrency), `true` takes the handshake out of the first
/// request's latency.
pub const CONNECT_AT_INIT_DEFAULT: bool = false;

/// An operation the function's role already allows, used to open the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarmUpCall {
    GetItem,
    /// For a function whose role allows no read (`delete`).
    DeleteItem,
}

/// `DYNAMODB_CONNECT_AT_INIT` is neither `true` nor `false`.
#[derive(Debug, thiserror::Error)]
#[error("{CONNECT_AT_INIT_VARIABLE} must be true or false, not {0:?}")]
pub struct InvalidConnectAtInit(String);

/// `DYNAMODB_CONNECT_AT_INIT`'s value (read once, at init, into [`crate::AwsConfig`]).
pub(crate) fn parse_connect_at_init(value: Option<&str>) -> Result<bool, InvalidConnectAtInit> {
    match value.map(str::trim) {
        None | Some("") => Ok(CONNECT_AT_INIT_DEFAULT),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(InvalidConnectAtInit(other.to_owned())),
    }
}

/// When `DYNAMODB_CONNECT_AT_INIT` is on (`config`), sends one request on `table` that DynamoDB refuses
/// before it reads or writes anything: `call` with a key that matches no table's key schema (a
/// `ValidationException`, no capacity consumed, no item touched). The connection it opened
/// stays in the client's pool for the first invocation. Its outcome is irrelevant, and a failure
/// (DynamoDB unreachable) is left for the first real request to report.
pub async fn open_connection_at_init(
    client: &aws_sdk_dynamodb::Client,
    config: &crate::AwsConfig,
    table: &str,
    call: WarmUpCall,
) {
    if !config.connect_at_init {
        return;
    }
    let key = ("connection-warm-up", AttributeValue::S("-".into()));
    // Only whether DynamoDB answered at all matters here, and only to the debug log.
    let refused = match call {
        WarmUpCall::GetItem => client
            .get_item()
            .table_name(table)
            .key(key.0, key.1)
            .send()
            .await
            .is_err(),
        WarmUpCall::DeleteItem => client
            .delete_item()
            .table_name(table)
            .key(key.0, key.1)
            .send()
            .await
            .is_err(),
    };
    tracing::debug!(refused, "DynamoDB connection opened at init");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_is_true_false_or_the_default() {
        let cases = [
            (None, Some(CONNECT_AT_INIT_DEFAULT), "unset"),
            (Some(" "), Some(CONNECT_AT_INIT_DEFAULT), "blank"),
            (Some("true"), Some(true), "true"),
            (Some("false"), Some(false), "false"),
            (Some("yes"), None, "anything else is refused at init"),
            (
                Some("TRUE"),
                None,
                "spelled as the template spells booleans",
            ),
        ];
        for (value, expected, message) in cases {
            assert_eq!(parse_connect_at_init(value).ok(), expected, "{message}");
        }
    }
}
