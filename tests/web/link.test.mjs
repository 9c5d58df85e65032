import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { linkUrl, parseLinkHeader } from "../../web/js/link.js";

const NEXT = "https://abc.execute-api.us-east-1.amazonaws.com/Prod/notes?limit=2&next=eyJ2Ijox";

describe("linkUrl(header, 'next')", () => {
  const cases = [
    { header: `<${NEXT}>; rel="next"`, want: NEXT, why: "the API's own form" },
    { header: `<${NEXT}>; rel=next`, want: NEXT, why: "an unquoted rel" },
    { header: `<${NEXT}>;rel="next"`, want: NEXT, why: "no space after the semicolon" },
    { header: `<${NEXT}> ; REL = "NEXT"`, want: NEXT, why: "spaces around '=' and any case" },
    { header: `<https://x/notes?page=1>; rel="prev", <${NEXT}>; rel="next"`, want: NEXT, why: "several links: the next one" },
    { header: `<https://x/a>; rel="first", <https://x/b>; rel="last"`, want: null, why: "no next among several rels" },
    { header: `<https://x/notes?tags=a,b&next=c%2Cd>; rel="next"`, want: "https://x/notes?tags=a,b&next=c%2Cd", why: "commas inside the URL" },
    { header: `<https://x/1>; title="a, b; c"; rel="next"`, want: "https://x/1", why: "commas and semicolons inside a quoted parameter" },
    { header: `<https://x/1>; rel="prefetch next"`, want: "https://x/1", why: "several relation types in one rel" },
    { header: `<https://x/1>; rel="nextpage"`, want: null, why: "a relation that only starts with next" },
    { header: `<https://x/1>; rel="next"; rel="prev"`, want: "https://x/1", why: "the first rel parameter counts" },
    { header: `<http://127.0.0.1:3000/notes?limit=20&text=milk%20and&next=abc>; rel="next"`, want: "http://127.0.0.1:3000/notes?limit=20&text=milk%20and&next=abc", why: "the local API, with a search text, as given" },
    { header: `<https://x/1>`, want: null, why: "a link without rel" },
    { header: "", want: null, why: "an empty header" },
    { header: null, want: null, why: "an absent header (Headers.get gives null)" },
    { header: undefined, want: null, why: "undefined" },
    { header: "garbage", want: null, why: "not a link at all" },
    { header: "<https://x/1", want: null, why: "an unterminated URL" },
  ];
  for (const c of cases) {
    test(c.why, () => assert.equal(linkUrl(c.header, "next"), c.want, c.why));
  }
});

describe("parseLinkHeader", () => {
  test("returns every link with its rels and parameters", () => {
    assert.deepEqual(parseLinkHeader(`<https://x/p>; rel="prev"; title=back, <https://x/n>; rel="next"`), [
      { url: "https://x/p", rels: ["prev"], params: { rel: "prev", title: "back" } },
      { url: "https://x/n", rels: ["next"], params: { rel: "next" } },
    ]);
  });
  test("an escaped quote inside a quoted value", () => {
    assert.deepEqual(parseLinkHeader(`<https://x/n>; title="say \\"hi\\""; rel=next`)[0].params, {
      title: 'say "hi"',
      rel: "next",
    });
  });
  test("rel defaults to the first argument: linkUrl('prev')", () => {
    assert.equal(linkUrl(`<https://x/p>; rel="prev", <https://x/n>; rel="next"`, "prev"), "https://x/p");
  });
});
