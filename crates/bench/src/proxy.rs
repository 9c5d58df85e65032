//! A recording proxy in front of DynamoDB Local: it adds `ReturnConsumedCapacity: TOTAL` to every
//! request and adds up the capacity units in the answers, per operation. The functions under test
//! (ours and the baselines) are measured as they are, without code that asks for capacity.
//!
//! DynamoDB Local does not check request signatures, so rewriting the body is harmless; the
//! answer goes back byte for byte (the SDKs check its CRC32).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Calls and capacity units per DynamoDB operation (`PutItem`, `Scan`, ...).
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Usage {
    pub(crate) calls: BTreeMap<String, u64>,
    pub(crate) capacity_units: BTreeMap<String, f64>,
}

impl Usage {
    pub(crate) fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }

    pub(crate) fn total_capacity(&self) -> f64 {
        self.capacity_units.values().sum()
    }
}

struct Shared {
    upstream: String,
    usage: Mutex<Usage>,
    agent: ureq::Agent,
}

/// The proxy: point a function's `AWS_ENDPOINT_URL_DYNAMODB` at [`CapacityProxy::endpoint`].
pub(crate) struct CapacityProxy {
    endpoint: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl CapacityProxy {
    pub(crate) async fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            usage: Mutex::new(Usage::default()),
            agent,
        });
        let app = Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            endpoint,
            shared,
            task,
        })
    }

    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// What was recorded since the last call, and a fresh start.
    pub(crate) fn take(&self) -> Usage {
        self.shared
            .usage
            .lock()
            .map(|mut usage| std::mem::take(&mut *usage))
            .unwrap_or_default()
    }
}

impl Drop for CapacityProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let operation = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .and_then(|target| target.rsplit('.').next())
        .unwrap_or("unknown")
        .to_owned();
    let body = with_capacity_requested(&body);
    let upstream = Arc::clone(&shared);
    let result = tokio::task::spawn_blocking(move || {
        let mut request = upstream.agent.post(&upstream.upstream);
        for (name, value) in &headers {
            if matches!(name.as_str(), "host" | "content-length" | "connection") {
                continue;
            }
            if let Ok(value) = value.to_str() {
                request = request.header(name.as_str(), value);
            }
        }
        let mut response = request.send(&body[..]).map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let bytes = response
            .body_mut()
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((status, headers, bytes))
    })
    .await;
    let Ok(Ok((status, response_headers, bytes))) = result else {
        return (StatusCode::BAD_GATEWAY, "DynamoDB Local unreachable").into_response();
    };
    let units = consumed_units(&bytes);
    if let Ok(mut usage) = shared.usage.lock() {
        *usage.calls.entry(operation.clone()).or_default() += 1;
        *usage.capacity_units.entry(operation).or_default() += units;
    }
    let mut response = Response::new(axum::body::Body::from(bytes));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (name, value) in response_headers {
        if matches!(
            name.as_str(),
            "content-length" | "connection" | "transfer-encoding"
        ) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The request with `ReturnConsumedCapacity: TOTAL`, unless it already asks for capacity.
fn with_capacity_requested(body: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut request)) => {
            request
                .entry("ReturnConsumedCapacity")
                .or_insert_with(|| Value::from("TOTAL"));
            serde_json::to_vec(&request).unwrap_or_else(|_| body.to_vec())
        }
        _ => body.to_vec(),
    }
}

/// `ConsumedCapacity.CapacityUnits`, or their sum when it is a list (batch operations).
fn consumed_units(body: &[u8]) -> f64 {
    let Ok(answer) = serde_json::from_slice::<Value>(body) else {
        return 0.0;
    };
    let units = |c: &Value| {
        c.get("CapacityUnits")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    };
    match answer.get("ConsumedCapacity") {
        Some(Value::Array(list)) => list.iter().map(units).sum(),
        Some(capacity @ Value::Object(_)) => units(capacity),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_for_capacity_and_reads_it_back() {
        let rewritten = with_capacity_requested(br#"{"TableName":"t"}"#);
        let request: Value = serde_json::from_slice(&rewritten).unwrap_or_default();
        assert_eq!(request["ReturnConsumedCapacity"], "TOTAL");
        let kept = with_capacity_requested(br#"{"ReturnConsumedCapacity":"INDEXES"}"#);
        assert_eq!(kept, br#"{"ReturnConsumedCapacity":"INDEXES"}"#.to_vec());
        assert!(
            (consumed_units(br#"{"ConsumedCapacity":{"CapacityUnits":2.5}}"#) - 2.5).abs() < 1e-9
        );
        assert!(
            (consumed_units(br#"{"ConsumedCapacity":[{"CapacityUnits":1},{"CapacityUnits":2}]}"#)
                - 3.0)
                .abs()
                < 1e-9
        );
        assert!(consumed_units(b"not json").abs() < 1e-9);
    }
}
