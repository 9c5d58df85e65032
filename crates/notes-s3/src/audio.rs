//! S3 as the `AudioStore`: complete mp3 objects written in one `PutObject`, a `HeadObject` to
//! find audio to reuse (and its age), and presigned GET URLs; and as the `AudioRemover`: a
//! listing of the note's prefix and one `DeleteObjects` per page of it; and as the
//! `AccountAudioRemover`, the same over the user's prefix.

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use notes_domain::{
    AccountAudioRemover, AudioKey, AudioRemover, AudioStore, NoteId, SpeechError, UserId,
};

use crate::sdk_error::speech_error;

/// Keys listed and deleted per round trip: S3's maximum for both `ListObjectsV2` and
/// `DeleteObjects`. A note has one object per (text, voice, engine) ever dictated, so one page
/// is the common case.
pub const REMOVAL_PAGE_SIZE: i32 = 1000;

/// The audio bucket.
#[derive(Debug, Clone)]
pub struct S3Audio {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Audio {
    /// `force_path_style`: `http://host/bucket/key` URLs, which a loopback endpoint (moto) needs;
    /// real S3 uses virtual-hosted style. A typed setting, read once at init.
    /// `timeouts`: each function's own, to fit its deadline.
    pub fn new(
        sdk: &SdkConfig,
        bucket: String,
        force_path_style: bool,
        timeouts: TimeoutConfig,
    ) -> Self {
        let config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(force_path_style)
            .timeout_config(timeouts)
            .build();
        Self::from_client(aws_sdk_s3::Client::from_conf(config), bucket)
    }

    pub fn from_client(client: aws_sdk_s3::Client, bucket: String) -> Self {
        Self { client, bucket }
    }
}

impl AudioStore for S3Audio {
    async fn stored_at(&self, key: &AudioKey) -> Result<Option<SystemTime>, SpeechError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            // Every S3 object has a LastModified; should one not, it counts as stored just now.
            Ok(head) => Ok(Some(
                head.last_modified
                    .and_then(|time| SystemTime::try_from(time).ok())
                    .unwrap_or_else(SystemTime::now),
            )),
            // A 404 needs s3:ListBucket on the bucket; without it S3 answers 403, an Internal
            // error here, so a missing permission shows as a failure, never as endless Polly calls.
            Err(err) if matches!(err.as_service_error(), Some(HeadObjectError::NotFound(_))) => {
                Ok(None)
            }
            Err(err) => Err(speech_error(err)),
        }
    }

    async fn put(&self, key: &AudioKey, audio: Vec<u8>) -> Result<(), SpeechError> {
        // One PutObject: S3 makes an object visible only once all of it is stored, so a failed or
        // interrupted upload leaves nothing that `exists` could find.
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type("audio/mpeg")
            .body(ByteStream::from(audio))
            .send()
            .await
            .map_err(speech_error)?;
        Ok(())
    }

    async fn presigned_get(&self, key: &AudioKey, ttl: Duration) -> Result<String, SpeechError> {
        let presigning = PresigningConfig::expires_in(ttl).map_err(SpeechError::internal)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(presigning)
            .await
            .map_err(SpeechError::internal)?;
        Ok(request.uri().to_owned())
    }
}

impl AudioRemover for S3Audio {
    async fn remove_note_audio(&self, user: &UserId, note: &NoteId) -> Result<usize, SpeechError> {
        self.remove_prefix(&AudioKey::prefix(user, note)).await
    }
}

impl AccountAudioRemover for S3Audio {
    async fn remove_account_audio(&self, user: &UserId) -> Result<usize, SpeechError> {
        self.remove_prefix(&AudioKey::user_prefix(user)).await
    }
}

impl S3Audio {
    /// Deletes every object under `prefix`, one listing and one `DeleteObjects` per round.
    async fn remove_prefix(&self, prefix: &str) -> Result<usize, SpeechError> {
        let mut removed = 0;
        // Each round lists from the start of the prefix again: what the previous round deleted
        // is gone, so no continuation token is needed, and the loop ends when nothing is left.
        loop {
            let listing = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .max_keys(REMOVAL_PAGE_SIZE)
                .send()
                .await
                .map_err(speech_error)?;
            let objects = listing
                .contents()
                .iter()
                .filter_map(|object| object.key())
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(SpeechError::internal)?;
            if objects.is_empty() {
                return Ok(removed);
            }
            let count = objects.len();
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(SpeechError::internal)?;
            let answer = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(speech_error)?;
            // DeleteObjects answers 200 even when some keys failed; they are listed in Errors.
            if let Some(failed) = answer.errors().first() {
                return Err(SpeechError::internal(format!(
                    "S3 refused to delete {} of {count} audio objects, the first with {}",
                    answer.errors().len(),
                    failed.code().unwrap_or("no error code")
                )));
            }
            removed += count;
            if !listing.is_truncated().unwrap_or(false) {
                return Ok(removed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    use notes_domain::{Engine, NoteId, UserId, Voice};

    fn audio(force_path_style: bool, endpoint: Option<&str>) -> S3Audio {
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            ))
            .force_path_style(force_path_style);
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint);
        }
        S3Audio::from_client(
            aws_sdk_s3::Client::from_conf(config.build()),
            "notes-audio".into(),
        )
    }

    fn key() -> AudioKey {
        AudioKey::new(
            &UserId::parse("alice").unwrap(),
            &NoteId::parse("7").unwrap(),
            "Water the ficus.",
            Voice::parse("Joanna").unwrap(),
            Engine::Neural,
        )
    }

    fn query(url: &str) -> Vec<(String, String)> {
        let (_, query) = url.split_once('?').unwrap();
        query
            .split('&')
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap();
                (name.to_owned(), value.to_owned())
            })
            .collect()
    }

    #[tokio::test]
    async fn a_presigned_url_gets_one_object_for_the_ttl_and_nothing_else() {
        let url = audio(false, None)
            .presigned_get(&key(), Duration::from_secs(900))
            .await
            .unwrap();
        let (base, _) = url.split_once('?').unwrap();
        assert_eq!(
            base,
            format!("https://notes-audio.s3.eu-west-1.amazonaws.com/{}", key())
        );
        let query = query(&url);
        let get = |name: &str| {
            query
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("X-Amz-Expires"), Some("900"));
        assert_eq!(get("X-Amz-Algorithm"), Some("AWS4-HMAC-SHA256"));
        // Only the host is signed besides the path: the URL works from a browser's <audio>
        // without extra headers, and the signature covers this bucket, key and method (GET).
        assert_eq!(get("X-Amz-SignedHeaders"), Some("host"));
        let credential = get("X-Amz-Credential").unwrap();
        assert!(
            credential.contains("eu-west-1%2Fs3%2Faws4_request"),
            "{credential}"
        );
        assert_eq!(get("X-Amz-Signature").map(str::len), Some(64));
        // The secret never appears in the URL.
        assert!(!url.contains("secret"));
    }

    #[tokio::test]
    async fn a_loopback_endpoint_gets_path_style_urls_when_configured() {
        let url = audio(true, Some("http://127.0.0.1:9229"))
            .presigned_get(&key(), Duration::from_secs(60))
            .await
            .unwrap();
        assert!(
            url.starts_with(&format!("http://127.0.0.1:9229/notes-audio/{}?", key())),
            "{url}"
        );
        assert!(url.contains("X-Amz-Expires=60"));
    }

    #[tokio::test]
    async fn a_ttl_over_s3s_limit_is_refused() {
        let too_long = Duration::from_secs(8 * 24 * 3600);
        let result = audio(false, None).presigned_get(&key(), too_long).await;
        assert!(matches!(result, Err(SpeechError::Internal(_))));
    }
}
