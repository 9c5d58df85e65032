// The two live regions: role="alert" for errors (with "Try again" for a failed load), and
// role="status" for what went well.

import { h } from "../dom.js";

export function createMessages(alertEl, statusEl) {
  let statusTimer = null;
  return {
    /** Shows an error (and drops an earlier success message it would contradict); with `retry`,
     * a "Try again" button that clears it and reruns `retry`. */
    error(message, retry = null) {
      if (statusTimer !== null) clearTimeout(statusTimer);
      statusTimer = null;
      statusEl.textContent = "";
      const button = retry
        ? h("button", {
            type: "button",
            text: "Try again",
            onclick: () => {
              alertEl.replaceChildren();
              retry();
            },
          })
        : null;
      alertEl.replaceChildren(h("p", { text: message }), ...(button ? [button] : []));
    },
    clearError() {
      alertEl.replaceChildren();
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
