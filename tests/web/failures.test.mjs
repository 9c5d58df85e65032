import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ApiError } from "../../web/js/errors.js";
import { createFailures } from "../../web/js/screens/failures.js";

/** The page's messages as a list of what was shown (the real one writes to live regions). */
function shownMessages() {
  const shown = [];
  return { shown, error: (message, retry = null, where = undefined) => shown.push({ message, retry, where }) };
}

/** Runs `fn` with console.error recorded instead of printed. */
function quietly(fn) {
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args.map(String).join(" "));
  try {
    return { result: fn(), logged };
  } finally {
    console.error = original;
  }
}

describe("failures", () => {
  test("a service's failure is said in its own words", () => {
    const { wordsOf } = createFailures(shownMessages());
    const err = new ApiError(403, "forbidden", "You are not allowed to do that.");
    assert.equal(wordsOf(err), "You are not allowed to do that.");
  });
  test("a bug of ours is one generic sentence, logged by name and message only", () => {
    const { wordsOf } = createFailures(shownMessages());
    const { result, logged } = quietly(() => wordsOf(new TypeError("x is undefined")));
    assert.equal(result, "Something went wrong. Try again.");
    assert.deepEqual(logged, ["unexpected failure: TypeError x is undefined"]);
  });
  test("an account failure keeps its kind; anything else becomes `unexpected`", () => {
    const { authFailure } = createFailures(shownMessages());
    const known = { kind: "wrong-password", message: "Wrong username or password." };
    assert.equal(authFailure(known), known);
    const { result } = quietly(() => authFailure(new Error("boom")));
    assert.deepEqual(result, { kind: "unexpected", message: "Something went wrong. Try again." });
  });
  test("report shows the words where asked, with the retry; an ended session shows nothing", () => {
    const messages = shownMessages();
    const { report } = createFailures(messages);
    const retry = () => {};
    const where = { id: "notes-alert" };
    report(new ApiError(503, "server", "The notes service is unavailable."), retry, where);
    report({ kind: "session", message: "Your session has ended." });
    assert.deepEqual(messages.shown, [{ message: "The notes service is unavailable.", retry, where }]);
  });
});
