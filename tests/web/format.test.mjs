import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { VOICES, formatTime } from "../../web/js/format.js";

describe("formatTime", () => {
  const cases = [
    { iso: "2026-12-03T07:05:09.123Z", tz: "UTC", want: "Dec 3, 2026, 7:05 AM", why: "an API time, in the reader's zone" },
    { iso: "2026-12-03T07:05:09.123Z", tz: "Asia/Tokyo", want: "Dec 3, 2026, 4:05 PM", why: "another zone" },
    { iso: "not a date", tz: "UTC", want: "not a date", why: "not a date: as given" },
    { iso: undefined, tz: "UTC", want: "", why: "nothing" },
  ];
  for (const c of cases) {
    test(c.why, () => assert.equal(formatTime(c.iso, "en-US", c.tz).replace(/\u202f/g, " "), c.want, c.why));
  }
});

describe("VOICES", () => {
  test("Joanna (the service's default) first, labelled with its language", () => {
    assert.deepEqual(VOICES[0], { id: "Joanna", label: "Joanna (English, US)" });
  });
  test("unique ids, each a Polly VoiceId (letters only)", () => {
    const ids = VOICES.map((v) => v.id);
    assert.equal(new Set(ids).size, ids.length, "no duplicates");
    for (const id of ids) assert.match(id, /^[A-Z][a-z]+$/, id);
  });
});
