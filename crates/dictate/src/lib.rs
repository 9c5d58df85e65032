//! The `dictate` function: `POST /notes/{id}` with `{"VoiceId": "Joanna"}` answers a JSON string,
//! a presigned GET URL of an mp3 of the caller's note read aloud by Amazon Polly. The audio is
//! kept in S3 per user, note, text, voice and engine (notes-s3), so asking again only presigns (Polly
//! bills per character) and an edited note gets new audio. Its own function so that only it
//! holds Polly and S3 permissions, and only `dynamodb:GetItem` on the notes.

pub mod polly;

use std::time::{Duration, SystemTime};

use notes_domain::{
    AudioKey, AudioStore, Engine, MAX_CHARS_PER_SYNTHESIS, NoteId, NoteReader, SpeechBudget,
    SpeechError, SpeechSynthesizer, StoreError, Timestamp, Voice, split_for_synthesis,
};
use notes_http::http::{Method, StatusCode};
use notes_http::{
    ApiError, Body, ConfigError, Request, Response, caller, json_body, json_response, optional_env,
    path_parameter, required_env,
};
use serde::Deserialize;

/// Days the bucket keeps audio unless `AUDIO_RETENTION_DAYS` says otherwise (template.yaml's
/// `AudioRetentionDays` sets both the lifecycle rule and this).
pub const DEFAULT_RETENTION_DAYS: u32 = 7;
/// How long before the bucket's lifecycle rule may delete audio it is no longer reused: a URL
/// handed out must not outlive its object. S3 expires objects at the first midnight UTC at least
/// `AUDIO_RETENTION_DAYS` after they were written, so reuse stops `url_ttl` plus this margin
/// before that.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(3600);
/// How long a presigned URL is valid unless `DICTATE_URL_TTL_SECONDS` says otherwise.
pub const DEFAULT_URL_TTL: Duration = Duration::from_secs(900);
/// The longest URL lifetime accepted: a URL signed with the function's temporary role
/// credentials stops working when they expire anyway, so a longer one would only mislead.
pub const MAX_URL_TTL: Duration = Duration::from_secs(3600);
/// The voice of a request that names none (the labs' client sends `"VoiceId": ""` until one is
/// picked), unless `DEFAULT_VOICE_ID` says otherwise.
pub const DEFAULT_VOICE: &str = "Joanna";
/// The whole dictation (note read, reuse check, every synthesis, the upload, the presign) must
/// finish within this, or the caller gets a 503: below the function's 26 s timeout
/// (template.yaml), so a slow dependency is answered by our code and never by a Lambda timeout.
pub const DICTATION_DEADLINE: Duration = Duration::from_secs(22);
/// One attempt of an S3 call (a PUT of a few MB from inside AWS takes well under a second):
/// five seconds leave room.
pub const S3_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// All attempts of one S3 call together, within the dictation deadline.
pub const S3_OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
/// The most audio one note may produce. A 10,000-character note reads for about 12 minutes,
/// 3-4 MB of Polly's mp3 at 24 kHz; audio is held in memory whole until the one upload that makes
/// it visible (never a partial object), so this bounds the function's memory (256 MB).
pub const MAX_AUDIO_BYTES: usize = 32 * 1024 * 1024;

/// `DAILY_SPEECH_CHARACTERS_PER_USER` when unset: about two hours of speech, ten notes of the
/// longest kind, $1.60 a day at Polly's neural list price.
pub const DEFAULT_DAILY_SPEECH_CHARACTERS: u32 = 100_000;

/// Everything the function reads from its environment, read once, in `main`, at init.
#[derive(Debug, Clone)]
pub struct Config {
    pub notes_table: String,
    /// Where each user's characters of speech per day are counted (`USAGE_TABLE`).
    pub usage_table: String,
    /// Characters of new speech one user may have synthesized per UTC day
    /// (`DAILY_SPEECH_CHARACTERS_PER_USER`, template parameter `DailySpeechCharactersPerUser`).
    pub daily_speech_characters: u32,
    pub audio_bucket: String,
    pub url_ttl: Duration,
    /// How long the bucket keeps audio (its lifecycle rule).
    pub retention: Duration,
    /// The preferred engine (`POLLY_ENGINE`: neural or standard); voices without it use the other.
    pub engine: Engine,
    pub default_voice: Voice,
    /// Path-style S3 URLs (`http://host/bucket/key`), which a loopback endpoint such as moto
    /// needs; real S3 wants virtual-hosted style (the default).
    pub s3_force_path_style: bool,
    /// How the function logs (`AWS_LAMBDA_LOG_LEVEL`, `AWS_LAMBDA_LOG_FORMAT`, `RUST_LOG`).
    pub log: notes_http::LogConfig,
    /// The shared edge: CORS (`ALLOWED_ORIGINS`) and the required group (`REQUIRED_GROUP`).
    pub http: notes_http::HttpConfig,
    /// How its AWS clients are built: endpoint overrides, `DYNAMODB_CONNECT_AT_INIT`.
    pub aws: notes_dynamodb::AwsConfig,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let url_ttl = match optional_env("DICTATE_URL_TTL_SECONDS")? {
            None => DEFAULT_URL_TTL,
            Some(value) => parse_ttl(&value).map_err(|reason| ConfigError::Invalid {
                name: "DICTATE_URL_TTL_SECONDS",
                reason,
            })?,
        };
        let engine = match optional_env("POLLY_ENGINE")? {
            None => Engine::Neural,
            Some(value) => Engine::parse(&value).map_err(|e| ConfigError::Invalid {
                name: "POLLY_ENGINE",
                reason: e.to_string(),
            })?,
        };
        let default_voice = optional_env("DEFAULT_VOICE_ID")?;
        let default_voice = Voice::parse(default_voice.as_deref().unwrap_or(DEFAULT_VOICE))
            .map_err(|e| ConfigError::Invalid {
                name: "DEFAULT_VOICE_ID",
                reason: e.to_string(),
            })?;
        let retention_days = match optional_env("AUDIO_RETENTION_DAYS")? {
            None => DEFAULT_RETENTION_DAYS,
            Some(value) => value
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|days| (1..=3650).contains(days))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "AUDIO_RETENTION_DAYS",
                    reason: "must be a whole number of days from 1 to 3650".into(),
                })?,
        };
        let s3_force_path_style = notes_http::flag_env("S3_FORCE_PATH_STYLE")?;
        Ok(Self {
            notes_table: required_env("NOTES_TABLE", "the name of the DynamoDB notes table")?,
            usage_table: required_env(
                "USAGE_TABLE",
                "the name of the DynamoDB table of per-user counters",
            )?,
            daily_speech_characters: notes_http::number_env(
                "DAILY_SPEECH_CHARACTERS_PER_USER",
                DEFAULT_DAILY_SPEECH_CHARACTERS,
                1,
                100_000_000,
            )?,
            audio_bucket: required_env(
                "AUDIO_BUCKET",
                "the name of the S3 bucket that keeps dictated audio",
            )?,
            url_ttl,
            retention: Duration::from_secs(u64::from(retention_days) * 86_400),
            engine,
            default_voice,
            s3_force_path_style,
            log: notes_http::LogConfig::from_env(),
            http: notes_http::HttpConfig::from_env()?,
            aws: notes_dynamodb::AwsConfig::from_env(&["DYNAMODB", "POLLY", "S3"]).map_err(
                |e| notes_http::ConfigError::invalid(notes_dynamodb::CONNECT_AT_INIT_VARIABLE, e),
            )?,
        })
    }
}

fn parse_ttl(value: &str) -> Result<Duration, String> {
    let seconds: u64 = value
        .trim()
        .parse()
        .map_err(|_| format!("must be a whole number of seconds, not {value:?}"))?;
    let ttl = Duration::from_secs(seconds);
    if ttl < Duration::from_secs(1) || ttl > MAX_URL_TTL {
        return Err(format!(
            "must be between 1 and {} seconds",
            MAX_URL_TTL.as_secs()
        ));
    }
    Ok(ttl)
}

/// The request body: the labs' `{"VoiceId": "Joey"}`, where `""` or no `VoiceId` means the
/// default voice. Other fields are ignored, as the labs' client sends nothing else; `null` is
/// refused as API Gateway's model (a string) refuses it.
#[derive(Debug, Deserialize)]
struct DictateRequest {
    #[serde(rename = "VoiceId", default, deserialize_with = "some_string")]
    voice_id: Option<String>,
}

fn some_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// The function's dependencies and settings, built once at init.
#[derive(Debug)]
pub struct Dictation<N, S, A, B> {
    pub notes: N,
    pub speech: S,
    pub audio: A,
    /// Each user's characters of speech per UTC day, taken before Polly is called.
    pub budget: B,
    pub url_ttl: Duration,
    pub retention: Duration,
    pub engine: Engine,
    pub default_voice: Voice,
    pub deadline: Duration,
}

/// Whether audio stored at `stored` is still there when a URL presigned `now` expires, with
/// [`EXPIRY_MARGIN`] to spare. Older audio is synthesized again (and so stored anew).
fn outlives_the_url<N, S, A, B>(
    stored: SystemTime,
    now: SystemTime,
    service: &Dictation<N, S, A, B>,
) -> bool {
    let age = now.duration_since(stored).unwrap_or_default();
    age + service.url_ttl + EXPIRY_MARGIN < service.retention
}

/// What one dictation did, for the log line (never the text, never the URL).
#[derive(Debug)]
struct Outcome {
    url: String,
    voice: Voice,
    engine: Engine,
    characters: usize,
    pieces: usize,
    audio_bytes: usize,
    reused: bool,
}

#[tracing::instrument(name = "dictate", skip_all)]
pub async fn handle<N: NoteReader, S: SpeechSynthesizer, A: AudioStore, B: SpeechBudget>(
    service: &Dictation<N, S, A, B>,
    request: Request,
) -> Result<Response<Body>, ApiError> {
    let user = caller(&request)?.id;
    if request.method() != Method::POST {
        return Err(ApiError::MethodNotAllowed { allow: "POST" });
    }
    let id = path_parameter(&request, "id")
        .ok_or_else(|| ApiError::BadRequest("the note id is missing from the path".into()))?;
    let id = NoteId::parse(id)?;
    let body: DictateRequest = json_body(&request)?;
    let voice = match body.voice_id.as_deref().map(str::trim) {
        None | Some("") => service.default_voice,
        Some(name) => Voice::parse(name)?,
    };
    let work = dictate(service, &user, &id, voice);
    let outcome = match tokio::time::timeout(service.deadline, work).await {
        Ok(outcome) => outcome?,
        Err(elapsed) => return Err(ApiError::Unavailable(Box::new(elapsed))),
    };
    tracing::info!(
        note_id = %id,
        voice = %outcome.voice,
        engine = %outcome.engine,
        characters = outcome.characters,
        pieces = outcome.pieces,
        audio_bytes = outcome.audio_bytes,
        reused = outcome.reused,
        "dictated"
    );
    Ok(json_response(StatusCode::OK, &outcome.url))
}

async fn dictate<N: NoteReader, S: SpeechSynthesizer, A: AudioStore, B: SpeechBudget>(
    service: &Dictation<N, S, A, B>,
    user: &notes_domain::UserId,
    id: &NoteId,
    voice: Voice,
) -> Result<Outcome, ApiError> {
    let note = match service.notes.get_note(user, id).await {
        Ok(note) => note,
        Err(StoreError::NotFound) => {
            return Err(ApiError::NotFound(format!(
                "you have no note with NoteId {id}"
            )));
        }
        Err(err) => return Err(err.into()),
    };
    let engine = voice.engine(service.engine);
    let text = note.text.as_str();
    // Keyed by the text, not the version: new text never plays old audio, the same text reuses it.
    let key = AudioKey::new(user, id, text, voice, engine);
    let characters = text.chars().count();
    let reused = match service.audio.stored_at(&key).await? {
        Some(stored) => outlives_the_url(stored, SystemTime::now(), service),
        None => false,
    };
    let (mut pieces, mut audio_bytes) = (0, 0);
    if !reused {
        // Reused audio costs nothing; new audio is paid for from the day's budget before Polly
        // is called, and given back if it is not stored in the end.
        let now = Timestamp::now();
        let billed = u32::try_from(characters).unwrap_or(u32::MAX);
        service.budget.spend(user, billed, now).await?;
        match synthesize_and_store(service, &key, text, voice, engine).await {
            Ok((stored_pieces, stored_bytes)) => {
                (pieces, audio_bytes) = (stored_pieces, stored_bytes)
            }
            Err(err) => {
                service.budget.refund(user, billed, now).await;
                return Err(err);
            }
        }
    }
    let url = service.audio.presigned_get(&key, service.url_ttl).await?;
    Ok(Outcome {
        url,
        voice,
        engine,
        characters,
        pieces,
        audio_bytes,
        reused,
    })
}

/// Every piece of `text` read by Polly in order, the MPEG frames appended, and the whole stored
/// under `key` in one write. Returns the number of pieces and bytes.
async fn synthesize_and_store<N, S: SpeechSynthesizer, A: AudioStore, B>(
    service: &Dictation<N, S, A, B>,
    key: &AudioKey,
    text: &str,
    voice: Voice,
    engine: Engine,
) -> Result<(usize, usize), ApiError> {
    // Pieces are read in order and their MPEG frames appended: concatenated mp3 streams play
    // as one. Nothing is stored until all of it is there, so no request can ever find and reuse
    // partial audio.
    let mut audio = Vec::new();
    let mut pieces = 0;
    for piece in split_for_synthesis(text, MAX_CHARS_PER_SYNTHESIS) {
        let bytes = service.speech.synthesize(piece, voice, engine).await?;
        if audio.len() + bytes.len() > MAX_AUDIO_BYTES {
            return Err(SpeechError::internal(format!(
                "audio of one note is over the {MAX_AUDIO_BYTES} byte cap"
            ))
            .into());
        }
        audio.extend_from_slice(&bytes);
        pieces += 1;
    }
    if audio.is_empty() {
        return Err(SpeechError::internal("the speech service returned no audio").into());
    }
    let bytes = audio.len();
    service.audio.put(key, audio).await?;
    Ok((pieces, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notes_domain::testing::UntouchableStore;
    use notes_http::fixtures::{fixture_request, status_and_json};

    /// Speech and audio that must never be reached.
    #[derive(Debug, Default)]
    struct Untouchable;

    impl SpeechSynthesizer for Untouchable {
        async fn synthesize(&self, _: &str, _: Voice, _: Engine) -> Result<Vec<u8>, SpeechError> {
            Err(SpeechError::internal("speech reached"))
        }
    }

    impl SpeechBudget for Untouchable {
        async fn spend(
            &self,
            _: &notes_domain::UserId,
            _: u32,
            _: Timestamp,
        ) -> Result<(), SpeechError> {
            Err(SpeechError::internal("budget reached"))
        }
        async fn refund(&self, _: &notes_domain::UserId, _: u32, _: Timestamp) {}
    }

    impl AudioStore for Untouchable {
        async fn stored_at(&self, _: &AudioKey) -> Result<Option<SystemTime>, SpeechError> {
            Err(SpeechError::internal("audio reached"))
        }
        async fn put(&self, _: &AudioKey, _: Vec<u8>) -> Result<(), SpeechError> {
            Err(SpeechError::internal("audio reached"))
        }
        async fn presigned_get(&self, _: &AudioKey, _: Duration) -> Result<String, SpeechError> {
            Err(SpeechError::internal("audio reached"))
        }
    }

    #[tokio::test]
    async fn rejected_fixtures_reach_nothing() {
        let cases = [
            (
                "dictate-note-unknown-voice.json",
                400,
                Some(notes_domain::VOICES_URL),
            ),
            ("dictate-note-bad-id.json", 400, None),
            ("list-notes-no-identity.json", 401, None),
            ("get-note.json", 405, None),
        ];
        for (fixture, expected, mentions) in cases {
            let service = Dictation {
                notes: UntouchableStore::default(),
                speech: Untouchable,
                audio: Untouchable,
                budget: Untouchable,
                url_ttl: DEFAULT_URL_TTL,
                retention: Duration::from_secs(7 * 86_400),
                engine: Engine::Neural,
                default_voice: Voice::parse(DEFAULT_VOICE).unwrap(),
                deadline: DICTATION_DEADLINE,
            };
            let response = handle(&service, fixture_request(fixture).unwrap())
                .await
                .unwrap_or_else(ApiError::into_response);
            let (status, body) = status_and_json(&response);
            assert_eq!(status, expected, "{fixture}: {body}");
            let message = body["message"].as_str().unwrap();
            if let Some(text) = mentions {
                assert!(message.contains(text), "{fixture}: {message}");
            }
            assert_eq!(service.notes.calls(), 0, "{fixture} reached the store");
        }
    }

    #[test]
    fn audio_is_reused_only_while_it_outlives_the_url_it_is_handed_out_with() {
        let service = Dictation {
            notes: UntouchableStore::default(),
            speech: Untouchable,
            audio: Untouchable,
            budget: Untouchable,
            url_ttl: Duration::from_secs(900),
            retention: Duration::from_secs(86_400),
            engine: Engine::Neural,
            default_voice: Voice::parse(DEFAULT_VOICE).unwrap(),
            deadline: DICTATION_DEADLINE,
        };
        let now = SystemTime::now();
        let hours = |h: u64| now - Duration::from_secs(h * 3600);
        assert!(outlives_the_url(now, now, &service));
        assert!(outlives_the_url(hours(22), now, &service));
        assert!(
            !outlives_the_url(hours(23), now, &service),
            "within ttl + margin of expiry"
        );
        assert!(!outlives_the_url(hours(30), now, &service));
        // A clock behind S3's counts the audio as new.
        assert!(outlives_the_url(
            now + Duration::from_secs(60),
            now,
            &service
        ));
    }

    #[test]
    fn url_ttl_must_be_whole_seconds_within_the_credentials_lifetime() {
        assert_eq!(parse_ttl("900"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_ttl("3600"), Ok(MAX_URL_TTL));
        for bad in ["0", "3601", "-5", "15m", ""] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
