import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createSubmission, uuidV4 } from "../../web/js/idempotency.js";

const counter = () => {
  let n = 0;
  return () => `key-${++n}`;
};

describe("createSubmission: one key per submission", () => {
  const cases = [
    {
      why: "a retry of the same content reuses the key (a double click or a retry creates one note)",
      steps: [["send", { Note: "a" }], ["send", { Note: "a" }]],
      keys: ["key-1", "key-1"],
    },
    {
      why: "after a success the next submission gets a fresh key, even with the same text",
      steps: [["send", { Note: "a" }], ["done"], ["send", { Note: "a" }]],
      keys: ["key-1", "key-2"],
    },
    {
      why: "changed content after a failure is a new submission (never a 422)",
      steps: [["send", { Note: "a" }], ["send", { Note: "b" }], ["send", { Note: "b" }]],
      keys: ["key-1", "key-2", "key-2"],
    },
    {
      why: "posts: both fields count",
      steps: [["send", { title: "t", contents: "c" }], ["send", { title: "t", contents: "c2" }]],
      keys: ["key-1", "key-2"],
    },
  ];
  for (const c of cases) {
    test(c.why, () => {
      const s = createSubmission(counter());
      const keys = [];
      for (const [op, body] of c.steps) {
        if (op === "send") keys.push(s.keyFor(body));
        else s.done();
      }
      assert.deepEqual(keys, c.keys, c.why);
    });
  }

  test("pendingKey shows the key in flight, null after done", () => {
    const s = createSubmission(counter());
    assert.equal(s.pendingKey, null);
    s.keyFor({ Note: "x" });
    assert.equal(s.pendingKey, "key-1");
    s.done();
    assert.equal(s.pendingKey, null);
  });
});

describe("uuidV4", () => {
  test("a version 4, variant 1 UUID from random bytes", () => {
    const id = uuidV4((a) => a.fill(0xff));
    assert.equal(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    assert.match(uuidV4((a) => globalThis.crypto.getRandomValues(a)), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  test("fits the API's Idempotency-Key (1–255 visible ASCII)", () => {
    assert.match(uuidV4((a) => a.fill(0)), /^[\x21-\x7e]{1,255}$/);
  });
});
