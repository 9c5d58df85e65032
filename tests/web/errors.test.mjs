import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  ApiError,
  MESSAGES,
  describeCognitoError,
  describeStatus,
  errorFromStatus,
  isNetworkFailure,
  networkError,
} from "../../web/js/errors.js";

describe("describeStatus: every status people can meet", () => {
  const cases = [
    { status: 400, context: { serverMessage: "Note: must not be empty" }, kind: "bad-request", message: "Note: must not be empty", why: "a 400 shows the server's message (it names the field)" },
    { status: 400, context: { serverMessage: "  " }, kind: "bad-request", message: MESSAGES.badRequest, why: "a blank server message falls back" },
    { status: 400, context: { serverMessage: 42 }, kind: "bad-request", message: MESSAGES.badRequest, why: "a non-string server message falls back" },
    { status: 400, context: {}, kind: "bad-request", message: "The service could not accept that request.", why: "a 400 without a message falls back" },
    { status: 401, context: {}, kind: "session", message: "Your session has ended. Please sign in again.", why: "401 ends the session" },
    { status: 403, context: {}, kind: "forbidden", message: "You are not allowed to do that.", why: "403 keeps the session" },
    { status: 404, context: { resource: "note" }, kind: "not-found", message: "That note no longer exists.", why: "404 of a note" },
    { status: 404, context: { resource: "post" }, kind: "not-found", message: "Not found.", why: "404 of anything else" },
    { status: 404, context: {}, kind: "not-found", message: "Not found.", why: "404 without a resource" },
    { status: 409, context: { resource: "note" }, kind: "conflict", message: "This note was changed elsewhere. Review it and try again.", why: "409: changed elsewhere" },
    { status: 409, context: { resource: "note", retryAfter: "1" }, kind: "in-progress", message: MESSAGES.inProgress, why: "409 with Retry-After: the same Idempotency-Key is still running" },
    { status: 409, context: { resource: "note", retryAfter: null }, kind: "conflict", message: MESSAGES.conflict, why: "a missing Retry-After (null from Headers.get) is a conflict" },
    { status: 413, context: {}, kind: "too-large", message: "That is too long to send.", why: "413" },
    { status: 415, context: {}, kind: "rejected", message: "The service could not accept that request.", why: "415" },
    { status: 405, context: {}, kind: "rejected", message: MESSAGES.badRequest, why: "another 4xx" },
    { status: 422, context: {}, kind: "key-reused", message: "That request was already sent with different content. Reload and try again.", why: "422" },
    { status: 429, context: {}, kind: "rate-limited", message: "Too many requests. Wait a moment and try again.", why: "429" },
    { status: 429, context: { retryAfter: "300" }, kind: "rate-limited", message: "Too many requests. Try again in 5 minutes.", why: "429 of the per-caller limit: Retry-After the whole window" },
    { status: 429, context: { retryAfter: "61" }, kind: "rate-limited", message: "Too many requests. Try again in 2 minutes.", why: "rounded up, never too early" },
    { status: 429, context: { retryAfter: "1" }, kind: "rate-limited", message: "Too many requests. Try again in 1 second.", why: "one, not ones" },
    { status: 429, context: { retryAfter: "25200" }, kind: "rate-limited", message: "Too many requests. Try again in 7 hours.", why: "the daily dictation budget: until the UTC day ends" },
    { status: 429, context: { retryAfter: null }, kind: "rate-limited", message: MESSAGES.tooMany, why: "no Retry-After (API Gateway's own throttle)" },
    { status: 429, context: { retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT" }, kind: "rate-limited", message: MESSAGES.tooMany, why: "an HTTP date is not read" },
    { status: 429, context: { retryAfter: "0" }, kind: "rate-limited", message: MESSAGES.tooMany, why: "zero says nothing" },
    { status: 500, context: { serverMessage: "internal detail" }, kind: "server", message: "The notes service is having trouble. Try again in a moment.", why: "500 never shows the body" },
    { status: 502, context: {}, kind: "server", message: MESSAGES.server, why: "502" },
    { status: 503, context: { retryAfter: "1" }, kind: "server", message: MESSAGES.server, why: "503" },
    { status: 504, context: {}, kind: "server", message: MESSAGES.server, why: "504" },
    { status: 302, context: {}, kind: "server", message: MESSAGES.server, why: "a redirect is not a success either" },
  ];
  for (const c of cases) {
    test(`${c.status}: ${c.why}`, () => {
      assert.deepEqual(describeStatus(c.status, c.context), { kind: c.kind, message: c.message }, c.why);
    });
  }
});

describe("ApiError", () => {
  test("errorFromStatus carries status, kind and message", () => {
    const err = errorFromStatus(403);
    assert.ok(err instanceof ApiError, "an ApiError");
    assert.ok(err instanceof Error, "an Error");
    assert.equal(err.status, 403);
    assert.equal(err.kind, "forbidden");
    assert.equal(err.message, MESSAGES.forbidden);
  });
  test("errorFromStatus keeps Retry-After", () => {
    assert.equal(errorFromStatus(503, { retryAfter: "1" }).retryAfter, "1");
  });
  test("networkError: status 0, the network message, the cause kept", () => {
    const cause = new TypeError("Failed to fetch");
    const err = networkError(cause);
    assert.equal(err.status, 0);
    assert.equal(err.kind, "network");
    assert.equal(err.message, "Cannot reach the notes service. Check your connection and try again.");
    assert.equal(err.cause, cause);
  });
  const failures = [
    { err: new TypeError("Failed to fetch"), network: true, why: "Chromium's rejected fetch (also CORS)" },
    { err: new TypeError("NetworkError when attempting to fetch resource."), network: true, why: "Firefox's" },
    { err: { name: "TypeError", message: "Load failed" }, network: true, why: "Safari's, from another realm" },
    { err: new Error("boom"), network: false, why: "a plain Error is a bug, not the network" },
    { err: null, network: false, why: "null" },
  ];
  for (const c of failures) {
    test(`isNetworkFailure: ${c.why}`, () => assert.equal(isNetworkFailure(c.err), c.network, c.why));
  }
});

describe("describeCognitoError", () => {
  const cases = [
    { err: { code: "NotAuthorizedException", message: "Incorrect username or password." }, kind: "wrong-password", message: "Incorrect username or password." },
    { err: { code: "UserNotFoundException", message: "User does not exist." }, kind: "wrong-password", message: "Incorrect username or password." },
    { err: { code: "UserNotConfirmedException", message: "User is not confirmed." }, kind: "not-confirmed", message: "Confirm your account with the code we sent you." },
    { err: { code: "UsernameExistsException", message: "User already exists" }, kind: "username-taken", message: "That username is taken." },
    { err: { code: "InvalidPasswordException", message: "Password did not conform with policy: Password not long enough" }, kind: "weak-password", message: MESSAGES.weakPassword },
    { err: { code: "InvalidPasswordException", message: "The provided password does not confirm to the configured password policy" }, kind: "weak-password", message: MESSAGES.weakPassword },
    { err: { code: "InvalidParameterException", message: "1 validation error detected: Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\S]+.*[\\S]+$" }, kind: "weak-password", message: MESSAGES.weakPassword },
    { err: { code: "InvalidParameterException", message: "Invalid email address format." }, kind: "invalid-email", message: MESSAGES.invalidEmail },
    { err: { code: "InvalidParameterException", message: "1 validation error detected: Value at 'username' failed to satisfy constraint" }, kind: "invalid-username", message: MESSAGES.invalidUsername },
    { err: { code: "InvalidParameterException", message: "" }, kind: "invalid", message: MESSAGES.checkInput },
    { err: { code: "CodeMismatchException", message: "Invalid verification code provided" }, kind: "code-mismatch", message: "That code is not correct." },
    { err: { code: "ExpiredCodeException", message: "Invalid code provided" }, kind: "code-expired", message: "That code has expired. Send a new one." },
    { err: { code: "LimitExceededException", message: "Attempt limit exceeded" }, kind: "rate-limited", message: MESSAGES.tooMany },
    { err: { code: "TooManyRequestsException", message: "Rate exceeded" }, kind: "rate-limited", message: "Too many requests. Wait a moment and try again." },
    { err: Object.assign(new Error("Network error"), { code: "NetworkError" }), kind: "network", message: MESSAGES.network },
    { err: new TypeError("Failed to fetch"), kind: "network", message: MESSAGES.network },
    { err: { code: "InternalErrorException", message: "internal" }, kind: "account", message: MESSAGES.accountService },
    { err: undefined, kind: "account", message: MESSAGES.accountService },
  ];
  for (const c of cases) {
    test(`${c.err?.code ?? c.err?.name ?? String(c.err)} → ${c.kind}`, () => {
      assert.deepEqual(describeCognitoError(c.err), { kind: c.kind, message: c.message });
    });
  }
  test("falls back to err.name when there is no code", () => {
    assert.equal(describeCognitoError({ name: "CodeMismatchException" }).kind, "code-mismatch");
  });
  const authenticator = [
    { code: "CodeMismatchException", kind: "code-mismatch", why: "a wrong code at sign-in: type it anew, nothing to resend" },
    { code: "EnableSoftwareTokenMFAException", kind: "code-mismatch", why: "a wrong code when setting up" },
    { code: "InvalidParameterException", kind: "code-mismatch", why: "not six digits" },
    { code: "ExpiredCodeException", kind: "code-used", why: "a code already used: wait for the next" },
    { code: "NotAuthorizedException", kind: "session", why: "the sign-in session expired meanwhile" },
  ];
  for (const c of authenticator) {
    test(`authenticator: ${c.why}`, () => {
      const got = describeCognitoError({ code: c.code, message: "Cognito's own words" }, "authenticator");
      assert.equal(got.kind, c.kind, c.why);
      assert.doesNotMatch(got.message, /Cognito|Send a new one/, c.why);
    });
  }
  test("an emailed code keeps its own words", () => {
    assert.equal(describeCognitoError({ code: "ExpiredCodeException" }).message, "That code has expired. Send a new one.");
  });
});
