//! S3 on loopback: the moto server that `make dev` already runs for Cognito also speaks S3, with
//! working presigned GET URLs (moto checks neither their signature nor their expiry: the dictate
//! crate's unit tests cover those). This module creates the audio bucket in it.

use std::time::Duration;

use crate::DevkitError;

/// The audio bucket of `make dev` and the tests (a deployed stack names its own).
pub const LOCAL_AUDIO_BUCKET: &str = "notes-audio";

/// What the dictate function needs to use moto's S3 at `endpoint` for `bucket`: path-style
/// addressing, since a loopback endpoint has no per-bucket host names.
pub fn audio_env(endpoint: &str, bucket: &str) -> Vec<(String, String)> {
    vec![
        ("AWS_ENDPOINT_URL_S3".into(), endpoint.to_owned()),
        ("AUDIO_BUCKET".into(), bucket.to_owned()),
        ("S3_FORCE_PATH_STYLE".into(), "true".into()),
    ]
}

/// Creates `bucket` in moto's S3 at `endpoint` unless it exists (idempotent: moto forgets its
/// state on restart, so `make dev` ensures it at every start).
pub fn ensure_bucket(endpoint: &str, bucket: &str) -> Result<(), DevkitError> {
    let problem = |problem: String| DevkitError::LocalS3Bucket {
        endpoint: endpoint.to_owned(),
        bucket: bucket.to_owned(),
        problem,
    };
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("{}/{bucket}", endpoint.trim_end_matches('/'));
    let response = agent
        .put(&url)
        .send_empty()
        .map_err(|e| problem(format!("no answer: {e}")))?;
    let status = response.status().as_u16();
    let mut response = response;
    let body = response.body_mut().read_to_string().unwrap_or_default();
    // An existing bucket of ours answers 409 BucketAlreadyOwnedByYou in most regions.
    if (200..300).contains(&status) || body.contains("BucketAlreadyOwnedByYou") {
        Ok(())
    } else {
        Err(problem(format!("HTTP {status}: {}", body.trim())))
    }
}
