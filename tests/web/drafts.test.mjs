import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { afterSent, createDrafts, draftsKey } from "../../web/js/drafts.js";

/** An in-memory Storage, optionally refusing every write (a full or disabled storage). */
function memoryStorage({ refuse = false } = {}) {
  const data = new Map();
  return {
    data,
    getItem: (k) => (data.has(k) ? data.get(k) : null),
    setItem: (k, v) => {
      if (refuse) throw new Error("QuotaExceededError");
      data.set(k, String(v));
    },
    removeItem: (k) => {
      if (refuse) throw new Error("SecurityError");
      data.delete(k);
    },
  };
}

describe("afterSent", () => {
  const cases = [
    { current: "first", sent: "first", want: { text: "", removed: 5 }, why: "nothing typed meanwhile: the box empties" },
    { current: "firstSec", sent: "first", want: { text: "Sec", removed: 5 }, why: "typing went on: only what was sent goes" },
    { current: "first\n\nSecond", sent: "first", want: { text: "Second", removed: 7 }, why: "the line breaks between the two go too" },
    { current: "first second", sent: "first", want: { text: "second", removed: 6 }, why: "a separating space goes" },
    { current: "fir st", sent: "first", want: { text: "fir st", removed: 0 }, why: "the sent text was changed: left as it is" },
    { current: "", sent: "first", want: { text: "", removed: 0 }, why: "already emptied by the person" },
    { current: "other", sent: "", want: { text: "other", removed: 0 }, why: "nothing was sent" },
  ];
  for (const c of cases) test(c.why, () => assert.deepEqual(afterSent(c.current, c.sent), c.want));
});

describe("createDrafts", () => {
  test("keeps the new note per user, under a key of its own", () => {
    const storage = memoryStorage();
    const alice = createDrafts(storage, "sub-alice");
    const bob = createDrafts(storage, "sub-bob");
    alice.setNote("alice's words");
    assert.equal(alice.note(), "alice's words");
    assert.equal(bob.note(), "", "another user does not see it");
    assert.deepEqual([...storage.data.keys()], [draftsKey("sub-alice")]);
    assert.equal(draftsKey("sub-alice"), "PollyNotes.drafts.sub-alice");
  });

  test("survives a new page (a reload reads what the last one wrote)", () => {
    const storage = memoryStorage();
    createDrafts(storage, "u").setNote("typed before the reload");
    createDrafts(storage, "u").setEdit("n1", "edited text", '"2"');
    const again = createDrafts(storage, "u");
    assert.equal(again.note(), "typed before the reload");
    assert.deepEqual(again.edit("n1"), { text: "edited text", ifMatch: '"2"' });
    assert.deepEqual(again.edits(), { n1: { text: "edited text", ifMatch: '"2"' } });
  });

  test("a blank note or a cleared edit is no draft, and nothing at all removes the key", () => {
    const storage = memoryStorage();
    const drafts = createDrafts(storage, "u");
    drafts.setNote("words");
    drafts.setEdit("n1", "text", null);
    drafts.setNote("   \n");
    assert.equal(drafts.note(), "");
    assert.ok(storage.data.has(draftsKey("u")), "the edit is still kept");
    drafts.clearEdit("n1");
    assert.equal(drafts.edit("n1"), null);
    assert.equal(storage.data.size, 0, "an empty draft set leaves no key behind");
  });

  test("clearing one edit keeps the others", () => {
    const drafts = createDrafts(memoryStorage(), "u");
    drafts.setEdit("n1", "one", '"1"');
    drafts.setEdit("n2", "two", '"4"');
    drafts.clearEdit("n1");
    drafts.clearEdit("unknown");
    assert.deepEqual(drafts.edits(), { n2: { text: "two", ifMatch: '"4"' } });
  });

  test("unreadable stored data is no draft, never an exception", () => {
    for (const [raw, why] of [
      ["not json", "not JSON"],
      ["null", "null"],
      ['{"note": 5, "edits": {"n1": {"text": 7}}}', "wrong types"],
      ['{"edits": "x"}', "edits not an object"],
    ]) {
      const storage = memoryStorage();
      storage.data.set(draftsKey("u"), raw);
      const drafts = createDrafts(storage, "u");
      assert.equal(drafts.note(), "", why);
      assert.deepEqual(drafts.edits(), {}, why);
    }
  });

  test("a storage that refuses writes, or none at all, costs the draft's survival, not the page", () => {
    for (const storage of [memoryStorage({ refuse: true }), null]) {
      const drafts = createDrafts(storage, "u");
      drafts.setNote("kept in the page only");
      drafts.setEdit("n1", "x", null);
      drafts.clearEdit("n1");
      assert.equal(drafts.note(), "");
    }
  });
});
