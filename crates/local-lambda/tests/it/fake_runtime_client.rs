//! A plain HTTP client that plays the function's side of the Lambda Runtime API.
//!
//! Deliberately not `lambda_runtime`: the tests should check the emulator against the protocol
//! as documented, not against one client's tolerance.

use std::net::SocketAddr;

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::header::HeaderMap;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

/// One event as handed out by `GET /invocation/next`.
#[derive(Debug)]
pub(crate) struct NextEvent {
    pub(crate) request_id: String,
    pub(crate) deadline_ms: u128,
    pub(crate) function_arn: String,
    pub(crate) trace_id: String,
    pub(crate) content_type: String,
    pub(crate) payload: serde_json::Value,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct FakeRuntimeClient {
    address: SocketAddr,
}

impl FakeRuntimeClient {
    pub(crate) fn new(address: SocketAddr) -> Self {
        Self { address }
    }

    /// Sends one request on a fresh connection; returns status, headers and body.
    pub(crate) async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<(StatusCode, HeaderMap, Bytes)> {
        let stream = tokio::net::TcpStream::connect(self.address)
            .await
            .with_context(|| format!("connecting to the Runtime API at {}", self.address))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        let request = Request::builder()
            .method(method)
            .uri(format!("/2018-06-01/runtime{path}"))
            .header(hyper::header::HOST, self.address.to_string())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))?;
        let response = sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok((parts.status, parts.headers, body))
    }

    /// `GET /invocation/next`, checking that the required headers are present.
    pub(crate) async fn next(&self) -> anyhow::Result<NextEvent> {
        let (status, headers, body) = self.request(Method::GET, "/invocation/next", None).await?;
        anyhow::ensure!(status == StatusCode::OK, "next answered {status}");
        let header = |name: &str| -> anyhow::Result<String> {
            Ok(headers
                .get(name)
                .with_context(|| format!("missing header {name}"))?
                .to_str()?
                .to_owned())
        };
        Ok(NextEvent {
            request_id: header("Lambda-Runtime-Aws-Request-Id")?,
            deadline_ms: header("Lambda-Runtime-Deadline-Ms")?.parse()?,
            function_arn: header("Lambda-Runtime-Invoked-Function-Arn")?,
            trace_id: header("Lambda-Runtime-Trace-Id")?,
            content_type: header("Content-Type")?,
            payload: serde_json::from_slice(&body)?,
        })
    }

    /// `POST /invocation/{id}/response`; returns the status.
    pub(crate) async fn respond(
        &self,
        request_id: &str,
        response: &serde_json::Value,
    ) -> anyhow::Result<StatusCode> {
        let path = format!("/invocation/{request_id}/response");
        Ok(self.request(Method::POST, &path, Some(response)).await?.0)
    }

    /// `POST /invocation/{id}/error`; returns the status.
    pub(crate) async fn fail(
        &self,
        request_id: &str,
        error_type: &str,
        error_message: &str,
    ) -> anyhow::Result<StatusCode> {
        let path = format!("/invocation/{request_id}/error");
        let body = serde_json::json!({ "errorType": error_type, "errorMessage": error_message });
        Ok(self.request(Method::POST, &path, Some(&body)).await?.0)
    }

    /// `POST /init/error`; returns the status.
    pub(crate) async fn fail_init(
        &self,
        error_type: &str,
        error_message: &str,
    ) -> anyhow::Result<StatusCode> {
        let body = serde_json::json!({ "errorType": error_type, "errorMessage": error_message });
        Ok(self
            .request(Method::POST, "/init/error", Some(&body))
            .await?
            .0)
    }
}
