import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { expiresSoon, refreshDelayMs } from "../../web/js/timing.js";

const NOW = 1_800_000_000_000; // ms

describe("refreshDelayMs: a minute before exp, on the service's clock", () => {
  const cases = [
    { exp: NOW / 1000 + 3600, drift: 0, want: 3540_000, why: "a fresh one-hour token: in 59 minutes" },
    { exp: NOW / 1000 + 3600, drift: 10, want: 3550_000, why: "local clock 10 s ahead: 10 s later" },
    { exp: NOW / 1000 + 3600, drift: -10, want: 3530_000, why: "local clock 10 s behind: 10 s sooner" },
    { exp: NOW / 1000 + 30, drift: 0, want: 0, why: "less than a minute left: now" },
    { exp: NOW / 1000 - 100, drift: 0, want: 0, why: "expired: now, never negative" },
    { exp: NOW / 1000 + 3600, drift: NaN, want: 3540_000, why: "an unknown drift counts as none" },
  ];
  for (const c of cases) {
    test(c.why, () => assert.equal(refreshDelayMs(c.exp, NOW, c.drift), c.want, c.why));
  }
  test("custom margin", () => assert.equal(refreshDelayMs(NOW / 1000 + 100, NOW, 0, 30), 70_000));
});

describe("expiresSoon", () => {
  const cases = [
    { exp: NOW / 1000 + 31, want: false, why: "31 s left" },
    { exp: NOW / 1000 + 30, want: true, why: "30 s left" },
    { exp: NOW / 1000 - 1, want: true, why: "expired" },
  ];
  for (const c of cases) {
    test(c.why, () => assert.equal(expiresSoon(c.exp, NOW, 0, 30), c.want, c.why));
  }
});
