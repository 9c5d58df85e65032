import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { VOICES, formatTime, noteCard } from "../../web/js/format.js";

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

describe("noteCard", () => {
  const long = "x".repeat(10_000);
  const cases = [
    { text: "milk & eggs", want: { title: "milk & eggs", rest: "", long: false }, why: "one line: a title alone" },
    { text: "Shopping\nmilk\neggs", want: { title: "Shopping", rest: "milk\neggs", long: false }, why: "the first line is the title, the rest the preview" },
    { text: "\n\n  Title  \n\n\nbody\n\n", want: { title: "Title", rest: "body", long: false }, why: "blank lines around are not shown" },
    { text: "   \n ", want: { title: "", rest: "", long: false }, why: "nothing but blanks" },
    { text: long, want: { title: long, rest: "", long: true }, why: "a 10,000-character line collapses" },
    { text: `t\n${"y".repeat(161)}`, want: { title: "t", rest: "y".repeat(161), long: true }, why: "a long preview collapses" },
    { text: `t\n${"y".repeat(160)}`, want: { title: "t", rest: "y".repeat(160), long: false }, why: "up to 160 characters are shown whole" },
    { text: "t\n1\n2\n3\n4", want: { title: "t", rest: "1\n2\n3\n4", long: true }, why: "more than three lines collapse" },
    { text: "t\n1\n2\n3", want: { title: "t", rest: "1\n2\n3", long: false }, why: "three lines are shown whole" },
    { text: "x".repeat(81), want: { title: "x".repeat(81), rest: "", long: true }, why: "a title over 80 characters collapses" },
  ];
  for (const c of cases) {
    test(c.why, () => assert.deepEqual(noteCard(c.text), c.want, c.why));
  }
});
