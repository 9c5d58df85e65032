//! Dictation: the voices a note can be read in, the engine each gets, how a long note is split
//! into the pieces one synthesis call accepts, and where the audio of a note version is kept.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::{NoteId, UserId, ValidationError, char_count};

/// Where callers can read the list of voices (named in the error for an unknown one).
pub const VOICES_URL: &str = "https://docs.aws.amazon.com/polly/latest/dg/available-voices.html";

/// Billed characters one `SynthesizeSpeech` call accepts (Polly's documented limit; plain text
/// is billed character for character).
pub const MAX_CHARS_PER_SYNTHESIS: usize = 3_000;

/// A speech engine of Amazon Polly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    Standard,
    Neural,
}

impl Engine {
    /// The engine's name on Polly's wire (`Engine` of `SynthesizeSpeech`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Neural => "neural",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value {
            "standard" => Ok(Self::Standard),
            "neural" => Ok(Self::Neural),
            _ => Err(ValidationError::new(
                "Engine",
                "must be \"neural\" or \"standard\"",
            )),
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of Polly's voices: its id, its language and the engines it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Voice {
    id: &'static str,
    language: &'static str,
    standard: bool,
    neural: bool,
}

const fn voice(id: &'static str, language: &'static str, standard: bool, neural: bool) -> Voice {
    Voice {
        id,
        language,
        standard,
        neural,
    }
}

/// Polly's voices with the standard and neural engines (from the list at [`VOICES_URL`], 2026).
/// A voice missing here is refused with a 400 before any call is billed; a voice Polly retired
/// is refused by Polly itself, which the function reports as a 400 as well.
const VOICES: &[Voice] = &[
    voice("Aditi", "en-IN", true, false),
    voice("Adriano", "it-IT", false, true),
    voice("Amy", "en-GB", true, true),
    voice("Andres", "es-MX", false, true),
    voice("Aria", "en-NZ", false, true),
    voice("Arlet", "ca-ES", false, true),
    voice("Arthur", "en-GB", false, true),
    voice("Astrid", "sv-SE", true, false),
    voice("Ayanda", "en-ZA", false, true),
    voice("Bianca", "it-IT", true, true),
    voice("Brian", "en-GB", true, true),
    voice("Burcu", "tr-TR", false, true),
    voice("Camila", "pt-BR", true, true),
    voice("Carla", "it-IT", true, false),
    voice("Carmen", "ro-RO", true, false),
    voice("Celine", "fr-FR", true, false),
    voice("Chantal", "fr-CA", true, false),
    voice("Conchita", "es-ES", true, false),
    voice("Cristiano", "pt-PT", true, false),
    voice("Daniel", "de-DE", false, true),
    voice("Danielle", "en-US", false, true),
    voice("Dora", "is-IS", true, false),
    voice("Elin", "sv-SE", false, true),
    voice("Emma", "en-GB", true, true),
    voice("Enrique", "es-ES", true, false),
    voice("Ewa", "pl-PL", true, false),
    voice("Filiz", "tr-TR", true, false),
    voice("Gabrielle", "fr-CA", false, true),
    voice("Geraint", "en-GB-WLS", true, false),
    voice("Giorgio", "it-IT", true, false),
    voice("Gregory", "en-US", false, true),
    voice("Gwyneth", "cy-GB", true, false),
    voice("Hala", "ar-AE", false, true),
    voice("Hannah", "de-AT", false, true),
    voice("Hans", "de-DE", true, false),
    voice("Hiujin", "yue-CN", false, true),
    voice("Ida", "nb-NO", false, true),
    voice("Ines", "pt-PT", true, true),
    voice("Isabelle", "fr-BE", false, true),
    voice("Ivy", "en-US", true, true),
    voice("Jacek", "pl-PL", true, false),
    voice("Jan", "pl-PL", true, false),
    voice("Jitka", "cs-CZ", false, true),
    voice("Joanna", "en-US", true, true),
    voice("Joey", "en-US", true, true),
    voice("Justin", "en-US", true, true),
    voice("Kajal", "en-IN", false, true),
    voice("Karl", "is-IS", true, false),
    voice("Kazuha", "ja-JP", false, true),
    voice("Kendra", "en-US", true, true),
    voice("Kevin", "en-US", false, true),
    voice("Kimberly", "en-US", true, true),
    voice("Laura", "nl-NL", false, true),
    voice("Lea", "fr-FR", true, true),
    voice("Lennart", "de-DE", false, true),
    voice("Liam", "fr-CA", false, true),
    voice("Lisa", "nl-BE", false, true),
    voice("Liv", "nb-NO", true, false),
    voice("Lotte", "nl-NL", true, false),
    voice("Lucia", "es-ES", true, true),
    voice("Lupe", "es-US", true, true),
    voice("Mads", "da-DK", true, false),
    voice("Maja", "pl-PL", true, false),
    voice("Marlene", "de-DE", true, false),
    voice("Mathieu", "fr-FR", true, false),
    voice("Matthew", "en-US", true, true),
    voice("Maxim", "ru-RU", true, false),
    voice("Mia", "es-MX", true, true),
    voice("Miguel", "es-US", true, false),
    voice("Mizuki", "ja-JP", true, false),
    voice("Naja", "da-DK", true, false),
    voice("Niamh", "en-IE", false, true),
    voice("Nicole", "en-AU", true, false),
    voice("Ola", "pl-PL", false, true),
    voice("Olivia", "en-AU", false, true),
    voice("Pedro", "es-US", false, true),
    voice("Penelope", "es-US", true, false),
    voice("Raveena", "en-IN", true, false),
    voice("Remi", "fr-FR", false, true),
    voice("Ricardo", "pt-BR", true, false),
    voice("Ruben", "nl-NL", true, false),
    voice("Russell", "en-AU", true, false),
    voice("Ruth", "en-US", false, true),
    voice("Sabrina", "de-CH", false, true),
    voice("Salli", "en-US", true, true),
    voice("Seoyeon", "ko-KR", true, true),
    voice("Sergio", "es-ES", false, true),
    voice("Sofie", "da-DK", false, true),
    voice("Stephen", "en-US", false, true),
    voice("Suvi", "fi-FI", false, true),
    voice("Takumi", "ja-JP", true, true),
    voice("Tatyana", "ru-RU", true, false),
    voice("Thiago", "pt-BR", false, true),
    voice("Tomoko", "ja-JP", false, true),
    voice("Vicki", "de-DE", true, true),
    voice("Vitoria", "pt-BR", true, true),
    voice("Zeina", "arb", true, false),
    voice("Zhiyu", "cmn-CN", true, true),
];

impl Voice {
    /// The voice named `id` (Polly's spelling, case-sensitive as Polly is).
    pub fn parse(id: &str) -> Result<Self, ValidationError> {
        VOICES
            .iter()
            .find(|voice| voice.id == id)
            .copied()
            .ok_or_else(|| {
                ValidationError::new(
                    "VoiceId",
                    format!("is not an Amazon Polly voice: the voices are listed at {VOICES_URL}"),
                )
            })
    }

    /// Every voice this service accepts.
    pub fn all() -> impl Iterator<Item = Voice> {
        VOICES.iter().copied()
    }

    pub fn id(&self) -> &'static str {
        self.id
    }

    /// The voice's language as Polly names it (BCP 47 in most cases, e.g. `en-US`, `arb`).
    pub fn language(&self) -> &'static str {
        self.language
    }

    /// The engine to read with: the preferred one where the voice has it, else the one it has.
    /// (Every voice has at least one of the two.)
    pub fn engine(&self, preferred: Engine) -> Engine {
        match preferred {
            Engine::Neural if self.neural => Engine::Neural,
            Engine::Standard if self.standard => Engine::Standard,
            _ if self.neural => Engine::Neural,
            _ => Engine::Standard,
        }
    }
}

impl std::fmt::Display for Voice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

/// Splits `text` into pieces of at most `max_chars` characters for synthesis, in reading order:
/// at the last sentence end that fits (`.`, `!`, `?`, `…` before whitespace, or a line break),
/// else at the last whitespace, and only for a "word" longer than `max_chars` in the middle of
/// it. Pieces are trimmed; blank ones are dropped (Polly refuses empty text).
pub fn split_for_synthesis(text: &str, max_chars: usize) -> Vec<&str> {
    let max_chars = max_chars.max(1);
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while char_count(rest) > max_chars {
        // Byte offset just past the first `max_chars` characters: the window a piece may fill.
        let limit = rest
            .char_indices()
            .nth(max_chars)
            .map_or(rest.len(), |(offset, _)| offset);
        let window = rest.get(..limit).unwrap_or(rest);
        let cut = last_sentence_end(window)
            .or_else(|| last_whitespace(window))
            .unwrap_or(limit);
        let (piece, tail) = rest.split_at(cut);
        let piece = piece.trim();
        if !piece.is_empty() {
            pieces.push(piece);
        }
        rest = tail.trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest);
    }
    pieces
}

/// The byte offset just after the last sentence end in `window` (never 0, so a cut there
/// always makes progress).
fn last_sentence_end(window: &str) -> Option<usize> {
    let mut best = None;
    let mut chars = window.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        let end = offset + c.len_utf8();
        let next_is_space = chars.peek().is_none_or(|&(_, next)| next.is_whitespace());
        let sentence_end = matches!(c, '\n' | '\r')
            || (matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？') && next_is_space);
        if sentence_end {
            best = Some(end);
        }
    }
    best
}

/// The byte offset of the last whitespace in `window` after its first character.
fn last_whitespace(window: &str) -> Option<usize> {
    window
        .char_indices()
        .skip(1)
        .filter(|(_, c)| c.is_whitespace())
        .map(|(offset, _)| offset)
        .last()
}

/// Where the audio of one text of a note in one voice and engine is stored:
/// `<UserId>/<NoteId>/<digest>-<VoiceId>-<engine>.mp3`, the digest a SHA-256 of (text, voice,
/// engine), 32 hex digits. Per user (one prefix each, the user id, a `sub`, percent-encoded so
/// that it stays one path segment) and per text: a note deleted and re-created under the same id
/// with other text never plays the old audio, an edit that keeps the text reuses it, and a note's
/// audio sits under one prefix (`<UserId>/<NoteId>/`) so it can be deleted with the note. The
/// digest tells nothing a holder of the URL cannot hear in the audio itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioKey(String);

impl AudioKey {
    pub fn new(user: &UserId, note: &NoteId, text: &str, voice: Voice, engine: Engine) -> Self {
        let mut key = Self::prefix(user, note);
        let mut digest = Sha256::new();
        // Length-prefixed, so that no two (text, voice, engine) triples hash the same bytes.
        for part in [text, voice.id(), engine.as_str()] {
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part.as_bytes());
        }
        for byte in digest.finalize().iter().take(16) {
            let _ = write!(key, "{byte:02x}");
        }
        let _ = write!(key, "-{voice}-{engine}.mp3");
        Self(key)
    }

    /// `<UserId>/`: every audio of one user, whatever the note.
    pub fn user_prefix(user: &UserId) -> String {
        let mut key = String::new();
        for byte in user.as_str().bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'@') {
                key.push(char::from(byte));
            } else {
                // Writing to a String cannot fail.
                let _ = write!(key, "%{byte:02X}");
            }
        }
        key.push('/');
        key
    }

    /// `<UserId>/<NoteId>/`: every audio of one note, whatever its text, voice and engine.
    pub fn prefix(user: &UserId, note: &NoteId) -> String {
        let mut key = Self::user_prefix(user);
        // Writing to a String cannot fail.
        let _ = write!(key, "{note}/");
        key
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AudioKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voices_are_found_by_their_exact_id_and_unknown_ones_point_to_the_list() {
        for id in [
            "Joey", "Joanna", "Russell", "Nicole", "Brian", "Amy", "Raveena", "Geraint",
        ] {
            assert_eq!(Voice::parse(id).map(|v| v.id()), Ok(id), "{id}");
        }
        for bad in ["", "joanna", "Bob", "Joanna ", "../x"] {
            let error = Voice::parse(bad).unwrap_err();
            assert_eq!(error.field(), "VoiceId");
            assert!(error.to_string().contains(VOICES_URL), "{error}");
        }
        let ids: Vec<&str> = Voice::all().map(|v| v.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "the table is sorted and has no duplicates");
        assert!(Voice::all().all(|v| v.standard || v.neural));
    }

    #[test]
    fn the_engine_is_the_preferred_one_where_the_voice_has_it() {
        let joanna = Voice::parse("Joanna").unwrap();
        let nicole = Voice::parse("Nicole").unwrap();
        let kevin = Voice::parse("Kevin").unwrap();
        assert_eq!(joanna.engine(Engine::Neural), Engine::Neural);
        assert_eq!(joanna.engine(Engine::Standard), Engine::Standard);
        assert_eq!(nicole.engine(Engine::Neural), Engine::Standard);
        assert_eq!(kevin.engine(Engine::Standard), Engine::Neural);
        assert_eq!(Engine::parse("neural"), Ok(Engine::Neural));
        assert!(Engine::parse("generative").is_err());
    }

    #[test]
    fn short_text_is_one_piece_and_blank_text_none() {
        assert_eq!(
            split_for_synthesis("  Buy milk.  ", 3000),
            vec!["Buy milk."]
        );
        assert!(split_for_synthesis(" \n\t ", 3000).is_empty());
    }

    #[test]
    fn long_text_splits_at_sentences_then_words_then_anywhere() {
        let text = "One two three. Four five six! Seven eight nine? Ten.";
        assert_eq!(
            split_for_synthesis(text, 30),
            vec!["One two three. Four five six!", "Seven eight nine? Ten."]
        );
        // No sentence end in the window: the last space.
        assert_eq!(
            split_for_synthesis("alpha beta gamma delta", 12),
            vec!["alpha beta", "gamma delta"]
        );
        // A decimal point is not a sentence end.
        assert_eq!(
            split_for_synthesis("pi is 3.14159 and e is 2.71828", 16),
            vec!["pi is 3.14159", "and e is 2.71828"]
        );
        // One "word" longer than the limit is cut inside, on a character boundary.
        assert_eq!(split_for_synthesis("ééééééé", 3), vec!["ééé", "ééé", "é"]);
        assert_eq!(
            split_for_synthesis("line one\nline two", 12),
            vec!["line one", "line two"]
        );
    }

    #[test]
    fn a_maximal_note_splits_into_pieces_within_the_limit_that_keep_every_word() {
        let sentence = "The quick brown fox jumps over the lazy dog again and again. ";
        let text: String = sentence.repeat(200).chars().take(10_000).collect();
        let pieces = split_for_synthesis(&text, MAX_CHARS_PER_SYNTHESIS);
        assert!(pieces.len() >= 4, "{} pieces", pieces.len());
        assert!(
            pieces
                .iter()
                .all(|p| char_count(p) <= MAX_CHARS_PER_SYNTHESIS)
        );
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(words(&pieces.join(" ")), words(&text));
        // Every piece but the last ends a sentence.
        for piece in pieces.iter().rev().skip(1) {
            assert!(piece.ends_with('.'), "{piece:?}");
        }
        let no_spaces = "x".repeat(10_000);
        let pieces = split_for_synthesis(&no_spaces, MAX_CHARS_PER_SYNTHESIS);
        assert_eq!(pieces.len(), 4);
        assert_eq!(pieces.concat(), no_spaces);
    }

    #[test]
    fn audio_keys_are_per_user_note_text_voice_and_engine() {
        let key = |user: &str, note: &str, text: &str, voice: &str, engine: Engine| {
            AudioKey::new(
                &UserId::parse(user).unwrap(),
                &NoteId::parse(note).unwrap(),
                text,
                Voice::parse(voice).unwrap(),
                engine,
            )
            .to_string()
        };
        let pin = key(
            "alice",
            "77",
            "My bank PIN is 4419",
            "Joanna",
            Engine::Neural,
        );
        assert!(pin.starts_with("alice/77/"), "{pin}");
        assert!(pin.ends_with("-Joanna-neural.mp3"), "{pin}");
        assert_eq!(
            pin.len(),
            "alice/77/".len() + 32 + "-Joanna-neural.mp3".len()
        );
        assert!(!pin.contains("4419"), "the key does not spell the text");
        // Issue 22, finding 2: note 77 deleted and re-created with other text is other audio.
        assert_ne!(
            pin,
            key("alice", "77", "Shopping: apples", "Joanna", Engine::Neural)
        );
        // The same text is the same audio, whatever version it is saved as.
        assert_eq!(
            pin,
            key(
                "alice",
                "77",
                "My bank PIN is 4419",
                "Joanna",
                Engine::Neural
            )
        );
        assert_ne!(
            pin,
            key("bob", "77", "My bank PIN is 4419", "Joanna", Engine::Neural)
        );
        assert_ne!(
            pin,
            key("alice", "77", "My bank PIN is 4419", "Joey", Engine::Neural)
        );
        assert_ne!(
            pin,
            key(
                "alice",
                "77",
                "My bank PIN is 4419",
                "Joanna",
                Engine::Standard
            )
        );
        assert!(pin.starts_with(&AudioKey::prefix(
            &UserId::parse("alice").unwrap(),
            &NoteId::parse("77").unwrap()
        )));
        // A user id with a slash stays one segment: no user can write under another's prefix.
        assert!(key("alice/7", "x", "t", "Amy", Engine::Neural).starts_with("alice%2F7/x/"));
        assert!(
            key("ana maría", "1", "t", "Amy", Engine::Neural).starts_with("ana%20mar%C3%ADa/1/")
        );
    }
}
