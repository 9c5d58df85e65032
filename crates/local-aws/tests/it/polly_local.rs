//! The local Polly against the real espeak-ng and lame, driven over plain HTTP the way the SDK's
//! restJson1 client speaks to Polly, with the audio checked by the devkit's mp3 inspector.

use std::collections::BTreeMap;
use std::time::Duration;

use local_aws::mp3::{self, Mp3Info};
use local_aws::polly_local::PollyLocal;
use notes_domain::{Engine, MAX_CHARS_PER_SYNTHESIS, Voice};
use serde_json::{Value, json};

const SENTENCE: &str = "Remember to buy milk, eggs and bread on the way home.";

/// The server runs on this runtime's workers while the test thread makes blocking requests.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        // Polly's errors are JSON bodies with a 4xx/5xx status: read them, do not fail on them.
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .new_agent()
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn audio(&self) -> Mp3Info {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(self.header("content-type"), Some("audio/mpeg"));
        mp3::inspect(&self.body).unwrap()
    }
}

fn post(agent: &ureq::Agent, endpoint: &str, request: &Value) -> Result<Answer, ureq::Error> {
    let mut response = agent
        .post(format!("{endpoint}/v1/speech"))
        .header("content-type", "application/json")
        .send(request.to_string())?;
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()?;
    Ok(Answer {
        status: response.status().as_u16(),
        headers,
        body,
    })
}

fn speak(endpoint: &str, request: &Value) -> Answer {
    post(&agent(), endpoint, request).unwrap()
}

fn stats(endpoint: &str) -> Value {
    let mut response = agent()
        .get(format!("{endpoint}/_local/stats"))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

fn request(voice: &str, text: &str) -> Value {
    json!({ "Text": text, "VoiceId": voice, "OutputFormat": "mp3", "Engine": "standard" })
}

#[test]
fn speech_is_real_mp3_that_plays_longer_for_longer_text_and_is_counted() {
    let runtime = runtime();
    let polly = runtime.block_on(PollyLocal::start(None)).unwrap();
    let endpoint = polly.endpoint();
    assert_eq!(endpoint, format!("http://127.0.0.1:{}", polly.port()));

    let short = speak(&endpoint, &request("Joanna", SENTENCE));
    let short_audio = short.audio();
    let characters = SENTENCE.chars().count();
    assert_eq!(
        short.header("x-amzn-RequestCharacters"),
        Some(characters.to_string().as_str())
    );
    assert!(
        short
            .header("x-amzn-RequestId")
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(short_audio.sample_rate, 22_050, "Polly's standard mp3 rate");
    assert!(
        short_audio.duration > Duration::from_secs(1),
        "{short_audio:?}"
    );

    let long_text = [SENTENCE; 5].join(" ");
    let long_audio = speak(&endpoint, &request("Joanna", &long_text)).audio();
    assert!(
        long_audio.duration > short_audio.duration * 4,
        "{long_audio:?} against {short_audio:?}"
    );

    // British English, and the neural engine's default rate.
    let amy =
        json!({ "Text": SENTENCE, "VoiceId": "Amy", "OutputFormat": "mp3", "Engine": "neural" });
    let amy_audio = speak(&endpoint, &amy).audio();
    assert_eq!(amy_audio.sample_rate, 24_000);
    assert!(amy_audio.duration > Duration::from_secs(1));

    // Two answers concatenated are one stream: how the dictate function stores a long note.
    let first = speak(&endpoint, &request("Joanna", "First part.")).body;
    let second = speak(&endpoint, &request("Joanna", "Second part.")).body;
    let both = mp3::inspect(&[first.clone(), second.clone()].concat()).unwrap();
    let (first, second) = (
        mp3::inspect(&first).unwrap(),
        mp3::inspect(&second).unwrap(),
    );
    assert_eq!(both.frames, first.frames + second.frames);
    assert_eq!(both.duration, first.duration + second.duration);

    let expected_characters =
        characters * 2 + long_text.chars().count() + "First part.".len() + "Second part.".len();
    assert_eq!(polly.synthesis_count(), 5);
    assert_eq!(polly.characters(), expected_characters);
    assert_eq!(
        stats(&endpoint),
        json!({ "syntheses": 5, "characters": expected_characters })
    );
}

#[test]
fn refusals_carry_the_error_codes_the_sdk_reads_and_are_not_counted() {
    let runtime = runtime();
    let polly = runtime.block_on(PollyLocal::start(None)).unwrap();
    let endpoint = polly.endpoint();
    let too_long = "a".repeat(MAX_CHARS_PER_SYNTHESIS + 1);
    let cases = [
        (
            request("Bob", SENTENCE),
            400,
            "ValidationException",
            "an unknown voice",
        ),
        (
            request("Joanna", &too_long),
            400,
            "TextLengthExceededException",
            "3001 characters",
        ),
        (
            json!({ "Text": SENTENCE, "VoiceId": "Joanna", "OutputFormat": "ogg_vorbis" }),
            400,
            "ValidationException",
            "a format other than mp3",
        ),
        (
            json!({ "Text": "<speak>Hi</speak>", "VoiceId": "Joanna", "OutputFormat": "mp3", "TextType": "ssml" }),
            400,
            "ValidationException",
            "SSML",
        ),
        (
            request("Joanna", ""),
            400,
            "ValidationException",
            "empty text",
        ),
        (
            json!({ "Text": SENTENCE, "VoiceId": "Kevin", "OutputFormat": "mp3" }),
            400,
            "EngineNotSupportedException",
            "a neural-only voice with Polly's default engine, standard",
        ),
    ];
    for (body, status, code, why) in cases {
        let answer = speak(&endpoint, &body);
        assert_eq!(answer.status, status, "{why}: {answer:?}");
        assert_eq!(answer.header("x-amzn-ErrorType"), Some(code), "{why}");
        let error = answer.json();
        assert_eq!(error["__type"], code, "{why}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{why}: {error}"
        );
        assert!(
            !error.to_string().contains("aaaa"),
            "{why}: never quotes the text"
        );
    }
    assert_eq!(polly.synthesis_count(), 0);
    assert_eq!(stats(&endpoint), json!({ "syntheses": 0, "characters": 0 }));
}

#[test]
fn every_language_of_the_voice_table_is_spoken() {
    let runtime = runtime();
    let polly = runtime.block_on(PollyLocal::start(None)).unwrap();
    let endpoint = polly.endpoint();
    let mut languages = BTreeMap::new();
    for voice in Voice::all() {
        languages.entry(voice.language()).or_insert(voice);
    }
    for (language, voice) in &languages {
        let body = json!({
            "Text": "Hello. 1, 2, 3.",
            "VoiceId": voice.id(),
            "OutputFormat": "mp3",
            "Engine": voice.engine(Engine::Standard).as_str(),
        });
        let answer = speak(&endpoint, &body);
        assert_eq!(answer.status, 200, "{voice} ({language}): {answer:?}");
        let audio = answer.audio();
        assert!(
            audio.duration > Duration::from_millis(300),
            "{voice} ({language}): {audio:?}"
        );
    }
    assert_eq!(polly.synthesis_count(), languages.len());
}

#[test]
fn a_stopped_server_refuses_connections_and_a_restart_on_its_port_serves_again() {
    let runtime = runtime();
    let polly = runtime.block_on(PollyLocal::start(None)).unwrap();
    let (endpoint, port) = (polly.endpoint(), polly.port());
    // One agent throughout: its pooled keep-alive connection must not survive the outage.
    let agent = agent();
    post(&agent, &endpoint, &request("Joanna", SENTENCE))
        .unwrap()
        .audio();

    runtime.block_on(polly.stop());
    let outage = post(&agent, &endpoint, &request("Joanna", SENTENCE));
    assert!(outage.is_err(), "answered while stopped: {outage:?}");

    let restarted = runtime.block_on(PollyLocal::start(Some(port))).unwrap();
    assert_eq!(restarted.endpoint(), endpoint);
    post(&agent, &endpoint, &request("Joanna", SENTENCE))
        .unwrap()
        .audio();
    assert_eq!(
        restarted.synthesis_count(),
        1,
        "a restarted server counts from 0"
    );
}
