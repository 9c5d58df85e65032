import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createApi, ifMatchFor } from "../../web/js/api.js";
import { ApiError, MESSAGES } from "../../web/js/errors.js";

/** A fake fetch answering from a list of responses (or errors), recording each request. */
function fakeFetch(answers) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    const next = answers.shift();
    if (next instanceof Error) throw next;
    if (typeof next === "function") return next(url, init);
    return next;
  };
  return { fetch, calls };
}

const json = (status, body, headers = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });

function setup(answers, { apiKey = null, refresh } = {}) {
  const { fetch, calls } = fakeFetch(answers);
  const tokens = { current: "tok-1", refreshes: 0 };
  const ended = [];
  const api = createApi({
    baseUrl: "http://127.0.0.1:4000/",
    apiKey,
    fetch,
    auth: {
      token: async () => tokens.current,
      refresh:
        refresh ??
        (async () => {
          tokens.refreshes++;
          tokens.current = `tok-${tokens.refreshes + 1}`;
          return tokens.current;
        }),
    },
    onSessionEnded: (err) => ended.push(err),
  });
  return { api, calls, tokens, ended };
}

describe("requests", () => {
  test("Bearer token, Accept, JSON body, the base URL without its trailing slash", async () => {
    const { api, calls } = setup([json(201, { NoteId: "1", Note: "a" }, { ETag: '"1"' })]);
    const res = await api.request("POST", "/notes", { body: { Note: "a" }, headers: { "Idempotency-Key": "k" } });
    assert.equal(calls[0].url, "http://127.0.0.1:4000/notes");
    assert.equal(calls[0].init.method, "POST");
    assert.equal(calls[0].init.headers.Authorization, "Bearer tok-1");
    assert.equal(calls[0].init.headers["Content-Type"], "application/json");
    assert.equal(calls[0].init.headers["Idempotency-Key"], "k");
    assert.equal(calls[0].init.body, '{"Note":"a"}');
    assert.equal("x-api-key" in calls[0].init.headers, false, "no api key configured: no header");
    assert.equal(res.status, 201);
    assert.equal(res.etag, '"1"');
    assert.deepEqual(res.data, { NoteId: "1", Note: "a" });
  });

  test("x-api-key when configured; no Content-Type without a body", async () => {
    const { api, calls } = setup([json(200, [])], { apiKey: "key-123" });
    await api.request("GET", "/notes?limit=20");
    assert.equal(calls[0].init.headers["x-api-key"], "key-123");
    assert.equal("Content-Type" in calls[0].init.headers, false);
    assert.equal(calls[0].init.body, undefined);
  });

  test("a Link URL is followed exactly as given, and the next one read", async () => {
    const next = "http://127.0.0.1:4000/notes?limit=20&next=abc%3D";
    const { api, calls } = setup([
      json(200, [], { Link: `<${next}>; rel="next"` }),
      json(200, []),
    ]);
    const first = await api.request("GET", "/notes?limit=20");
    assert.equal(first.next, next);
    const second = await api.request("GET", first.next);
    assert.equal(calls[1].url, next, "not rebased on apiUrl");
    assert.equal(second.next, null, "no Link: the last page");
  });

  test("a Link URL on another origin is not followed: no request, no token sent", async () => {
    for (const url of ["https://evil.example/notes?next=x", "http://127.0.0.1:4001/notes", "https://127.0.0.1:4000/notes"]) {
      const { api, calls } = setup([json(200, [])]);
      await assert.rejects(api.request("GET", url), (err) => err instanceof ApiError && err.status === 502, url);
      assert.equal(calls.length, 0, `${url}: nothing sent`);
    }
  });

  test("204: no body", async () => {
    const { api } = setup([new Response(null, { status: 204 })]);
    const res = await api.request("DELETE", "/notes/1");
    assert.equal(res.status, 204);
    assert.equal(res.data, null);
  });
});

describe("failures become ApiErrors", () => {
  const cases = [
    { answer: json(400, { message: "Note: must be 1-10000 characters" }), status: 400, kind: "bad-request", message: "Note: must be 1-10000 characters" },
    { answer: json(403, { message: "Forbidden" }), status: 403, kind: "forbidden", message: MESSAGES.forbidden },
    { answer: json(404, { message: "note not found" }), resource: "note", status: 404, kind: "not-found", message: MESSAGES.noteNotFound },
    { answer: json(409, { message: "version mismatch" }), resource: "note", status: 409, kind: "conflict", message: MESSAGES.conflict },
    { answer: json(409, { message: "in progress" }, { "Retry-After": "1" }), status: 409, kind: "in-progress", message: MESSAGES.inProgress },
    { answer: json(413, { message: "too big" }), status: 413, kind: "too-large", message: MESSAGES.tooLarge },
    { answer: json(415, { message: "json only" }), status: 415, kind: "rejected", message: MESSAGES.badRequest },
    { answer: json(422, { message: "key reused" }), status: 422, kind: "key-reused", message: MESSAGES.keyReused },
    { answer: json(429, { message: "Too Many Requests" }), status: 429, kind: "rate-limited", message: MESSAGES.tooMany },
    { answer: json(429, { message: "Too many requests: at most 1000 every 5 minutes" }, { "Retry-After": "300" }), status: 429, kind: "rate-limited", message: "Too many requests. Try again in 5 minutes." },
    { answer: json(500, { message: "Internal Server Error" }), status: 500, kind: "server", message: MESSAGES.server },
    { answer: new Response("<html>Bad gateway</html>", { status: 502 }), status: 502, kind: "server", message: MESSAGES.server },
    { answer: new Response("not json", { status: 200 }), status: 502, kind: "server", message: MESSAGES.server },
    { answer: new TypeError("Failed to fetch"), status: 0, kind: "network", message: MESSAGES.network },
  ];
  for (const c of cases) {
    test(`${c.status} ${c.kind}`, async () => {
      const { api, ended } = setup([c.answer]);
      await assert.rejects(api.request("GET", "/notes", { resource: c.resource }), (err) => {
        assert.ok(err instanceof ApiError, "an ApiError");
        assert.equal(err.status, c.status);
        assert.equal(err.kind, c.kind);
        assert.equal(err.message, c.message);
        return true;
      });
      assert.equal(ended.length, 0, "the session goes on");
    });
  }
  test("a network failure keeps its cause", async () => {
    const cause = new TypeError("Failed to fetch");
    const { api } = setup([cause]);
    await assert.rejects(api.request("GET", "/notes"), (err) => err.cause === cause);
  });
});

describe("401: refresh once, retry once", () => {
  test("a 401 then a success: one refresh, the retry with the new token", async () => {
    const { api, calls, tokens, ended } = setup([json(401, { message: "Unauthorized" }), json(200, [])]);
    const res = await api.request("GET", "/notes");
    assert.equal(res.status, 200);
    assert.equal(tokens.refreshes, 1);
    assert.deepEqual(calls.map((c) => c.init.headers.Authorization), ["Bearer tok-1", "Bearer tok-2"]);
    assert.equal(ended.length, 0);
  });

  test("a 401 twice: the session has ended, no third request", async () => {
    const { api, calls, ended } = setup([json(401, {}), json(401, {})]);
    await assert.rejects(api.request("GET", "/notes"), (err) => err.kind === "session" && err.message === MESSAGES.session);
    assert.equal(calls.length, 2);
    assert.equal(ended.length, 1, "the page is told once");
  });

  test("a failed refresh: the session has ended, no retry", async () => {
    const { api, calls, ended } = setup([json(401, {})], {
      refresh: async () => {
        throw new Error("NotAuthorizedException: Refresh Token has expired");
      },
    });
    await assert.rejects(api.request("GET", "/notes"), (err) => err.status === 401 && err.kind === "session");
    assert.equal(calls.length, 1);
    assert.equal(ended.length, 1);
  });

  test("a refresh that cannot reach Cognito is a network failure, not the end of the session", async () => {
    const { api, ended } = setup([json(401, {})], {
      refresh: async () => {
        throw new ApiError(0, "network", MESSAGES.network);
      },
    });
    await assert.rejects(api.request("GET", "/notes"), (err) => err.kind === "network");
    assert.equal(ended.length, 0);
  });

  test("the retry of a POST sends the same body and Idempotency-Key", async () => {
    const { api, calls } = setup([json(401, {}), json(201, { NoteId: "1" })]);
    await api.request("POST", "/notes", { body: { Note: "x" }, headers: { "Idempotency-Key": "k1" } });
    assert.deepEqual(
      calls.map((c) => [c.init.body, c.init.headers["Idempotency-Key"]]),
      [['{"Note":"x"}', "k1"], ['{"Note":"x"}', "k1"]],
    );
  });

  test("a 403 is not retried and keeps the session", async () => {
    const { api, calls, tokens, ended } = setup([json(403, { message: "Forbidden" })]);
    await assert.rejects(api.request("GET", "/notes"), (err) => err.kind === "forbidden");
    assert.equal(calls.length, 1);
    assert.equal(tokens.refreshes, 0);
    assert.equal(ended.length, 0);
  });
});

describe("ifMatchFor", () => {
  const cases = [
    { note: { Version: 3 }, etag: '"4"', want: '"4"', why: "the ETag wins" },
    { note: { Version: 3 }, etag: null, want: '"3"', why: "else the note's Version, quoted" },
    { note: { Version: 0 }, etag: "", want: '"0"', why: "version 0 is a version" },
    { note: {}, etag: null, want: null, why: "nothing to match" },
  ];
  for (const c of cases) test(c.why, () => assert.equal(ifMatchFor(c.note, c.etag), c.want));
});
