import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";

import { debounce, latestOnly } from "../../web/js/debounce.js";

describe("debounce", () => {
  const cases = [
    { calls: [0], advance: 299, runs: 0, why: "nothing before the wait is over" },
    { calls: [0], advance: 300, runs: 1, why: "once, the wait after a call" },
    { calls: [0, 100, 200], advance: 499, runs: 0, why: "each call restarts the wait" },
    { calls: [0, 100, 200], advance: 500, runs: 1, why: "a burst runs once" },
    { calls: [0, 400], advance: 700, runs: 2, why: "calls further apart than the wait run each" },
  ];
  for (const c of cases) {
    test(c.why, () => {
      mock.timers.enable({ apis: ["setTimeout"], now: 0 });
      try {
        const fn = mock.fn();
        const d = debounce(fn, 300);
        let t = 0;
        for (const at of c.calls) {
          mock.timers.tick(at - t);
          t = at;
          d(at);
        }
        mock.timers.tick(c.advance - t);
        assert.equal(fn.mock.callCount(), c.runs, c.why);
      } finally {
        mock.timers.reset();
      }
    });
  }

  test("runs with the last call's arguments", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const fn = mock.fn();
      const d = debounce(fn, 300);
      d("m");
      d("mi");
      d("milk");
      mock.timers.tick(300);
      assert.deepEqual(fn.mock.calls.map((c) => c.arguments), [["milk"]]);
    } finally {
      mock.timers.reset();
    }
  });

  test("cancel drops the pending call; flush runs it now", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const fn = mock.fn();
      const d = debounce(fn, 300);
      d("a");
      d.cancel();
      mock.timers.tick(1000);
      assert.equal(fn.mock.callCount(), 0, "cancelled");
      d("b");
      d.flush();
      assert.deepEqual(fn.mock.calls[0].arguments, ["b"], "flushed at once");
      mock.timers.tick(1000);
      assert.equal(fn.mock.callCount(), 1, "and not again later");
      d.flush();
      assert.equal(fn.mock.callCount(), 1, "flush with nothing pending does nothing");
    } finally {
      mock.timers.reset();
    }
  });

  test("injectable timers", () => {
    const pending = [];
    const timers = { setTimeout: (f, ms) => pending.push({ f, ms }) - 1, clearTimeout: (i) => (pending[i] = null) };
    const fn = mock.fn();
    const d = debounce(fn, 250, timers);
    d(1);
    d(2);
    assert.deepEqual(pending.map((p) => p && p.ms), [null, 250], "the first timer was cleared");
    pending[1].f();
    assert.deepEqual(fn.mock.calls[0].arguments, [2]);
  });
});

describe("latestOnly", () => {
  test("only the last ticket is current", () => {
    const t = latestOnly();
    const a = t.next();
    const b = t.next();
    assert.equal(t.isCurrent(a), false, "an older request is stale");
    assert.equal(t.isCurrent(b), true, "the newest is current");
  });
});
