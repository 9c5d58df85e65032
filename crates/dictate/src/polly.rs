//! Amazon Polly as the `SpeechSynthesizer`: one `SynthesizeSpeech` call per piece of a note,
//! plain text to mp3.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_polly::operation::synthesize_speech::SynthesizeSpeechError;
use aws_sdk_polly::types::{OutputFormat, TextType, VoiceId};
use notes_domain::{Engine, SpeechError, SpeechSynthesizer, Voice};

use notes_s3::speech_error;

/// Polly takes seconds for a piece of 3,000 characters (more with the neural engine); an attempt
/// that has not answered in 10 s is stuck.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// All attempts of one piece, backoff included: within the function's dictation deadline.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(15);

/// Polly through the function's one SDK configuration, with timeouts for speech.
#[derive(Debug, Clone)]
pub struct PollySynthesizer {
    client: aws_sdk_polly::Client,
}

impl PollySynthesizer {
    pub fn new(sdk: &SdkConfig) -> Self {
        let config = aws_sdk_polly::config::Builder::from(sdk)
            .timeout_config(notes_dynamodb::timeouts_for(
                ATTEMPT_TIMEOUT,
                OPERATION_TIMEOUT,
            ))
            .build();
        Self {
            client: aws_sdk_polly::Client::from_conf(config),
        }
    }
}

impl SpeechSynthesizer for PollySynthesizer {
    async fn synthesize(
        &self,
        text: &str,
        voice: Voice,
        engine: Engine,
    ) -> Result<Vec<u8>, SpeechError> {
        let output = self
            .client
            .synthesize_speech()
            .text(text)
            .text_type(TextType::Text)
            .voice_id(VoiceId::from(voice.id()))
            .engine(aws_sdk_polly::types::Engine::from(engine.as_str()))
            .output_format(OutputFormat::Mp3)
            .send()
            .await
            .map_err(|err| match err.as_service_error().and_then(rejection) {
                Some(reason) => SpeechError::Rejected(reason),
                None => speech_error(err),
            })?;
        let audio = output
            .audio_stream
            .collect()
            .await
            .map_err(SpeechError::unavailable)?;
        Ok(audio.into_bytes().to_vec())
    }
}

/// Polly's refusals of this request (not faults): a 400 with a reason for the caller. Never the
/// service's own message, which may quote the text.
fn rejection(err: &SynthesizeSpeechError) -> Option<String> {
    let reason = match err {
        SynthesizeSpeechError::EngineNotSupportedException(_) => {
            "Amazon Polly does not offer this voice with the configured engine"
        }
        SynthesizeSpeechError::LanguageNotSupportedException(_) => {
            "Amazon Polly does not support this voice's language here"
        }
        SynthesizeSpeechError::TextLengthExceededException(_) => {
            "the note is longer than Amazon Polly reads in one request"
        }
        SynthesizeSpeechError::InvalidSsmlException(_) => "Amazon Polly could not read the note",
        _ => {
            // A voice Polly does not have (retired, or not in this region) is a plain
            // ValidationException.
            if aws_sdk_polly::error::ProvideErrorMetadata::code(err) == Some("ValidationException")
            {
                "Amazon Polly refused the voice or the text: the voices are listed at \
                 https://docs.aws.amazon.com/polly/latest/dg/available-voices.html"
            } else {
                return None;
            }
        }
    };
    Some(reason.to_owned())
}
