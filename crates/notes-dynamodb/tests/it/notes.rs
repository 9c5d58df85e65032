//! The notes table: versions, conditions, generated ids, newest-first pages, search and
//! isolation.

use std::sync::Arc;
use std::time::Duration;

use notes_domain::testing::ScriptedNoteIds;
use notes_domain::{
    Expectation, MAX_SAFE_INTEGER, NewNote, NoteDeleter, NoteId, NoteReader, NoteText, NoteWrite,
    NoteWriter, PageSize, SearchText, StoreError, Timestamp, UserId, Version,
};
use notes_dynamodb::{CREATE_MAX_ATTEMPTS, DynamoNotes};

use crate::{tables, user};

async fn store() -> DynamoNotes {
    let tables = tables().await;
    DynamoNotes::new(tables.client.clone(), tables.notes_table.clone())
}

fn write(user: &UserId, id: &str, text: &str, expectation: Expectation) -> NoteWrite {
    NoteWrite {
        user_id: user.clone(),
        note_id: NoteId::parse(id).unwrap(),
        text: NoteText::parse(text.to_owned()).unwrap(),
        expectation,
        now: Timestamp::now(),
    }
}

/// Writes notes one millisecond apart so that their creation order is unambiguous.
async fn seed(store: &DynamoNotes, user: &UserId, ids: &[&str]) {
    for id in ids {
        store
            .put_note(write(
                user,
                id,
                &format!("note {id}"),
                Expectation::Anything,
            ))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
}

#[tokio::test]
async fn writes_create_then_replace_with_increasing_versions() {
    let store = store().await;
    let alice = user("alice");
    let created = store
        .put_note(write(&alice, "1", "first", Expectation::Anything))
        .await
        .unwrap();
    assert_eq!(created.version, Version::FIRST);
    assert_eq!(created.created_at, created.updated_at);

    tokio::time::sleep(Duration::from_millis(5)).await;
    let replaced = store
        .put_note(write(&alice, "1", "second", Expectation::Anything))
        .await
        .unwrap();
    assert_eq!(replaced.version.get(), 2);
    assert_eq!(replaced.text.as_str(), "second");
    assert_eq!(replaced.created_at, created.created_at, "CreatedAt is kept");
    assert!(replaced.updated_at > created.updated_at, "UpdatedAt moves");

    let read = store
        .get_note(&alice, &NoteId::parse("1").unwrap())
        .await
        .unwrap();
    assert_eq!(read, replaced);
}

#[tokio::test]
async fn conditional_writes_change_nothing_when_they_fail() {
    let store = store().await;
    let alice = user("alice");
    store
        .put_note(write(&alice, "n", "v1", Expectation::Anything))
        .await
        .unwrap();
    store
        .put_note(write(
            &alice,
            "n",
            "v2",
            Expectation::AtVersion(Version::FIRST),
        ))
        .await
        .unwrap();

    let stale = store
        .put_note(write(
            &alice,
            "n",
            "from a stale copy",
            Expectation::AtVersion(Version::FIRST),
        ))
        .await;
    assert!(
        matches!(stale, Err(StoreError::VersionConflict { current: Some(v) }) if v.get() == 2),
        "{stale:?}"
    );
    let absent = store
        .put_note(write(&alice, "n", "overwrite?", Expectation::Absent))
        .await;
    assert!(
        matches!(
            absent,
            Err(StoreError::VersionConflict { current: Some(_) })
        ),
        "{absent:?}"
    );
    let missing = store
        .put_note(write(
            &alice,
            "missing",
            "x",
            Expectation::AtVersion(Version::FIRST),
        ))
        .await;
    assert!(
        matches!(missing, Err(StoreError::VersionConflict { current: None })),
        "{missing:?}"
    );

    let note = store
        .get_note(&alice, &NoteId::parse("n").unwrap())
        .await
        .unwrap();
    assert_eq!((note.text.as_str(), note.version.get()), ("v2", 2));
    assert!(
        matches!(
            store
                .get_note(&alice, &NoteId::parse("missing").unwrap())
                .await,
            Err(StoreError::NotFound)
        ),
        "a failed conditional write creates nothing"
    );
}

fn new_note(user: &UserId, text: &str) -> NewNote {
    NewNote {
        user_id: user.clone(),
        text: NoteText::parse(text.to_owned()).unwrap(),
        now: Timestamp::now(),
    }
}

#[tokio::test]
async fn creates_get_integer_ids_a_javascript_number_holds() {
    let store = store().await;
    let alice = user("alice");
    let mut ids = std::collections::BTreeSet::new();
    for i in 0..20 {
        let note = store
            .create_note(new_note(&alice, &format!("note {i}")))
            .await
            .unwrap();
        assert_eq!(note.version, Version::FIRST);
        let value: u64 = note
            .note_id
            .as_str()
            .parse()
            .unwrap_or_else(|_| panic!("{} is not a decimal integer", note.note_id));
        assert!(
            (1..=MAX_SAFE_INTEGER).contains(&value),
            "{value} does not fit a JavaScript Number exactly"
        );
        assert_eq!(note.note_id.as_str(), value.to_string(), "no leading zeros");
        ids.insert(value);
    }
    assert_eq!(ids.len(), 20, "every create its own note");
    let listed = store
        .list_notes(&alice, PageSize::DEFAULT, None)
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 20);
}

#[tokio::test]
async fn a_taken_generated_id_is_drawn_again_and_the_existing_note_is_untouched() {
    let base = store().await;
    let alice = user("alice");
    // A note a client numbered itself, exactly as the next draw will come out.
    let taken = "1767323045006123";
    let existing = base
        .put_note(write(&alice, taken, "alice's own", Expectation::Anything))
        .await
        .unwrap();
    let ids = Arc::new(ScriptedNoteIds::new([
        NoteId::parse(taken).unwrap(),
        NoteId::parse("1767323045006124").unwrap(),
    ]));
    let store = base.clone().with_note_ids(ids.clone());

    let created = store
        .create_note(new_note(&alice, "a new note"))
        .await
        .unwrap();
    assert_eq!(created.note_id.as_str(), "1767323045006124");
    assert_eq!(
        (created.text.as_str(), created.version),
        ("a new note", Version::FIRST)
    );
    assert_eq!(ids.proposed(), 2, "one collision, one more draw");
    let kept = store
        .get_note(&alice, &NoteId::parse(taken).unwrap())
        .await
        .unwrap();
    assert_eq!(kept, existing, "the taken id's note is unchanged");

    // Bob has no note of that id: the same draw is his to take.
    let bob = user("bob");
    let bobs = base
        .with_note_ids(Arc::new(ScriptedNoteIds::new([
            NoteId::parse(taken).unwrap()
        ])))
        .create_note(new_note(&bob, "bob's"))
        .await
        .unwrap();
    assert_eq!(bobs.note_id.as_str(), taken);
}

#[tokio::test]
async fn a_create_gives_up_after_a_bounded_number_of_draws_and_overwrites_nothing() {
    let base = store().await;
    let alice = user("alice");
    let existing = base
        .put_note(write(&alice, "17", "alice's 17", Expectation::Anything))
        .await
        .unwrap();
    let stuck = Arc::new(ScriptedNoteIds::new(std::iter::repeat_n(
        NoteId::parse("17").unwrap(),
        CREATE_MAX_ATTEMPTS + 1,
    )));
    let store = base.with_note_ids(stuck.clone());
    let result = store.create_note(new_note(&alice, "never stored")).await;
    assert!(matches!(result, Err(StoreError::Internal(_))), "{result:?}");
    assert_eq!(stuck.proposed(), CREATE_MAX_ATTEMPTS, "bounded retries");
    let notes = store
        .list_notes(&alice, PageSize::DEFAULT, None)
        .await
        .unwrap();
    assert_eq!(
        notes.items,
        [existing],
        "nothing overwritten, nothing added"
    );
}

#[tokio::test]
async fn lists_newest_first_in_pages_whatever_the_ids() {
    let store = store().await;
    let alice = user("alice");
    // Ids in an order unrelated to creation time: the listing must follow CreatedAt.
    seed(&store, &alice, &["30", "4", "200", "1", "5"]).await;

    let size = PageSize::new(2).unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_notes(&alice, size, after.as_ref())
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|n| n.note_id.as_str().to_owned()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, ["5", "1", "200", "4", "30"]);
    assert_eq!(pages, 3, "no empty trailing page");

    let whole = store
        .list_notes(&alice, PageSize::DEFAULT, None)
        .await
        .unwrap();
    assert_eq!(whole.items.len(), 5);
    assert!(whole.next.is_none());
}

#[tokio::test]
async fn users_never_see_each_other() {
    let store = store().await;
    let (alice, bob) = (user("alice"), user("bob"));
    seed(&store, &alice, &["1", "2"]).await;
    seed(&store, &bob, &["1"]).await;

    let bobs = store
        .list_notes(&bob, PageSize::DEFAULT, None)
        .await
        .unwrap();
    assert_eq!(bobs.items.len(), 1);
    assert!(bobs.items.iter().all(|n| n.user_id == bob));

    let id2 = NoteId::parse("2").unwrap();
    assert!(matches!(
        store.get_note(&bob, &id2).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_note(&bob, &id2, None).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store.get_note(&alice, &id2).await.is_ok(),
        "alice's note survives bob's delete"
    );

    // A cursor position taken from alice's notes only ever moves within the caller's partition.
    let alices = store
        .list_notes(&alice, PageSize::new(1).unwrap(), None)
        .await
        .unwrap();
    let page = store
        .list_notes(&bob, PageSize::DEFAULT, alices.next.as_ref())
        .await
        .unwrap();
    assert!(page.items.iter().all(|n| n.user_id == bob));

    let search = SearchText::parse("note").unwrap();
    let found = store
        .search_notes(&bob, &search, PageSize::DEFAULT, None)
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert!(found.items.iter().all(|n| n.user_id == bob));
}

#[tokio::test]
async fn search_is_case_insensitive_and_pages_through_many_notes() {
    let store = store().await;
    let alice = user("alice");
    // 130 notes, every 10th mentions milk in some case: more notes than one query reads.
    for i in 0..130 {
        let text = if i % 10 == 0 {
            format!("item {i}: buy MiLk")
        } else {
            format!("item {i}: something else")
        };
        store
            .put_note(NoteWrite {
                now: Timestamp::now(),
                ..write(&alice, &format!("n{i}"), &text, Expectation::Anything)
            })
            .await
            .unwrap();
    }
    let query = SearchText::parse("milk").unwrap();
    let size = PageSize::new(5).unwrap();
    let mut found = Vec::new();
    let mut after = None;
    for _ in 0..10 {
        let page = store
            .search_notes(&alice, &query, size, after.as_ref())
            .await
            .unwrap();
        assert!(page.items.len() <= 5);
        found.extend(
            page.items
                .into_iter()
                .map(|n| n.note_id.as_str().to_owned()),
        );
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    found.sort();
    let mut expected: Vec<String> = (0..130).step_by(10).map(|i| format!("n{i}")).collect();
    expected.sort();
    assert_eq!(found, expected, "every match exactly once");

    let none = store
        .search_notes(&alice, &SearchText::parse("cheese").unwrap(), size, None)
        .await
        .unwrap();
    assert!(none.items.is_empty());
}

#[tokio::test]
async fn deletes_are_conditional_and_never_silent() {
    let store = store().await;
    let alice = user("alice");
    seed(&store, &alice, &["1"]).await;
    let id = NoteId::parse("1").unwrap();

    let wrong = store
        .delete_note(&alice, &id, Some(Version::new(7).unwrap()))
        .await;
    assert!(
        matches!(wrong, Err(StoreError::VersionConflict { current: Some(v) }) if v == Version::FIRST),
        "{wrong:?}"
    );
    assert!(
        store.get_note(&alice, &id).await.is_ok(),
        "a failed delete deletes nothing"
    );

    store
        .delete_note(&alice, &id, Some(Version::FIRST))
        .await
        .unwrap();
    assert!(matches!(
        store.get_note(&alice, &id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_note(&alice, &id, None).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn an_unreachable_table_is_unavailable_not_internal() {
    // Nothing listens on this port: connection refused is transient, so the caller gets a 503.
    let client = local_aws::tables::client_for_endpoint("http://127.0.0.1:9").await;
    let store = DynamoNotes::new(client, "notes");
    let result = store
        .get_note(&user("alice"), &NoteId::parse("1").unwrap())
        .await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

/// Records the `ConsistentRead` of every `Query` a client sends.
#[derive(Debug, Default, Clone)]
struct QueryRecorder(Arc<std::sync::Mutex<Vec<Option<bool>>>>);

impl QueryRecorder {
    fn take(&self) -> Vec<Option<bool>> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl aws_sdk_dynamodb::config::Intercept for QueryRecorder {
    fn name(&self) -> &'static str {
        "QueryRecorder"
    }

    fn read_before_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<
            '_,
        >,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        if let Some(query) = context
            .input()
            .downcast_ref::<aws_sdk_dynamodb::operation::query::QueryInput>()
        {
            self.0.lock().unwrap().push(query.consistent_read());
        }
        Ok(())
    }
}

/// Issue 22, finding 6: a search reads eventually consistent and at most `SEARCH_MAX_QUERIES`
/// (5) queries per request, each at most 1 MB: at most 640 read units. Listing stays strongly
/// consistent, since the labs' client reloads the list right after each write.
#[tokio::test]
async fn search_reads_eventually_consistent_and_bounded_while_listing_stays_strong() {
    let tables = tables().await;
    let recorder = QueryRecorder::default();
    let client = aws_sdk_dynamodb::Client::from_conf(
        tables
            .client
            .config()
            .to_builder()
            .interceptor(recorder.clone())
            .build(),
    );
    let store = DynamoNotes::new(client, tables.notes_table.clone());
    let alice = user("alice");
    // More notes than five queries of 100 read, none of them matching.
    for i in 0..520 {
        store
            .put_note(write(
                &alice,
                &format!("n{i}"),
                "nothing to find",
                Expectation::Anything,
            ))
            .await
            .unwrap();
    }

    let page = store
        .search_notes(
            &alice,
            &SearchText::parse("cheese").unwrap(),
            PageSize::DEFAULT,
            None,
        )
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert!(
        page.next.is_some(),
        "the bound was reached: go on from here"
    );
    assert_eq!(
        recorder.take(),
        vec![Some(false); notes_dynamodb::SEARCH_MAX_QUERIES],
        "five eventually consistent queries, no more"
    );
    assert_eq!(
        notes_dynamodb::SEARCH_MAX_QUERIES,
        5,
        "the documented bound"
    );

    store
        .list_notes(&alice, PageSize::DEFAULT, None)
        .await
        .unwrap();
    assert_eq!(
        recorder.take(),
        vec![Some(true)],
        "one strongly consistent query"
    );
}

/// Issue 22, finding 6: at most `max` notes per user, even when creates race; replacing a note
/// is not a create; a delete frees room at once; other users are not affected.
#[tokio::test]
async fn the_per_user_cap_holds_under_concurrent_creates_and_deletes_free_room() {
    let store = store().await.with_max_notes(5);
    let (alice, bob) = (user("alice"), user("bob"));
    let creates = (0..12).map(|i| {
        let store = store.clone();
        let alice = alice.clone();
        tokio::spawn(async move {
            store
                .create_note(NewNote {
                    user_id: alice,
                    text: NoteText::parse(format!("racing note {i}")).unwrap(),
                    now: Timestamp::now(),
                })
                .await
        })
    });
    let mut created = 0;
    let mut refused = 0;
    for create in creates.collect::<Vec<_>>() {
        match create.await.unwrap() {
            Ok(_) => created += 1,
            Err(StoreError::LimitReached { limit: 5, items }) => {
                assert_eq!(items, "notes");
                refused += 1;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(
        (created, refused),
        (5, 7),
        "exactly the cap, whatever the race"
    );
    let page = store
        .list_notes(&alice, PageSize::DEFAULT, None)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 5, "the counter item is not listed");

    // At the cap: a new id by PUT is refused, a replacement of an existing note is not.
    let full = store
        .put_note(write(
            &alice,
            "extra",
            "one too many",
            Expectation::Anything,
        ))
        .await;
    assert!(
        matches!(full, Err(StoreError::LimitReached { .. })),
        "{full:?}"
    );
    let existing = page.items[0].note_id.as_str().to_owned();
    let replaced = store
        .put_note(write(&alice, &existing, "replaced", Expectation::Anything))
        .await
        .unwrap();
    assert_eq!(replaced.version.get(), 2);
    store
        .put_note(write(&bob, "1", "bob has room", Expectation::Anything))
        .await
        .unwrap();

    store
        .delete_note(&alice, &NoteId::parse(&existing).unwrap(), None)
        .await
        .unwrap();
    store
        .put_note(write(&alice, "extra", "room again", Expectation::Anything))
        .await
        .unwrap();
    let again = store
        .put_note(write(&alice, "extra2", "full again", Expectation::Absent))
        .await;
    assert!(
        matches!(again, Err(StoreError::LimitReached { .. })),
        "{again:?}"
    );
    let missing = store
        .delete_note(&alice, &NoteId::parse("never-was").unwrap(), None)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
    store
        .put_note(write(
            &alice,
            "extra2",
            "a failed delete freed nothing",
            Expectation::Absent,
        ))
        .await
        .expect_err("a 404 delete must not free room");
}
