//! Storage ports: one small trait per capability, so that a function's trait bounds mirror the
//! permissions its IAM policy grants (the list function cannot write, the delete function cannot
//! list).

use std::future::Future;

use std::time::{Duration, SystemTime};

use crate::{
    AudioKey, Engine, NewNote, NewPost, Note, NoteId, NotePageKey, NoteWrite, Page, PageSize, Post,
    PostPageKey, SearchText, SpeechError, StoreError, Timestamp, UserId, Version, Voice,
};

pub trait NoteReader: Send + Sync {
    /// The user's notes, newest first.
    fn list_notes(
        &self,
        user: &UserId,
        size: PageSize,
        after: Option<&NotePageKey>,
    ) -> impl Future<Output = Result<Page<Note, NotePageKey>, StoreError>> + Send;

    /// The user's notes whose text contains `query` (case-insensitive), newest first. A page may
    /// hold fewer than `size` notes and still have a `next`: the store bounds the work per page.
    fn search_notes(
        &self,
        user: &UserId,
        query: &SearchText,
        size: PageSize,
        after: Option<&NotePageKey>,
    ) -> impl Future<Output = Result<Page<Note, NotePageKey>, StoreError>> + Send;

    /// One of the user's notes; `StoreError::NotFound` when the user has no note with that id.
    fn get_note(
        &self,
        user: &UserId,
        id: &NoteId,
    ) -> impl Future<Output = Result<Note, StoreError>> + Send;
}

pub trait NoteWriter: Send + Sync {
    /// Writes the note as the expectation allows and returns it as stored. A failed expectation
    /// is `StoreError::VersionConflict` and changes nothing.
    fn put_note(&self, write: NoteWrite) -> impl Future<Output = Result<Note, StoreError>> + Send;

    /// Stores a new note under an id the store draws, one the user has no note of: an existing
    /// note is never overwritten. Returns the note as stored, with its id.
    fn create_note(&self, note: NewNote) -> impl Future<Output = Result<Note, StoreError>> + Send;
}

pub trait NoteDeleter: Send + Sync {
    /// Deletes one of the user's notes: `NotFound` when there is none, `VersionConflict` when
    /// `expected` is given and differs.
    fn delete_note(
        &self,
        user: &UserId,
        id: &NoteId,
        expected: Option<Version>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub trait PostWriter: Send + Sync {
    /// Stores the post under a new, never reused id.
    fn create_post(&self, post: NewPost) -> impl Future<Output = Result<Post, StoreError>> + Send;
}

pub trait PostReader: Send + Sync {
    /// The most recent posts, newest first.
    fn recent_posts(
        &self,
        size: PageSize,
        before: Option<PostPageKey>,
    ) -> impl Future<Output = Result<Page<Post, PostPageKey>, StoreError>> + Send;
}

pub trait SpeechSynthesizer: Send + Sync {
    /// MP3 audio of `text` (at most [`crate::MAX_CHARS_PER_SYNTHESIS`] characters) read by
    /// `voice` with `engine`.
    fn synthesize(
        &self,
        text: &str,
        voice: Voice,
        engine: Engine,
    ) -> impl Future<Output = Result<Vec<u8>, SpeechError>> + Send;
}

pub trait AudioStore: Send + Sync {
    /// When the audio under `key` was stored, or `None` when there is none (only complete audio
    /// is ever stored).
    fn stored_at(
        &self,
        key: &AudioKey,
    ) -> impl Future<Output = Result<Option<SystemTime>, SpeechError>> + Send;

    /// Stores `audio` under `key` in one write: a reader sees all of it or nothing.
    fn put(
        &self,
        key: &AudioKey,
        audio: Vec<u8>,
    ) -> impl Future<Output = Result<(), SpeechError>> + Send;

    /// A URL that lets anyone holding it GET the audio under `key` for `ttl`, and nothing else.
    fn presigned_get(
        &self,
        key: &AudioKey,
        ttl: Duration,
    ) -> impl Future<Output = Result<String, SpeechError>> + Send;
}

pub trait AudioRemover: Send + Sync {
    /// Deletes every stored audio of one of the user's notes (all texts, voices and engines:
    /// everything under [`AudioKey::prefix`]) and returns how many objects were deleted. None is
    /// not an error.
    fn remove_note_audio(
        &self,
        user: &UserId,
        note: &NoteId,
    ) -> impl Future<Output = Result<usize, SpeechError>> + Send;
}

pub trait SpeechBudget: Send + Sync {
    /// Takes `characters` from the user's budget for the UTC day of `now`, in one atomic step:
    /// `SpeechError::BudgetExhausted` (and nothing taken) when they do not fit.
    fn spend(
        &self,
        user: &UserId,
        characters: u32,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), SpeechError>> + Send;

    /// Gives back characters taken for a synthesis that then failed. Best effort: a failure is
    /// logged by the adapter, and costs the user those characters for the day.
    fn refund(
        &self,
        user: &UserId,
        characters: u32,
        now: Timestamp,
    ) -> impl Future<Output = ()> + Send;
}

/// What one account's data came to when it was erased: how many items of each kind went (or, for
/// posts, were handed to "deleted user"). Zero everywhere when there was nothing left, which is
/// what a retry of a finished erasure finds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErasedData {
    /// Notes, with the note counter item.
    pub notes: usize,
    /// Usage rows: the speech budget's days and the post counter.
    pub usage_rows: usize,
    /// `Idempotency-Key` records (they hold replayed responses, note text included).
    pub idempotency_records: usize,
    /// Board posts now attributed to [`Username::DELETED`](crate::Username::DELETED).
    pub posts_anonymized: usize,
}

pub trait AccountDataEraser: Send + Sync {
    /// Deletes everything stored for `user` in the tables (notes and their counter, usage rows,
    /// idempotency records) and hands their posts to "deleted user", dropping the author's id from
    /// them. Each step only removes what is still there, so running it again after a failure
    /// finishes the job, and running it on an erased account changes nothing.
    fn erase_account_data(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<ErasedData, StoreError>> + Send;

    /// Every user id that still owns something in the tables (a note, a usage row, an
    /// idempotency record, a post's author id), for the purge to check against the user pool.
    fn data_owners(
        &self,
    ) -> impl Future<Output = Result<std::collections::BTreeSet<UserId>, StoreError>> + Send;
}

pub trait AccountAudioRemover: Send + Sync {
    /// Deletes every stored audio of the user (everything under [`AudioKey::user_prefix`]) and
    /// returns how many objects were deleted. None is not an error.
    fn remove_account_audio(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<usize, SpeechError>> + Send;
}

/// What became of the user in the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRemoval {
    /// The user was deleted now.
    Deleted,
    /// There was no user of that name with that id any more: deleted before (a retry), or the
    /// name now belongs to another account, which is left alone.
    AlreadyGone,
}

pub trait UserDirectory: Send + Sync {
    /// Deletes the user named `username` from the pool, but only if that user is still the one
    /// with id `user` (a username is freed on deletion and may be signed up again).
    fn delete_user(
        &self,
        user: &UserId,
        username: &crate::Username,
    ) -> impl Future<Output = Result<UserRemoval, StoreError>> + Send;

    /// Whether a user with this id (`sub`) exists in the pool, whatever its status.
    fn user_exists(&self, user: &UserId) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
