//! A recording proxy in front of a local stand-in (DynamoDB Local, moto's S3, the local Polly),
//! over plain HTTP or TLS with the run's certificate. It records how long each call spent behind
//! it (from the request read to the answer ready), which the benchmark subtracts from an
//! invocation to get the function's own time; and in front of DynamoDB it adds
//! `ReturnConsumedCapacity: TOTAL` to every request and adds up the capacity units in the
//! answers, per operation. The functions under test (ours and the baselines) are measured as
//! they are, without code that asks for capacity or times its calls.
//!
//! The stand-ins check no request signatures, so rewriting a body or the `Host` header is
//! harmless; an answer goes back byte for byte (the SDKs check DynamoDB's CRC32).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

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

    /// Capacity units of the reads (`GetItem`, `Query`, `Scan`, batch gets) and of the rest.
    pub(crate) fn read_write_capacity(&self) -> (f64, f64) {
        self.capacity_units
            .iter()
            .fold((0.0, 0.0), |(read, write), (operation, units)| {
                if matches!(
                    operation.as_str(),
                    "GetItem" | "Query" | "Scan" | "BatchGetItem" | "TransactGetItems"
                ) {
                    (read + units, write)
                } else {
                    (read, write + units)
                }
            })
    }

    pub(crate) fn add(&mut self, other: &Self) {
        for (operation, calls) in &other.calls {
            *self.calls.entry(operation.clone()).or_default() += calls;
        }
        for (operation, units) in &other.capacity_units {
            *self.capacity_units.entry(operation.clone()).or_default() += units;
        }
    }
}

/// What a proxy recorded since it was last asked.
#[derive(Debug, Default, Clone)]
pub(crate) struct Recorded {
    /// DynamoDB operations and their capacity (empty in front of another service).
    pub(crate) usage: Usage,
    /// Time spent behind the proxy, summed over calls.
    pub(crate) busy: Duration,
}

struct Shared {
    /// `http://host:port`, no trailing slash.
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    recorded: Mutex<Recorded>,
}

/// The proxy: point a subject's `AWS_ENDPOINT_URL_<SERVICE>` at [`RecordingProxy::endpoint`].
pub(crate) struct RecordingProxy {
    endpoint: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl RecordingProxy {
    /// A proxy to `upstream` (`http://...`) on a free loopback port, speaking TLS with `tls`.
    pub(crate) async fn start(
        upstream: &str,
        tls: Option<Arc<ServerConfig>>,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let endpoint = format!("{scheme}://{}", listener.local_addr()?);
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client,
            recorded: Mutex::new(Recorded::default()),
        });
        let acceptor = tls.map(TlsAcceptor::from);
        let accepting = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                // Small requests and answers: no Nagle delay on either side of the proxy.
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&accepting);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        forward(Arc::clone(&shared), request)
                    });
                    let http = hyper::server::conn::http1::Builder::new();
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
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
    pub(crate) fn take(&self) -> Recorded {
        self.shared
            .recorded
            .lock()
            .map(|mut recorded| std::mem::take(&mut *recorded))
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for RecordingProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingProxy")
            .field("endpoint", &self.endpoint)
            .field("upstream", &self.shared.upstream)
            .finish()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn bad_gateway(message: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(message.as_bytes())));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

/// Hop-by-hop headers, and the length hyper sets from the (possibly rewritten) body.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "host" | "connection" | "keep-alive" | "transfer-encoding" | "content-length" | "upgrade"
    )
}

async fn forward(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|body| body.to_bytes()) else {
        return Ok(bad_gateway("request body unreadable"));
    };
    // DynamoDB's JSON protocol names the operation in this header; S3 and Polly do not.
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .and_then(|target| target.rsplit('.').next())
        .map(str::to_owned);
    let body = if operation.is_some() {
        Bytes::from(with_capacity_requested(&body))
    } else {
        body
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut upstream = Request::builder()
        .method(parts.method.clone())
        .uri(format!("{}{path}", shared.upstream));
    for (name, value) in &parts.headers {
        if !hop_by_hop(name.as_str()) {
            upstream = upstream.header(name, value);
        }
    }
    let Ok(upstream) = upstream.body(Full::new(body)) else {
        return Ok(bad_gateway("request not forwardable"));
    };
    let Ok(answer) = shared.client.request(upstream).await else {
        return Ok(bad_gateway("upstream unreachable"));
    };
    let (answer_parts, answer_body) = answer.into_parts();
    let Ok(bytes) = answer_body.collect().await.map(|body| body.to_bytes()) else {
        return Ok(bad_gateway("upstream answer unreadable"));
    };
    let busy = started.elapsed();
    let units = consumed_units(&bytes);
    if let Ok(mut recorded) = shared.recorded.lock() {
        recorded.busy += busy;
        if let Some(operation) = operation {
            *recorded.usage.calls.entry(operation.clone()).or_default() += 1;
            *recorded.usage.capacity_units.entry(operation).or_default() += units;
        }
    }
    let mut response = Response::new(Full::new(bytes));
    *response.status_mut() = answer_parts.status;
    for (name, value) in &answer_parts.headers {
        // A HEAD answer's length describes the object, not this empty body: keep it.
        if name.as_str() == "content-length" && parts.method == hyper::Method::HEAD {
            response.headers_mut().insert(name.clone(), value.clone());
        } else if !hop_by_hop(name.as_str()) {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(response)
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
