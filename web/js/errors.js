// Turns failures into messages people understand. The one place that knows what an HTTP status
// (or a Cognito error code) means to the user. Pure: no DOM, no fetch, so `node --test` runs it.

export const MESSAGES = Object.freeze({
  network: "Cannot reach the notes service. Check your connection and try again.",
  badRequest: "The service could not accept that request.",
  session: "Your session has ended. Please sign in again.",
  forbidden: "You are not allowed to do that.",
  noteNotFound: "That note no longer exists.",
  notFound: "Not found.",
  conflict: "This note was changed elsewhere. Review it and try again.",
  inProgress: "That request is still being processed. Wait a moment and try again.",
  tooLarge: "That is too long to send.",
  keyReused: "That request was already sent with different content. Reload and try again.",
  tooMany: "Too many requests. Wait a moment and try again.",
  server: "The notes service is having trouble. Try again in a moment.",
  wrongPassword: "Incorrect username or password.",
  notConfirmed: "Confirm your account with the code we sent you.",
  usernameTaken: "That username is taken.",
  codeMismatch: "That code is not correct.",
  codeExpired: "That code has expired. Send a new one.",
  authenticatorCode: "That code is not correct. Type the 6-digit code your authenticator app shows now.",
  authenticatorCodeUsed: "That code was already used. Wait for the next one in your authenticator app.",
  accountService: "The account service could not do that. Try again in a moment.",
  weakPassword:
    "That password does not meet the rules: at least 12 characters, with a lowercase and an uppercase letter, a number and a symbol.",
  invalidEmail: "Enter a valid email address, such as name@example.com.",
  invalidUsername: "A username cannot contain spaces. Use letters, numbers and symbols such as - or _.",
  checkInput: "Check what you entered and try again.",
});

/** A failed request: `status` (0 for a network failure), `kind` (what went wrong, for code) and
 * `message` (for people). `cause` keeps the underlying error, when there is one. */
export class ApiError extends Error {
  constructor(status, kind, message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ApiError";
    this.status = status;
    this.kind = kind;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}

/**
 * What a status means: `{kind, message}`.
 * @param {number} status the HTTP status (not 2xx)
 * @param {{resource?: "note"|"post"|string, serverMessage?: unknown, retryAfter?: string|null}} [context]
 *   `resource` names what was asked for (a 404 of a note says so); `serverMessage` is the body's
 *   `message` (only a 400's is shown: it names the field and is written for people);
 *   `retryAfter` is the response's Retry-After (a 409 with it is a create still running; a 429
 *   with it says when to try again).
 */
export function describeStatus(status, context = {}) {
  const { resource, serverMessage, retryAfter } = context;
  if (status === 400) {
    const text = typeof serverMessage === "string" ? serverMessage.trim() : "";
    return { kind: "bad-request", message: text !== "" ? text : MESSAGES.badRequest };
  }
  if (status === 401) return { kind: "session", message: MESSAGES.session };
  if (status === 403) return { kind: "forbidden", message: MESSAGES.forbidden };
  if (status === 404) {
    return { kind: "not-found", message: resource === "note" ? MESSAGES.noteNotFound : MESSAGES.notFound };
  }
  if (status === 409) {
    // With Retry-After: a request with the same Idempotency-Key is still running, not a conflict.
    if (retryAfter !== undefined && retryAfter !== null && retryAfter !== "") {
      return { kind: "in-progress", message: MESSAGES.inProgress };
    }
    return { kind: "conflict", message: MESSAGES.conflict };
  }
  if (status === 413) return { kind: "too-large", message: MESSAGES.tooLarge };
  if (status === 422) return { kind: "key-reused", message: MESSAGES.keyReused };
  if (status === 429) return { kind: "rate-limited", message: tooManyMessage(retryAfter) };
  if (status >= 500) return { kind: "server", message: MESSAGES.server };
  if (status >= 400) return { kind: "rejected", message: MESSAGES.badRequest };
  // A status fetch should never hand us as a failure (1xx, 3xx): the service misbehaved.
  return { kind: "server", message: MESSAGES.server };
}

/** "Too many requests", and when to try again if Retry-After says so in seconds: 300 from the
 * per-caller limit in front of the API, the rest of the UTC day from the daily dictation budget.
 * Rounded up, so the person never comes back too early. */
export function tooManyMessage(retryAfter) {
  const text = typeof retryAfter === "string" ? retryAfter.trim() : "";
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) === 0) return MESSAGES.tooMany;
  const seconds = Number(text);
  const [amount, unit] =
    seconds < 60 ? [seconds, "second"] : seconds < 3600 ? [Math.ceil(seconds / 60), "minute"] : [Math.ceil(seconds / 3600), "hour"];
  return `Too many requests. Try again in ${amount} ${unit}${amount === 1 ? "" : "s"}.`;
}

/** The ApiError of an HTTP response that was not a success. */
export function errorFromStatus(status, context = {}) {
  const { kind, message } = describeStatus(status, context);
  return new ApiError(status, kind, message, { retryAfter: context.retryAfter ?? undefined });
}

/** The ApiError of a `fetch` that rejected: no connection, DNS, or a CORS refusal (which the
 * browser reports exactly like a network failure; it is never "Unauthorized"). */
export function networkError(cause) {
  return new ApiError(0, "network", MESSAGES.network, { cause });
}

/** True for what a rejected `fetch` looks like (a TypeError), not for a bug of ours. */
export function isNetworkFailure(err) {
  return err instanceof TypeError || (err !== null && typeof err === "object" && err.name === "TypeError");
}

/**
 * What a Cognito error (from amazon-cognito-identity-js: `err.code`, `err.message`) means:
 * `{kind, message}`. kind "not-confirmed" asks the page to show the confirm form. `about`
 * "authenticator" is a two-factor code (TOTP), not an emailed one: a wrong one cannot be sent
 * again, only typed anew, and one already used is waited out.
 */
export function describeCognitoError(err, about = "account") {
  const code = err && typeof err === "object" ? err.code || err.name : undefined;
  const own = err && typeof err.message === "string" && err.message.trim() !== "" ? err.message : "";
  if (about === "authenticator") {
    if (code === "CodeMismatchException" || code === "EnableSoftwareTokenMFAException") {
      return { kind: "code-mismatch", message: MESSAGES.authenticatorCode };
    }
    if (code === "InvalidParameterException") return { kind: "code-mismatch", message: MESSAGES.authenticatorCode };
    if (code === "ExpiredCodeException") return { kind: "code-used", message: MESSAGES.authenticatorCodeUsed };
    // A sign-in session that expired while the code was looked for: start again.
    if (code === "NotAuthorizedException") return { kind: "session", message: MESSAGES.session };
  }
  switch (code) {
    case "NotAuthorizedException":
    case "UserNotFoundException":
      return { kind: "wrong-password", message: MESSAGES.wrongPassword };
    case "UserNotConfirmedException":
      return { kind: "not-confirmed", message: MESSAGES.notConfirmed };
    case "UsernameExistsException":
      return { kind: "username-taken", message: MESSAGES.usernameTaken };
    // Cognito's own words here are a validator's ("does not confirm to the configured password
    // policy", "failed to satisfy constraint: Member must satisfy regular expression pattern"):
    // what was wrong is said in ours, and `kind` names the field for the form.
    case "InvalidPasswordException":
      return { kind: "weak-password", message: MESSAGES.weakPassword };
    case "InvalidParameterException": {
      const said = own.toLowerCase();
      if (said.includes("password")) return { kind: "weak-password", message: MESSAGES.weakPassword };
      if (said.includes("email")) return { kind: "invalid-email", message: MESSAGES.invalidEmail };
      if (said.includes("username")) return { kind: "invalid-username", message: MESSAGES.invalidUsername };
      return { kind: "invalid", message: MESSAGES.checkInput };
    }
    case "CodeMismatchException":
      return { kind: "code-mismatch", message: MESSAGES.codeMismatch };
    case "ExpiredCodeException":
      return { kind: "code-expired", message: MESSAGES.codeExpired };
    case "LimitExceededException":
    case "TooManyRequestsException":
    case "TooManyFailedAttemptsException":
      return { kind: "rate-limited", message: MESSAGES.tooMany };
    case "NetworkError":
      return { kind: "network", message: MESSAGES.network };
    default:
      if (isNetworkFailure(err) || (own === "Network error")) return { kind: "network", message: MESSAGES.network };
      return { kind: "account", message: MESSAGES.accountService };
  }
}
