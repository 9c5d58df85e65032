// The Cognito session: the only module that touches amazon-cognito-identity-js. Signs up,
// confirms, signs in (USER_PASSWORD_AUTH), keeps the ID token fresh (a timer a minute before it
// expires, on the service's clock), refreshes on demand (after a 401), signs out (revoking the
// refresh token) or everywhere (GlobalSignOut), resets a forgotten password (ForgotPassword,
// ConfirmForgotPassword) and changes it (ChangePassword), and sets up two-factor with an
// authenticator app (AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference), whose
// code sign-in then asks for (the SOFTWARE_TOKEN_MFA challenge). Tokens, secrets and codes stay
// out of every log line; tokens stay in the library's own storage.

import { ApiError, describeCognitoError } from "./errors.js";
import { expiresSoon, refreshDelayMs } from "./timing.js";

/** A Cognito failure as an Error with `kind` and a message for people; `cause` keeps the original. */
export class AuthError extends Error {
  /** `about`: "authenticator" for a two-factor code (errors.js's describeCognitoError). */
  constructor(err, about = "account") {
    const { kind, message } = describeCognitoError(err, about);
    super(message, { cause: err });
    this.name = "AuthError";
    this.kind = kind;
  }
}

const REFRESH_MARGIN_SECONDS = 60;

/**
 * @param {any} lib the library (`window.AmazonCognitoIdentity`)
 * @param {{userPoolId: string, clientId: string, cognitoEndpoint: string|null}} config
 * @param {{onExpired: () => void}} hooks called when the session can no longer be refreshed
 */
export function createSession(lib, config, { onExpired }) {
  const poolData = { UserPoolId: config.userPoolId, ClientId: config.clientId };
  if (config.cognitoEndpoint) poolData.endpoint = config.cognitoEndpoint;
  const pool = new lib.CognitoUserPool(poolData);

  let user = null; // the signed-in CognitoUser
  let current = null; // its CognitoUserSession
  let timer = null;
  let refreshing = null; // the refresh in flight, shared by everyone who needs it

  const userFor = (username) => new lib.CognitoUser({ Username: username, Pool: pool });

  const stopTimer = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };

  const idExp = (session) => session.getIdToken().getExpiration();

  const schedule = () => {
    stopTimer();
    if (current === null) return;
    const delay = refreshDelayMs(idExp(current), Date.now(), current.getClockDrift(), REFRESH_MARGIN_SECONDS);
    // setTimeout's limit is about 24.8 days; ID tokens live an hour at most.
    timer = setTimeout(() => {
      timer = null;
      refresh().catch(() => {
        /* refresh() already ended the session when it has to */
      });
    }, Math.min(delay, 2 ** 31 - 1));
  };

  const adopt = (cognitoUser, session) => {
    user = cognitoUser;
    current = session;
    schedule();
  };

  /** Ends the session here only (no revoke): forgets the tokens and the timer. */
  const endLocally = () => {
    stopTimer();
    refreshing = null;
    if (user !== null) user.signOut();
    user = null;
    current = null;
  };

  const username = () => {
    if (current === null) return "";
    const claims = current.getIdToken().decodePayload();
    return claims["cognito:username"] || (user ? user.getUsername() : "");
  };

  /** The user's permanent id (the ID token's `sub`), which a username change would not alter. */
  const userId = () => {
    if (current === null) return "";
    const claims = current.getIdToken().decodePayload();
    return typeof claims.sub === "string" ? claims.sub : "";
  };

  /** Picks up the session the library stored (a reload). Resolves the username, or null; rejects
   * (an AuthError of kind "network") when Cognito cannot be reached to refresh it. */
  function restore() {
    return new Promise((resolve, reject) => {
      const stored = pool.getCurrentUser();
      if (stored === null) return resolve(null);
      stored.getSession((err, session) => {
        if (err || !session || !session.isValid()) {
          const failure = err ? new AuthError(err) : null;
          // Offline: keep the stored session for the next visit; otherwise it is over.
          if (failure && failure.kind === "network") return reject(failure);
          stored.signOut();
          return resolve(null);
        }
        adopt(stored, session);
        resolve(username());
      });
    });
  }

  let awaitingCode = null; // the CognitoUser whose password was right and whose code is asked for

  /** Resolves `{username}` when signed in, or `{codeRequired: true}` when the user has two-factor
   * on: `signInWithCode` then finishes with the authenticator app's code. */
  function signIn(name, password) {
    awaitingCode = null;
    return new Promise((resolve, reject) => {
      const cognitoUser = userFor(name);
      cognitoUser.setAuthenticationFlowType("USER_PASSWORD_AUTH");
      const details = new lib.AuthenticationDetails({ Username: name, Password: password });
      cognitoUser.authenticateUser(details, {
        onSuccess: (session) => {
          adopt(cognitoUser, session);
          resolve({ username: username() });
        },
        onFailure: (err) => reject(new AuthError(err)),
        totpRequired: () => {
          awaitingCode = cognitoUser;
          resolve({ codeRequired: true });
        },
        newPasswordRequired: () =>
          reject(new AuthError({ code: "NotAuthorizedException", message: "A new password is required." })),
      });
    });
  }

  /** Answers the sign-in's two-factor challenge. A wrong code can be typed again (same sign-in);
   * an expired sign-in rejects with kind "session" (start again with the password). */
  function signInWithCode(code) {
    const cognitoUser = awaitingCode;
    if (cognitoUser === null) return Promise.reject(new AuthError({ code: "NotAuthorizedException" }, "authenticator"));
    return new Promise((resolve, reject) => {
      cognitoUser.sendMFACode(
        code,
        {
          onSuccess: (session) => {
            awaitingCode = null;
            adopt(cognitoUser, session);
            resolve({ username: username() });
          },
          onFailure: (err) => {
            const failure = new AuthError(err, "authenticator");
            if (failure.kind === "session") awaitingCode = null;
            reject(failure);
          },
        },
        "SOFTWARE_TOKEN_MFA",
      );
    });
  }

  /** Forgets a sign-in that waits for its code ("Back to sign in"). */
  const cancelCode = () => {
    awaitingCode = null;
  };

  /** Resolves `{username, destination}` (where the code went, when Cognito says). */
  function signUp(name, email, password) {
    return new Promise((resolve, reject) => {
      const attributes = [new lib.CognitoUserAttribute({ Name: "email", Value: email })];
      pool.signUp(name, password, attributes, null, (err, result) => {
        if (err) return reject(new AuthError(err));
        const details = result && result.codeDeliveryDetails;
        resolve({ username: name, destination: details && details.Destination ? details.Destination : null });
      });
    });
  }

  function confirm(name, code) {
    return new Promise((resolve, reject) => {
      userFor(name).confirmRegistration(code, true, (err) => (err ? reject(new AuthError(err)) : resolve()));
    });
  }

  function resendCode(name) {
    return new Promise((resolve, reject) => {
      userFor(name).resendConfirmationCode((err, result) => {
        if (err) return reject(new AuthError(err));
        const details = result && result.CodeDeliveryDetails;
        resolve({ destination: details && details.Destination ? details.Destination : null });
      });
    });
  }

  /** Sends a code to reset a forgotten password. Resolves `{destination}` (masked, when Cognito says). */
  function forgotPassword(name) {
    return new Promise((resolve, reject) => {
      userFor(name).forgotPassword({
        onSuccess: (data) => {
          const details = data && data.CodeDeliveryDetails;
          resolve({ destination: details && details.Destination ? details.Destination : null });
        },
        onFailure: (err) => reject(new AuthError(err)),
      });
    });
  }

  /** Sets a new password with the code `forgotPassword` sent. */
  function resetPassword(name, code, newPassword) {
    return new Promise((resolve, reject) => {
      userFor(name).confirmPassword(code, newPassword, {
        onSuccess: () => resolve(),
        onFailure: (err) => reject(new AuthError(err)),
      });
    });
  }

  /** The signed-in user with tokens the library considers valid (refreshed first if due). */
  async function signedInUser() {
    await token();
    if (user === null) throw new AuthError({ code: "NotAuthorizedException" });
    return user;
  }

  /** Changes the signed-in user's password. Other sessions go on (Cognito's rule). */
  async function changePassword(oldPassword, newPassword) {
    const forUser = await signedInUser();
    return new Promise((resolve, reject) => {
      forUser.changePassword(oldPassword, newPassword, (err) => (err ? reject(new AuthError(err)) : resolve()));
    });
  }

  /** Whether the signed-in user has two-factor on (GetUser's UserMFASettingList). */
  async function twoFactorOn() {
    const forUser = await signedInUser();
    return new Promise((resolve, reject) => {
      forUser.getUserData(
        (err, data) => {
          if (err) return reject(new AuthError(err));
          const list = data && Array.isArray(data.UserMFASettingList) ? data.UserMFASettingList : [];
          resolve(list.includes("SOFTWARE_TOKEN_MFA"));
        },
        { bypassCache: true },
      );
    });
  }

  /** Starts setting up two-factor: resolves the new secret (base32) for the authenticator app. */
  async function beginTwoFactor() {
    const forUser = await signedInUser();
    return new Promise((resolve, reject) => {
      forUser.associateSoftwareToken({
        associateSecretCode: (secret) => resolve(secret),
        onFailure: (err) => reject(new AuthError(err)),
      });
    });
  }

  /** Finishes setting up two-factor with a code of the new secret, and makes it the one sign-in
   * asks for. A wrong code rejects (kind "code-mismatch") and changes nothing. */
  async function confirmTwoFactor(code) {
    const forUser = await signedInUser();
    await new Promise((resolve, reject) => {
      forUser.verifySoftwareToken(code, "PollyNotes", {
        onSuccess: () => resolve(),
        onFailure: (err) => reject(new AuthError(err, "authenticator")),
      });
    });
    await setTotpPreference(forUser, true);
  }

  /** Turns two-factor off: sign-in asks for the password alone again. */
  async function turnOffTwoFactor() {
    await setTotpPreference(await signedInUser(), false);
  }

  const setTotpPreference = (forUser, on) =>
    new Promise((resolve, reject) => {
      forUser.setUserMfaPreference(null, { Enabled: on, PreferredMfa: on }, (err) =>
        err ? reject(new AuthError(err)) : resolve(),
      );
    });

  /** Signs out on every device: every refresh token of the user is revoked (GlobalSignOut). On
   * success the local session is over too; on failure it goes on. */
  async function signOutEverywhere() {
    const forUser = await signedInUser();
    await new Promise((resolve, reject) => {
      forUser.globalSignOut({ onSuccess: () => resolve(), onFailure: (err) => reject(new AuthError(err)) });
    });
    endLocally();
  }

  /**
   * Refreshes the tokens with the refresh token. Concurrent callers share one refresh. A refused
   * refresh ends the session (onExpired); a network failure rejects with a network ApiError and
   * keeps the session, to try again later.
   */
  function refresh() {
    if (refreshing !== null) return refreshing;
    if (user === null || current === null) return Promise.reject(new Error("not signed in"));
    const forUser = user;
    const attempt = new Promise((resolve, reject) => {
      forUser.refreshSession(current.getRefreshToken(), (err, session) => {
        if (user !== forUser) return reject(new Error("signed out"));
        if (err || !session) {
          const failure = err ? new AuthError(err) : new Error("no session");
          if (failure.kind === "network") {
            // Try again in a little while; the API call that needed it says "cannot reach".
            stopTimer();
            timer = setTimeout(() => refresh().catch(() => {}), 15_000);
            return reject(new ApiError(0, "network", failure.message, { cause: err }));
          }
          endLocally();
          onExpired();
          return reject(failure);
        }
        adopt(forUser, session);
        resolve(session.getIdToken().getJwtToken());
      });
    });
    refreshing = attempt;
    const settled = () => {
      if (refreshing === attempt) refreshing = null;
    };
    attempt.then(settled, settled);
    return attempt;
  }

  /** The ID token for a request, refreshed first if it is about to expire (a tab that slept). */
  async function token() {
    if (current === null) throw new Error("not signed in");
    if (expiresSoon(idExp(current), Date.now(), current.getClockDrift(), 30)) return refresh();
    return current.getIdToken().getJwtToken();
  }

  /** Signs out, revoking the refresh token. Always ends the local session; resolves
   * `{revoked: false}` when Cognito could not revoke it. */
  function signOut() {
    const signingOut = user;
    stopTimer();
    refreshing = null;
    if (signingOut === null) return Promise.resolve({ revoked: true });
    return new Promise((resolve) => {
      signingOut.signOut((err) => {
        // On some errors (no session to revoke with) the library keeps its storage: clear it.
        signingOut.signOut();
        user = null;
        current = null;
        resolve({ revoked: !err, error: err ? new AuthError(err) : null });
      });
    });
  }

  return {
    restore,
    signIn,
    signInWithCode,
    cancelCode,
    twoFactorOn,
    beginTwoFactor,
    confirmTwoFactor,
    turnOffTwoFactor,
    signUp,
    confirm,
    resendCode,
    forgotPassword,
    resetPassword,
    changePassword,
    signOutEverywhere,
    refresh,
    token,
    signOut,
    endLocally,
    get username() {
      return username();
    },
    get userId() {
      return userId();
    },
    get signedIn() {
      return current !== null;
    },
  };
}
