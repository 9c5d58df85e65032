// A failure in words for people, shared by every screen: an ApiError or AuthError carries its own
// (errors.js wrote them); anything else is a bug of ours, logged by name only and shown as one
// generic sentence.

const UNEXPECTED = "Something went wrong. Try again.";

/** @param {{error(message: string, retry?: Function|null, where?: HTMLElement): void}} messages */
export function createFailures(messages) {
  /** The words of a failure shown beside a control (a 401 has already sent the page to sign-in). */
  function wordsOf(err) {
    if (err && typeof err.kind === "string" && typeof err.message === "string") return err.message;
    // Its name and message only: never a request, a token or a note.
    console.error("unexpected failure:", err && err.name, err && err.message);
    return UNEXPECTED;
  }

  /** An account failure as `{kind, message}` (an AuthError is one already; a bug of ours is not). */
  const authFailure = (err) =>
    err && typeof err.kind === "string" ? err : { kind: "unexpected", message: wordsOf(err) };

  /** Shows a failure, in `where` (a list's own alert) or the page's. A 401 has already sent the
   * page back to sign-in. */
  function report(err, retry = null, where = undefined) {
    if (err && err.kind === "session") return;
    messages.error(wordsOf(err), retry, where);
  }

  return { wordsOf, authFailure, report };
}
