// session.js against a fake amazon-cognito-identity-js: the calls it makes, the refresh timer,
// refresh failures and sign-out. (The real library is driven in the browser tests.)
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";

import { MESSAGES } from "../../web/js/errors.js";
import { createSession } from "../../web/js/session.js";

const NOW = 1_800_000_000_000;

function fakeSession(token, { expIn = 3600, drift = 0 } = {}) {
  const exp = Math.floor(Date.now() / 1000) + expIn;
  return {
    getIdToken: () => ({ getExpiration: () => exp, getJwtToken: () => token, decodePayload: () => ({ "cognito:username": "alice" }) }),
    getRefreshToken: () => ({ getToken: () => "refresh" }),
    getClockDrift: () => drift,
    isValid: () => true,
  };
}

function fakeLib({ refreshAnswers = [], revokeError = null, authError = null, accountError = null, totp = false, codeErrors = [] } = {}) {
  const log = [];
  const lib = {
    log,
    current: null,
    CognitoUserPool: class {
      constructor(data) {
        log.push(["pool", data]);
      }
      getCurrentUser() {
        return lib.current;
      }
      signUp(username, password, attributes, validation, cb) {
        log.push(["signUp", username, attributes.map((a) => a.data)]);
        cb(null, { codeDeliveryDetails: { Destination: "a***@e***" } });
      }
    },
    CognitoUser: class {
      constructor({ Username }) {
        this.username = Username;
      }
      getUsername() {
        return this.username;
      }
      setAuthenticationFlowType(type) {
        log.push(["flow", type]);
      }
      authenticateUser(details, callbacks) {
        log.push(["authenticate", details.data]);
        if (authError) callbacks.onFailure(authError);
        else if (totp) callbacks.totpRequired("SOFTWARE_TOKEN_MFA", {});
        else callbacks.onSuccess(fakeSession("id-1"));
      }
      sendMFACode(code, callbacks, type) {
        log.push(["sendMFACode", this.username, code, type]);
        const err = codeErrors.shift();
        if (err) callbacks.onFailure(err);
        else callbacks.onSuccess(fakeSession("id-mfa"));
      }
      refreshSession(refreshToken, cb) {
        log.push(["refresh", refreshToken.getToken()]);
        const answer = refreshAnswers.shift();
        if (answer instanceof Error || (answer && answer.code)) cb(answer, null);
        else cb(null, fakeSession(answer ?? "id-next"));
      }
      signOut(cb) {
        log.push(["signOut", typeof cb === "function" ? "revoke" : "local"]);
        if (typeof cb === "function") cb(revokeError);
      }
      forgotPassword(callbacks) {
        log.push(["forgotPassword", this.username]);
        if (accountError) callbacks.onFailure(accountError);
        else callbacks.onSuccess({ CodeDeliveryDetails: { Destination: "a***@e***", DeliveryMedium: "EMAIL" } });
      }
      confirmPassword(code, password, callbacks) {
        log.push(["confirmPassword", this.username, code, password]);
        if (accountError) callbacks.onFailure(accountError);
        else callbacks.onSuccess("SUCCESS");
      }
      changePassword(oldPassword, newPassword, cb) {
        log.push(["changePassword", oldPassword, newPassword]);
        cb(accountError, accountError ? null : "SUCCESS");
      }
      globalSignOut(callbacks) {
        log.push(["globalSignOut"]);
        if (accountError) callbacks.onFailure(accountError);
        else callbacks.onSuccess("SUCCESS");
      }
    },
    AuthenticationDetails: class {
      constructor(data) {
        this.data = data;
      }
    },
    CognitoUserAttribute: class {
      constructor(data) {
        this.data = data;
      }
    },
  };
  return lib;
}

const config = { userPoolId: "us-east-1_x", clientId: "c", cognitoEndpoint: null };

describe("session", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: NOW }));
  afterEach(() => mock.timers.reset());

  test("the pool gets an endpoint only for the local pool", () => {
    const aws = fakeLib();
    createSession(aws, config, { onExpired() {} });
    assert.deepEqual(aws.log[0], ["pool", { UserPoolId: "us-east-1_x", ClientId: "c" }], "AWS: no endpoint");
    const local = fakeLib();
    createSession(local, { ...config, cognitoEndpoint: "http://127.0.0.1:9229" }, { onExpired() {} });
    assert.equal(local.log[0][1].endpoint, "http://127.0.0.1:9229");
  });

  test("sign in with USER_PASSWORD_AUTH; the username from the ID token", async () => {
    const lib = fakeLib();
    const s = createSession(lib, config, { onExpired() {} });
    assert.deepEqual(await s.signIn("alice", "pw"), { username: "alice" });
    assert.deepEqual(lib.log.slice(1, 3), [["flow", "USER_PASSWORD_AUTH"], ["authenticate", { Username: "alice", Password: "pw" }]]);
    assert.equal(await s.token(), "id-1");
  });

  test("two-factor on: the password, then the authenticator's code, each retried as Cognito allows", async () => {
    const lib = fakeLib({ totp: true, codeErrors: [{ code: "CodeMismatchException", message: "Invalid code received for user" }] });
    const s = createSession(lib, config, { onExpired() {} });
    assert.deepEqual(await s.signIn("alice", "pw"), { codeRequired: true });
    assert.equal(s.signedIn, false, "not signed in before the code");
    await assert.rejects(s.signInWithCode("000000"), (err) => err.kind === "code-mismatch" && err.message === MESSAGES.authenticatorCode);
    assert.deepEqual(await s.signInWithCode("123456"), { username: "alice" });
    assert.deepEqual(lib.log.filter((e) => e[0] === "sendMFACode").map((e) => e.slice(2)), [["000000", "SOFTWARE_TOKEN_MFA"], ["123456", "SOFTWARE_TOKEN_MFA"]]);
    assert.equal(await s.token(), "id-mfa");
  });

  test("a code with no sign-in waiting for it, or after the sign-in expired, asks to start again", async () => {
    const lib = fakeLib({ totp: true, codeErrors: [{ code: "NotAuthorizedException", message: "Invalid session for the user, session is expired." }] });
    const s = createSession(lib, config, { onExpired() {} });
    await assert.rejects(s.signInWithCode("123456"), (err) => err.kind === "session");
    await s.signIn("alice", "pw");
    await assert.rejects(s.signInWithCode("123456"), (err) => err.kind === "session");
    await assert.rejects(s.signInWithCode("123456"), (err) => err.kind === "session", "the expired sign-in is forgotten");
    assert.equal(lib.log.filter((e) => e[0] === "sendMFACode").length, 1);
  });

  test("a refused sign-in is an AuthError with the message for people", async () => {
    const lib = fakeLib({ authError: { code: "NotAuthorizedException", message: "Incorrect username or password." } });
    const s = createSession(lib, config, { onExpired() {} });
    await assert.rejects(s.signIn("alice", "bad"), (err) => err.kind === "wrong-password" && err.message === MESSAGES.wrongPassword);
  });

  test("the timer refreshes a minute before exp, and again after", async () => {
    const lib = fakeLib({ refreshAnswers: ["id-2", "id-3"] });
    const s = createSession(lib, config, { onExpired() {} });
    await s.signIn("alice", "pw");
    mock.timers.tick(3539_000);
    assert.equal(lib.log.filter((l) => l[0] === "refresh").length, 0, "not before exp − 60 s");
    mock.timers.tick(1_000);
    assert.equal(lib.log.filter((l) => l[0] === "refresh").length, 1, "at exp − 60 s");
    assert.equal(await s.token(), "id-2");
    mock.timers.tick(3540_000);
    assert.equal(lib.log.filter((l) => l[0] === "refresh").length, 2, "rescheduled for the new token");
  });

  test("a refused refresh ends the session: onExpired, tokens forgotten", async () => {
    const lib = fakeLib({ refreshAnswers: [{ code: "NotAuthorizedException", message: "Refresh Token has expired" }] });
    let expired = 0;
    const s = createSession(lib, config, { onExpired: () => expired++ });
    await s.signIn("alice", "pw");
    await assert.rejects(s.refresh());
    assert.equal(expired, 1);
    assert.equal(s.signedIn, false);
    assert.deepEqual(lib.log.at(-1), ["signOut", "local"], "the library's storage is cleared");
  });

  test("a refresh that cannot reach Cognito keeps the session and rejects as a network failure", async () => {
    const lib = fakeLib({ refreshAnswers: [Object.assign(new Error("Network error"), { code: "NetworkError" })] });
    let expired = 0;
    const s = createSession(lib, config, { onExpired: () => expired++ });
    await s.signIn("alice", "pw");
    await assert.rejects(s.refresh(), (err) => err.kind === "network" && err.status === 0);
    assert.equal(expired, 0);
    assert.equal(s.signedIn, true);
  });

  test("concurrent refreshes share one request", async () => {
    const lib = fakeLib();
    const s = createSession(lib, config, { onExpired() {} });
    await s.signIn("alice", "pw");
    // The fake answers synchronously; make the first refresh wait by taking over refreshSession.
    let answer;
    const original = lib.CognitoUser.prototype.refreshSession;
    lib.CognitoUser.prototype.refreshSession = function (token, cb) {
      lib.log.push(["refresh"]);
      answer = () => cb(null, fakeSession("id-shared"));
    };
    const a = s.refresh();
    const b = s.refresh();
    answer();
    assert.deepEqual([await a, await b], ["id-shared", "id-shared"]);
    assert.equal(lib.log.filter((l) => l[0] === "refresh").length, 1);
    lib.CognitoUser.prototype.refreshSession = original;
  });

  test("token() refreshes first when the token is about to expire (a tab that slept)", async () => {
    const lib = fakeLib({ refreshAnswers: ["id-fresh"] });
    const s = createSession(lib, config, { onExpired() {} });
    await s.signIn("alice", "pw");
    mock.timers.setTime(NOW + 3580_000); // the clock jumped past the timer without running it
    assert.equal(await s.token(), "id-fresh");
  });

  test("sign out revokes (the callback form) and forgets the session", async () => {
    const lib = fakeLib();
    const s = createSession(lib, config, { onExpired() {} });
    await s.signIn("alice", "pw");
    assert.deepEqual(await s.signOut(), { revoked: true, error: null });
    assert.deepEqual(lib.log.filter((l) => l[0] === "signOut").map((l) => l[1]), ["revoke", "local"]);
    assert.equal(s.signedIn, false);
  });

  test("a failed revoke still ends the local session and says so", async () => {
    const lib = fakeLib({ revokeError: Object.assign(new Error("Network error"), { code: "NetworkError" }) });
    const s = createSession(lib, config, { onExpired() {} });
    await s.signIn("alice", "pw");
    const result = await s.signOut();
    assert.equal(result.revoked, false);
    assert.equal(s.signedIn, false);
    assert.equal(lib.log.at(-1)[1], "local", "storage cleared even though the revoke failed");
    mock.timers.tick(7200_000);
    assert.equal(lib.log.filter((l) => l[0] === "refresh").length, 0, "no refresh timer left behind");
  });

  test("sign up sends the email attribute and reports where the code went", async () => {
    const lib = fakeLib();
    const s = createSession(lib, config, { onExpired() {} });
    assert.deepEqual(await s.signUp("bob", "b@example.com", "pw"), { username: "bob", destination: "a***@e***" });
    assert.deepEqual(lib.log.at(-1), ["signUp", "bob", [{ Name: "email", Value: "b@example.com" }]]);
  });

  test("a forgotten password: a code sent (where, masked), then the new password with it", async () => {
    const lib = fakeLib();
    const s = createSession(lib, config, { onExpired() {} });
    assert.deepEqual(await s.forgotPassword("alice"), { destination: "a***@e***" });
    await s.resetPassword("alice", "123456", "Battery-Staple-42?");
    assert.deepEqual(lib.log.slice(1), [["forgotPassword", "alice"], ["confirmPassword", "alice", "123456", "Battery-Staple-42?"]]);
  });

  test("a refused reset is an AuthError in words: a wrong code, a weak password", async () => {
    for (const [error, kind] of [
      [{ code: "CodeMismatchException", message: "Invalid verification code provided, please try again." }, "code-mismatch"],
      [{ code: "InvalidPasswordException", message: "The provided password does not confirm to the configured password policy" }, "weak-password"],
    ]) {
      const s = createSession(fakeLib({ accountError: error }), config, { onExpired() {} });
      await assert.rejects(s.resetPassword("alice", "1", "x"), (err) => err.kind === kind && !err.message.includes("confirm to"));
    }
  });

  test("change password and sign out everywhere need a session, and use the signed-in user", async () => {
    const lib = fakeLib();
    const s = createSession(lib, config, { onExpired() {} });
    await assert.rejects(s.changePassword("old", "new"), /not signed in/);
    assert.equal(lib.log.filter((l) => l[0] === "changePassword").length, 0, "nothing sent without a session");
    await s.signIn("alice", "pw");
    await s.changePassword("old", "New-Password-1!");
    assert.deepEqual(lib.log.at(-1), ["changePassword", "old", "New-Password-1!"]);
    assert.equal(s.signedIn, true, "a changed password keeps this session");
    await s.signOutEverywhere();
    assert.deepEqual(lib.log.slice(-2), [["globalSignOut"], ["signOut", "local"]]);
    assert.equal(s.signedIn, false);
  });

  test("a sign-out everywhere that fails keeps the session, and says why", async () => {
    const lib = fakeLib({ accountError: Object.assign(new TypeError("Failed to fetch"), { code: "NetworkError" }) });
    const s = createSession(lib, config, { onExpired() {} });
    await s.signIn("alice", "pw");
    await assert.rejects(s.signOutEverywhere(), (err) => err.kind === "network" && err.message === MESSAGES.network);
    assert.equal(s.signedIn, true);
    await assert.rejects(s.changePassword("wrong", "New-Password-1!"), (err) => err.kind === "network");
  });
});
