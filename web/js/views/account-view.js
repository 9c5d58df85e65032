// The Account section of a signed-in user: change the password (the pool's rules shown and
// checked as it is typed) and sign out on every device. Each failure beside what caused it.

import { submitOnCtrlEnter } from "../dom.js";
import { passwordProblem } from "../password.js";
import { clearFieldError, clearOnInput, showButtonError, showFieldError } from "./field-error.js";
import { showPasswordRules } from "./password-rules.js";

export const WRONG_CURRENT_PASSWORD = "Your current password is not correct.";

/**
 * @param {HTMLElement} root the #account-settings section
 * @param {{changePassword(current: string, password: string): Promise<void>, signOutEverywhere(): Promise<void>}} actions
 *   each rejects with an AuthError (`kind`, `message` for people) when it failed
 */
export function createAccountView(root, actions) {
  const form = root.querySelector("#change-password-form");
  const current = form.elements.current;
  const password = form.elements.password;
  const submit = form.querySelector('button[type="submit"]');
  const everywhere = root.querySelector("#sign-out-everywhere");
  const checkRules = showPasswordRules(root.querySelector("#new-password-rules"), password);
  for (const input of [current, password]) clearOnInput(input);
  submitOnCtrlEnter(form);

  const clear = () => {
    for (const control of [current, password, submit, everywhere]) clearFieldError(control);
  };

  /** Shows a failure beside the control it is about. */
  const showBeside = (control, message) =>
    control instanceof HTMLButtonElement ? showButtonError(control, message) : showFieldError(control, message);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    clear();
    if (current.value === "") {
      showFieldError(current, "Enter your current password.");
      return;
    }
    const problem = passwordProblem(password.value);
    if (problem !== null) {
      showFieldError(password, problem);
      return;
    }
    submit.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      await actions.changePassword(current.value, password.value);
      current.value = "";
      password.value = "";
      checkRules();
    } catch (err) {
      if (err && err.kind === "session") return;
      if (err && err.kind === "wrong-password") showBeside(current, WRONG_CURRENT_PASSWORD);
      else if (err && err.kind === "weak-password") showBeside(password, err.message);
      else showBeside(submit, err && err.message ? err.message : String(err));
    } finally {
      submit.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });

  everywhere.addEventListener("click", async () => {
    if (everywhere.disabled) return;
    clear();
    everywhere.disabled = true;
    try {
      await actions.signOutEverywhere();
    } catch (err) {
      if (!(err && err.kind === "session")) showBeside(everywhere, err && err.message ? err.message : String(err));
    } finally {
      everywhere.disabled = false;
    }
  });

  return {
    /** Empties the password fields and their errors (signing in or out). */
    reset() {
      current.value = "";
      password.value = "";
      clear();
      checkRules();
    },
  };
}
