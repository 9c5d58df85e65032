// Idempotency keys for creates. Pure (the UUID source is injected).
//
// One submission = one key: a retry of the same content (after a timeout, a network failure, a
// 5xx, or a double click) sends the same key, so the service creates one note or post and replays
// its first answer. A different content is a new submission with a new key (re-sending the old
// key with other content would be a 422). A success ends the submission.

/**
 * @param {() => string} newKey e.g. `() => crypto.randomUUID()`
 */
export function createSubmission(newKey) {
  let current = null; // {key, fingerprint}
  return {
    /** The key for sending `body` (any JSON-able value): the pending one if it is the same body. */
    keyFor(body) {
      const fingerprint = JSON.stringify(body);
      if (current === null || current.fingerprint !== fingerprint) {
        current = { key: newKey(), fingerprint };
      }
      return current.key;
    },
    /** The submission succeeded (or was answered for good): the next one gets a fresh key. */
    done() {
      current = null;
    },
    get pendingKey() {
      return current === null ? null : current.key;
    },
  };
}

/** A random (version 4) UUID from `getRandomValues`, for pages where `crypto.randomUUID` is
 * missing (it needs a secure context). */
export function uuidV4(getRandomValues) {
  const b = getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
