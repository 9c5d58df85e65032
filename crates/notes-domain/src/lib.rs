//! The notes domain: validated types for notes, board posts and dictation, and the ports the
//! functions depend on. Nothing here knows about AWS, Lambda or HTTP.

mod error;
mod generated_ids;
mod idempotency;
mod note;
mod page;
mod ports;
mod post;
mod speech;
mod time;
mod user;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{SpeechError, StoreError, ValidationError};
pub use generated_ids::{MAX_SAFE_INTEGER, NoteIdSource, TimeAndRandomIds, time_and_random_id};
pub use idempotency::{
    ClaimOutcome, IdempotencyClaim, IdempotencyKey, IdempotencyStore, RecordedResponse,
};
pub use note::{Expectation, NewNote, Note, NoteId, NoteText, NoteWrite, SearchText, Version};
pub use page::{NotePageKey, Page, PageSize, PostPageKey};
pub use ports::{
    AccountAudioRemover, AccountDataEraser, AudioRemover, AudioStore, ErasedData, NoteDeleter,
    NoteReader, NoteWriter, PostReader, PostWriter, SpeechBudget, SpeechSynthesizer, UserDirectory,
    UserRemoval,
};
pub use post::{NewPost, Post, PostContents, PostId, PostTitle};
pub use speech::{
    AudioKey, Engine, MAX_CHARS_PER_SYNTHESIS, VOICES_URL, Voice, split_for_synthesis,
};
pub use time::Timestamp;
pub use user::{UserId, Username};

/// Counts characters the way the limits in the API documentation do: Unicode scalar values.
fn char_count(text: &str) -> usize {
    text.chars().count()
}

/// Controls other than tab, line feed and carriage return have no place in user text; NUL in
/// particular breaks many clients and log pipelines downstream.
fn has_forbidden_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}
