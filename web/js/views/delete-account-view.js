// The "Delete account" card of the Account section: the person types their username to confirm
// (a field of the page, reachable by keyboard and screen readers, not a browser dialog), then
// the account is deleted. A failure is shown beside the button; nothing is deleted on this device
// unless the service deleted the account.

import { confirmsDeletion } from "../delete-account.js";
import { clearFieldError, clearOnInput, showButtonError, showFieldError } from "./field-error.js";

export const TYPE_YOUR_USERNAME = "Type your username exactly as you sign in with it, to confirm.";

/**
 * @param {HTMLElement} root the #account-settings section
 * @param {{username(): string, deleteAccount(): Promise<void>}} actions `deleteAccount` rejects
 *   with an error that has a `message` for people when the account was not deleted
 */
export function createDeleteAccountView(root, actions) {
  const form = root.querySelector("#delete-account-form");
  const confirm = form.elements.confirm;
  const submit = form.querySelector('button[type="submit"]');
  clearOnInput(confirm);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    clearFieldError(confirm);
    clearFieldError(submit);
    if (!confirmsDeletion(confirm.value, actions.username())) {
      showFieldError(confirm, TYPE_YOUR_USERNAME);
      return;
    }
    submit.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      await actions.deleteAccount();
      confirm.value = "";
    } catch (err) {
      if (!(err && err.kind === "session")) showButtonError(submit, err && err.message ? err.message : String(err));
    } finally {
      submit.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });

  return {
    /** Empties the confirmation and its errors (signing in or out). */
    reset() {
      confirm.value = "";
      clearFieldError(confirm);
      clearFieldError(submit);
    },
  };
}
