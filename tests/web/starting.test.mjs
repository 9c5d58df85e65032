import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { stillStarting, waitForConfiguration } from "../../web/js/starting.js";

const STARTING = "// make dev is starting\nwindow.NOTES_BACKEND_STARTING = true;\n";
const CONFIGURED = 'window.NOTES_CONFIG = Object.freeze({"apiUrl": "http://127.0.0.1:4000"});\n';

/** A scheduler the test steps by hand: each `tick()` runs what is due, awaiting it. */
function manualClock() {
  const queue = [];
  return {
    schedule: (fn) => {
      queue.push(fn);
      return queue.length;
    },
    cancel: () => queue.splice(0),
    pending: () => queue.length,
    tick: async () => {
      const fn = queue.shift();
      if (fn) await fn();
    },
  };
}

describe("stillStarting", () => {
  test("the dev server's starting answer", () => assert.equal(stillStarting(STARTING), true));
  test("a configuration", () => assert.equal(stillStarting(CONFIGURED), false));
});

describe("waitForConfiguration", () => {
  test("polls until the configuration is served, then calls ready once", async () => {
    const answers = [
      () => Promise.reject(new TypeError("Failed to fetch")),
      () => Promise.resolve({ ok: true, text: async () => STARTING }),
      () => Promise.resolve({ ok: false, text: async () => "not found" }),
      () => Promise.resolve({ ok: true, text: async () => CONFIGURED }),
    ];
    const urls = [];
    let ready = 0;
    const clock = manualClock();
    waitForConfiguration({
      fetch: (url, init) => {
        urls.push([url, init.cache]);
        return answers.shift()();
      },
      url: "config.js",
      intervalMs: 1000,
      ready: () => ready++,
      schedule: clock.schedule,
      cancel: clock.cancel,
    });
    for (let i = 0; i < 3; i++) {
      await clock.tick();
      assert.equal(ready, 0, `not ready after answer ${i + 1}`);
    }
    await clock.tick();
    assert.equal(ready, 1, "ready once the configuration is served");
    assert.equal(clock.pending(), 0, "and no more polling");
    assert.deepEqual(urls[0], ["config.js", "no-store"], "never from the browser's cache");
  });

  test("a stop ends the polling", async () => {
    const clock = manualClock();
    let calls = 0;
    const stop = waitForConfiguration({
      fetch: async () => {
        calls++;
        return { ok: true, text: async () => STARTING };
      },
      url: "config.js",
      intervalMs: 1000,
      ready: () => assert.fail("never ready"),
      schedule: clock.schedule,
      cancel: clock.cancel,
    });
    await clock.tick();
    stop();
    assert.equal(clock.pending(), 0);
    assert.equal(calls, 1);
  });
});
