//! Test support: a store that refuses every call and counts them, for tests asserting that a
//! rejected request reads and writes nothing, and an id source that proposes chosen ids, for
//! tests of what a store does when a generated id is taken. Compiled only with the `testing`
//! feature.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{
    AccountAudioRemover, AccountDataEraser, ErasedData, UserDirectory, UserRemoval, Username,
};
use crate::{AudioRemover, NoteIdSource, SpeechError, TimeAndRandomIds, Timestamp};
use crate::{
    ClaimOutcome, IdempotencyClaim, IdempotencyStore, NewNote, NewPost, Note, NoteDeleter, NoteId,
    NotePageKey, NoteReader, NoteWrite, NoteWriter, Page, PageSize, Post, PostPageKey, PostReader,
    PostWriter, RecordedResponse, SearchText, StoreError, UserId, Version,
};

/// Proposes the given ids in order, then whatever `TimeAndRandomIds` draws; counts proposals.
#[derive(Debug, Default)]
pub struct ScriptedNoteIds {
    script: Mutex<VecDeque<NoteId>>,
    proposed: AtomicUsize,
}

impl ScriptedNoteIds {
    pub fn new(ids: impl IntoIterator<Item = NoteId>) -> Self {
        Self {
            script: Mutex::new(ids.into_iter().collect()),
            proposed: AtomicUsize::new(0),
        }
    }

    /// How many ids the store asked for.
    pub fn proposed(&self) -> usize {
        self.proposed.load(Ordering::SeqCst)
    }
}

impl NoteIdSource for ScriptedNoteIds {
    fn candidate(&self, now: Timestamp) -> NoteId {
        self.proposed.fetch_add(1, Ordering::SeqCst);
        let scripted = self
            .script
            .lock()
            .ok()
            .and_then(|mut script| script.pop_front());
        scripted.unwrap_or_else(|| TimeAndRandomIds.candidate(now))
    }
}

/// Implements every port; every call fails and is counted.
#[derive(Debug, Default)]
pub struct UntouchableStore {
    calls: AtomicUsize,
}

impl UntouchableStore {
    /// How many times any port method was called.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn refuse<T>(&self) -> Result<T, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(StoreError::internal(std::io::Error::other(
            "this request should never have reached the store",
        )))
    }
}

impl NoteReader for UntouchableStore {
    async fn list_notes(
        &self,
        _: &UserId,
        _: PageSize,
        _: Option<&NotePageKey>,
    ) -> Result<Page<Note, NotePageKey>, StoreError> {
        self.refuse()
    }
    async fn search_notes(
        &self,
        _: &UserId,
        _: &SearchText,
        _: PageSize,
        _: Option<&NotePageKey>,
    ) -> Result<Page<Note, NotePageKey>, StoreError> {
        self.refuse()
    }
    async fn get_note(&self, _: &UserId, _: &NoteId) -> Result<Note, StoreError> {
        self.refuse()
    }
}

impl NoteWriter for UntouchableStore {
    async fn put_note(&self, _: NoteWrite) -> Result<Note, StoreError> {
        self.refuse()
    }
    async fn create_note(&self, _: NewNote) -> Result<Note, StoreError> {
        self.refuse()
    }
}

impl NoteDeleter for UntouchableStore {
    async fn delete_note(
        &self,
        _: &UserId,
        _: &NoteId,
        _: Option<Version>,
    ) -> Result<(), StoreError> {
        self.refuse()
    }
}

impl PostWriter for UntouchableStore {
    async fn create_post(&self, _: NewPost) -> Result<Post, StoreError> {
        self.refuse()
    }
}

impl PostReader for UntouchableStore {
    async fn recent_posts(
        &self,
        _: PageSize,
        _: Option<PostPageKey>,
    ) -> Result<Page<Post, PostPageKey>, StoreError> {
        self.refuse()
    }
}

impl IdempotencyStore for UntouchableStore {
    async fn claim(&self, _: &IdempotencyClaim) -> Result<ClaimOutcome, StoreError> {
        self.refuse()
    }
    async fn complete(&self, _: &IdempotencyClaim, _: &RecordedResponse) -> Result<(), StoreError> {
        self.refuse()
    }
    async fn release(&self, _: &IdempotencyClaim) -> Result<(), StoreError> {
        self.refuse()
    }
}

impl AccountDataEraser for UntouchableStore {
    async fn erase_account_data(&self, _: &UserId) -> Result<ErasedData, StoreError> {
        self.refuse()
    }
    async fn data_owners(&self) -> Result<BTreeSet<UserId>, StoreError> {
        self.refuse()
    }
}

impl AccountAudioRemover for UntouchableStore {
    async fn remove_account_audio(&self, _: &UserId) -> Result<usize, SpeechError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(SpeechError::internal(std::io::Error::other(
            "this request should never have reached the audio bucket",
        )))
    }
}

impl UserDirectory for UntouchableStore {
    async fn delete_user(&self, _: &UserId, _: &Username) -> Result<UserRemoval, StoreError> {
        self.refuse()
    }
    async fn user_exists(&self, _: &UserId) -> Result<bool, StoreError> {
        self.refuse()
    }
}

impl AudioRemover for UntouchableStore {
    async fn remove_note_audio(&self, _: &UserId, _: &NoteId) -> Result<usize, SpeechError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(SpeechError::internal(std::io::Error::other(
            "this request should never have reached the audio bucket",
        )))
    }
}
