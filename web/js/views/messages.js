// The live regions: role="alert" for errors (with "Try again" for a failed load), the page's
// under the header or a list's own above it, and role="status" for what went well.

import { h } from "../dom.js";

export function createMessages(alertEl, statusEl) {
  let statusTimer = null;
  const shownIn = new Set([alertEl]);
  return {
    /** Shows an error (and drops an earlier success message it would contradict); with `retry`,
     * a "Try again" button that clears it and reruns `retry`. `where`: the alert region beside
     * what failed (a list's own), the page's by default. */
    error(message, retry = null, where = alertEl) {
      shownIn.add(where);
      if (statusTimer !== null) clearTimeout(statusTimer);
      statusTimer = null;
      statusEl.textContent = "";
      const button = retry
        ? h("button", {
            type: "button",
            text: "Try again",
            onclick: () => {
              where.replaceChildren();
              retry();
            },
          })
        : null;
      where.replaceChildren(h("p", { text: message }), ...(button ? [button] : []));
    },
    /** Empties every alert region it has shown an error in. */
    clearError() {
      for (const el of shownIn) el.replaceChildren();
    },
    /** Says what happened. The same text twice is announced twice (the region is emptied first). */
    status(message) {
      if (statusTimer !== null) clearTimeout(statusTimer);
      statusEl.textContent = "";
      statusTimer = setTimeout(() => {
        statusTimer = null;
        statusEl.textContent = message;
      }, 30);
    },
    clearStatus() {
      if (statusTimer !== null) clearTimeout(statusTimer);
      statusTimer = null;
      statusEl.textContent = "";
    },
  };
}
