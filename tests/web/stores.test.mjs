import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createBoardStore } from "../../web/js/stores/board-store.js";
import { appendUnique, pageArray } from "../../web/js/pages.js";
import { errorFromStatus } from "../../web/js/errors.js";
import { createNotesStore, isSearch, matches } from "../../web/js/stores/notes-store.js";

/** A fake api: `handler(method, url, options)` answers each request; every request is recorded. */
function fakeApi(handler) {
  const calls = [];
  return {
    calls,
    request: async (method, url, options = {}) => {
      calls.push({ method, url, options });
      return handler(method, url, options, calls.length);
    },
  };
}
const page = (data, next = null, etag = null) => ({ status: 200, data, next, etag });
const keys = () => {
  let n = 0;
  return () => `k${++n}`;
};
const note = (id, text, version = 1) => ({ NoteId: id, Note: text, Version: version, CreatedAt: "2026-12-03T07:00:00.000Z", UpdatedAt: "2026-12-03T07:00:00.000Z" });

describe("pure helpers", () => {
  test("appendUnique skips notes already listed (by NoteId), keeps order", () => {
    assert.deepEqual(
      appendUnique([note("3", "c"), note("2", "b")], [note("2", "b"), note("1", "a")], (n) => n.NoteId).map((n) => n.NoteId),
      ["3", "2", "1"],
    );
  });
  test("appendUnique skips posts already listed and repeats within the page (by id)", () => {
    assert.deepEqual(appendUnique([{ id: 2 }], [{ id: 2 }, { id: 1 }, { id: 1 }], (p) => p.id).map((p) => p.id), [2, 1]);
  });
  test("pageArray keeps a bare array and drops anything else", () => {
    for (const [data, want, why] of [
      [[1, 2], [1, 2], "an array"],
      [null, [], "no body"],
      [{ items: [1] }, [], "an object"],
      ["[1]", [], "a string"],
    ]) {
      assert.deepEqual(pageArray(data), want, why);
    }
  });
  const searches = [
    { text: "", want: false, why: "empty" },
    { text: "   ", want: false, why: "blanks" },
    { text: "milk", want: true, why: "a word" },
    { text: undefined, want: false, why: "none" },
  ];
  for (const c of searches) test(`isSearch: ${c.why}`, () => assert.equal(isSearch(c.text), c.want));
  test("matches: case-insensitive substring, blank matches all", () => {
    assert.equal(matches(note("1", "Buy MILK"), "milk"), true);
    assert.equal(matches(note("1", "Buy eggs"), "milk"), false);
    assert.equal(matches(note("1", "Buy eggs"), ""), true);
  });
});

describe("notes store", () => {
  test("load: the list, then a search with the text encoded", async () => {
    const api = fakeApi(() => page([note("1", "a")], "http://x/next"));
    const store = createNotesStore(api, { newKey: keys() });
    await store.load("");
    await store.load("milk & eggs/50%");
    assert.deepEqual(api.calls.map((c) => c.url), [
      "/notes?limit=20",
      "/notes/search?text=milk%20%26%20eggs%2F50%25&limit=20",
    ]);
    assert.equal(store.state.next, "http://x/next");
    assert.equal(store.state.loaded, true);
  });

  test("a stale search answer is ignored, whatever order the answers come in", async () => {
    const resolvers = [];
    const api = { request: () => new Promise((resolve) => resolvers.push(resolve)) };
    const store = createNotesStore(api, { newKey: keys() });
    const first = store.load("m");
    const second = store.load("milk");
    resolvers[1](page([note("2", "milk")]));
    resolvers[0](page([note("1", "mud")]));
    assert.equal(await second, true, "the latest counts");
    assert.equal(await first, false, "the older one is dropped");
    assert.deepEqual(store.state.notes.map((n) => n.NoteId), ["2"]);
  });

  test("a stale search that fails is ignored too", async () => {
    const answers = [];
    const api = { request: () => new Promise((resolve, reject) => answers.push({ resolve, reject })) };
    const store = createNotesStore(api, { newKey: keys() });
    const first = store.load("m");
    const second = store.load("mi");
    answers[0].reject(errorFromStatus(503));
    answers[1].resolve(page([]));
    assert.equal(await first, false);
    assert.equal(await second, true);
  });

  test("a list read before a note was added, edited or deleted does not undo it when it arrives", async () => {
    let answerList;
    const listed = new Promise((resolve) => (answerList = resolve));
    const api = fakeApi(async (method, url, options) => {
      if (method === "GET") return listed;
      if (method === "DELETE") return page(null);
      if (options.body.NoteId) return page(note(options.body.NoteId, options.body.Note, 2));
      return page(note("new", options.body.Note));
    });
    const store = createNotesStore(api, { newKey: keys() });
    const loading = store.load("");
    await store.create("added just after sign-in");
    // The page was read before: "old" still at version 1, "gone" not yet deleted, no "new".
    const stale = [note("old", "first words"), note("gone", "to delete")];
    store.state.notes = [note("new", "added just after sign-in"), ...stale];
    await store.save("old", "second words", null);
    await store.remove(note("gone", "to delete"));
    answerList(page(stale));
    assert.equal(await loading, true);
    assert.deepEqual(
      store.state.notes.map((n) => [n.NoteId, n.Note]),
      [["new", "added just after sign-in"], ["old", "second words"]],
    );
    // A list read after the writes is taken as it is.
    const fresh = createNotesStore(fakeApi(async () => page([note("x", "only")])), { newKey: keys() });
    await fresh.load("");
    assert.deepEqual(fresh.state.notes.map((n) => n.NoteId), ["x"]);
  });

  test("more follows the Link URL and skips duplicates", async () => {
    const api = fakeApi((m, url) =>
      url === "/notes?limit=20" ? page([note("3", "c"), note("2", "b")], "http://h/notes?limit=20&next=x") : page([note("2", "b"), note("1", "a")]),
    );
    const store = createNotesStore(api, { newKey: keys() });
    await store.load("");
    await store.more();
    assert.equal(api.calls[1].url, "http://h/notes?limit=20&next=x");
    assert.deepEqual(store.state.notes.map((n) => n.NoteId), ["3", "2", "1"]);
    assert.equal(store.state.next, null);
    assert.equal(await store.more(), false, "no next page: nothing to do");
  });

  test("create: the same key on a retry after a failure, a fresh one after a success", async () => {
    let fail = true;
    const api = fakeApi((m, url, options) => {
      if (fail) {
        fail = false;
        throw errorFromStatus(503);
      }
      return { status: 201, data: note(String(api.calls.length), options.body.Note), etag: '"1"', next: null };
    });
    const store = createNotesStore(api, { newKey: keys() });
    await assert.rejects(store.create("hello"));
    await store.create("hello");
    await store.create("hello");
    assert.deepEqual(api.calls.map((c) => c.options.headers["Idempotency-Key"]), ["k1", "k1", "k2"]);
    assert.deepEqual(api.calls[0].options.body, { Note: "hello" }, "no NoteId: the server picks one");
    assert.equal(store.state.notes[0].Note, "hello", "newest first");
  });

  test("save sends If-Match; a 409 fetches the stored note and its ETag", async () => {
    const api = fakeApi((m, url) => {
      if (m === "POST") throw errorFromStatus(409, { resource: "note" });
      return { status: 200, data: note("a b", "theirs", 5), etag: '"5"', next: null };
    });
    const store = createNotesStore(api, { newKey: keys() });
    const result = await store.save("a b", "mine", '"4"');
    assert.deepEqual(api.calls[0].options.headers, { "If-Match": '"4"' });
    assert.deepEqual(api.calls[0].options.body, { NoteId: "a b", Note: "mine" });
    assert.equal(api.calls[1].url, "/notes/a%20b", "the id encoded in the path");
    assert.deepEqual(result.conflict, { note: note("a b", "theirs", 5), ifMatch: '"5"' });
  });

  test("remove sends If-Match of the note's version and drops it", async () => {
    const api = fakeApi((m, url) => (m === "GET" ? page([note("1", "a", 2), note("2", "b")]) : { status: 204, data: null, next: null, etag: null }));
    const store = createNotesStore(api, { newKey: keys() });
    await store.load("");
    await store.remove(store.find("1"));
    assert.equal(api.calls[1].method, "DELETE");
    assert.equal(api.calls[1].url, "/notes/1");
    assert.deepEqual(api.calls[1].options.headers, { "If-Match": '"2"' });
    assert.deepEqual(store.state.notes.map((n) => n.NoteId), ["2"]);
  });

  test("a 404 on delete drops the note and still reports it", async () => {
    const api = fakeApi((m) => {
      if (m === "GET") return page([note("1", "a")]);
      throw errorFromStatus(404, { resource: "note" });
    });
    const store = createNotesStore(api, { newKey: keys() });
    await store.load("");
    await assert.rejects(store.remove(store.find("1")), (err) => err.message === "That note no longer exists.");
    assert.deepEqual(store.state.notes, []);
  });

  test("a 409 on delete shows the stored version, so the next delete expects it", async () => {
    const api = fakeApi((m, url) => {
      if (m === "GET" && url === "/notes?limit=20") return page([note("1", "old", 1)]);
      if (m === "GET") return { status: 200, data: note("1", "changed", 2), etag: '"2"', next: null };
      throw errorFromStatus(409, { resource: "note" });
    });
    const store = createNotesStore(api, { newKey: keys() });
    await store.load("");
    await assert.rejects(store.remove(store.find("1")), (err) => err.message === "This note was changed elsewhere. Review it and try again.");
    assert.deepEqual(store.state.notes.map((n) => [n.Note, n.Version]), [["changed", 2]]);
  });

  test("dictate posts the voice and answers the URL", async () => {
    const api = fakeApi(() => ({ status: 200, data: "https://bucket/a.mp3?X-Amz-Signature=1", next: null, etag: null }));
    const store = createNotesStore(api, { newKey: keys() });
    assert.equal(await store.dictate("7", "Matthew"), "https://bucket/a.mp3?X-Amz-Signature=1");
    assert.deepEqual([api.calls[0].method, api.calls[0].url, api.calls[0].options.body], ["POST", "/notes/7", { VoiceId: "Matthew" }]);
  });
});

describe("board store", () => {
  test("load, post with its own key per submission, newest first", async () => {
    const api = fakeApi((m, url, options) =>
      m === "GET"
        ? page([{ id: 1, title: "t", contents: "c", author: "bob", createdAt: "2026-12-03T07:00:00.000Z" }])
        : { status: 201, data: { id: api.calls.length, ...options.body, author: "me", createdAt: "2026-12-03T07:01:00.000Z" }, next: null, etag: null },
    );
    const board = createBoardStore(api, { newKey: keys() });
    await board.load();
    assert.equal(api.calls[0].url, "/post?limit=20");
    await board.create("Hi", "there");
    await board.create("Hi", "there");
    assert.deepEqual(api.calls.slice(1).map((c) => c.options.headers["Idempotency-Key"]), ["k1", "k2"]);
    assert.deepEqual(api.calls[1].options.body, { title: "Hi", contents: "there" });
    assert.deepEqual(board.state.posts.map((p) => p.id), [3, 2, 1]);
  });

  test("more appends the Link page without repeats; an answer overtaken by a reload is dropped", async () => {
    const post = (id) => ({ id, title: `t${id}`, contents: "c", author: "bob", createdAt: "2026-12-03T07:00:00.000Z" });
    let releaseSlow;
    const slow = new Promise((resolve) => (releaseSlow = resolve));
    const api = fakeApi((m, url, options, n) => {
      if (n === 1) return page([post(3), post(2)], "http://x/post?next=a");
      if (n === 2) return page([post(2), post(1)]);
      if (n === 3) return slow.then(() => page([post(9)], "http://x/post?next=old"));
      return page([post(4), post(3)]);
    });
    const board = createBoardStore(api, { newKey: keys() });
    await board.load();
    assert.equal(await board.more(), true);
    assert.equal(api.calls[1].url, "http://x/post?next=a", "the Link URL as given");
    assert.deepEqual(board.state.posts.map((p) => p.id), [3, 2, 1]);
    assert.equal(board.state.next, null, "no Link: the last page");

    const overtaken = board.load();
    assert.equal(await board.load(), true);
    releaseSlow();
    assert.equal(await overtaken, false, "the earlier load's answer is dropped");
    assert.deepEqual(board.state.posts.map((p) => p.id), [4, 3]);
    assert.equal(board.state.next, null);
  });
});
