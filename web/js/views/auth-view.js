// The account forms before sign-in (sign in, its two-factor code, create account, confirm
// account, reset a forgotten password, set a new one with the code): one shown at a time, its
// first empty field focused when it is shown, the submit button disabled while its request runs,
// each failure beside the field it is about (or the form's button), and the password rules on
// the forms that set a password, ticked off as it is typed.

import { submitOnCtrlEnter } from "../dom.js";
import { passwordProblem } from "../password.js";
import { codeDigits, codeProblem } from "../two-factor.js";
import { clearFieldError, clearOnInput, showButtonError, showFieldError } from "./field-error.js";
import { showPasswordRules } from "./password-rules.js";

/** Which field of a form an auth failure is about (else the form's button). */
const FIELD_OF = {
  "wrong-password": "password",
  "username-taken": "username",
  "invalid-username": "username",
  "weak-password": "password",
  "invalid-email": "email",
  "code-mismatch": "code",
  "code-expired": "code",
  "code-used": "code",
};

/**
 * @param {HTMLElement} root the #auth section
 * @param {{signIn(f): Promise<void>, signInWithCode(f): Promise<void>, signUp(f): Promise<void>, confirm(f): Promise<void>, resend(username: string): Promise<void>,
 *   forgot(f): Promise<void>, reset(f): Promise<void>}} actions
 *   each gets the form's values; the view re-enables the form when the promise settles
 */
export function createAuthView(root, actions) {
  const forms = {
    "sign-in": root.querySelector("#sign-in-form"),
    "two-factor": root.querySelector("#two-factor-form"),
    "sign-up": root.querySelector("#sign-up-form"),
    confirm: root.querySelector("#confirm-form"),
    forgot: root.querySelector("#forgot-form"),
    reset: root.querySelector("#reset-form"),
  };
  let shown = null;
  const ruleChecks = [
    showPasswordRules(root.querySelector("#sign-up-password-rules"), forms["sign-up"].elements.password),
    showPasswordRules(root.querySelector("#reset-password-rules"), forms.reset.elements.password),
  ];

  const controlsOf = (form) => [...form.querySelectorAll("input"), ...form.querySelectorAll("button[id]")];
  for (const form of Object.values(forms)) for (const input of form.querySelectorAll("input")) clearOnInput(input);

  /** Takes every error of a form away. */
  const clearErrors = (form) => controlsOf(form).forEach(clearFieldError);

  /** Shows `err` (an AuthError) beside the field of `name`'s form it is about, and focuses it. */
  function showError(name, err, field = FIELD_OF[err && err.kind]) {
    const form = forms[name];
    const message = err && typeof err.message === "string" ? err.message : String(err);
    const control = field && form.elements[field];
    if (control) showFieldError(control, message);
    else showButtonError(form.querySelector('button[type="submit"]'), message);
  }

  function show(name, { username, focus = true } = {}) {
    for (const [key, form] of Object.entries(forms)) {
      form.hidden = key !== name;
      if (key !== name) clearErrors(form);
    }
    shown = name;
    const form = forms[name];
    if (username !== undefined && username !== null && username !== "") form.elements.username.value = username;
    if (focus) {
      const inputs = [...form.querySelectorAll("input")];
      (inputs.find((input) => input.value === "") ?? inputs[0]).focus();
    }
  }

  const values = (form) => Object.fromEntries(new FormData(form).entries());

  const busy = async (form, run) => {
    const buttons = [...form.querySelectorAll("button")];
    buttons.forEach((b) => (b.disabled = true));
    form.setAttribute("aria-busy", "true");
    clearErrors(form);
    try {
      await run();
    } finally {
      buttons.forEach((b) => (b.disabled = false));
      form.removeAttribute("aria-busy");
    }
  };

  for (const form of Object.values(forms)) {
    submitOnCtrlEnter(form);
    for (const button of form.querySelectorAll("button[data-show]")) {
      button.addEventListener("click", () => {
        // Carry the username over: it is the same person.
        show(button.dataset.show, { username: form.elements.username.value.trim() });
      });
    }
  }

  forms["sign-in"].addEventListener("submit", (event) => {
    event.preventDefault();
    const form = forms["sign-in"];
    busy(form, () => actions.signIn({ ...values(form), username: form.elements.username.value.trim() }));
  });
  forms["two-factor"].addEventListener("submit", (event) => {
    event.preventDefault();
    const form = forms["two-factor"];
    const problem = codeProblem(form.elements.code.value);
    if (problem !== null) {
      showFieldError(form.elements.code, problem);
      return;
    }
    busy(form, () => actions.signInWithCode({ code: codeDigits(form.elements.code.value) }));
  });
  forms["sign-up"].addEventListener("submit", (event) => {
    event.preventDefault();
    const form = forms["sign-up"];
    const problem = passwordProblem(form.elements.password.value);
    if (problem !== null) {
      showFieldError(form.elements.password, problem);
      return;
    }
    busy(form, () =>
      actions.signUp({
        ...values(form),
        username: form.elements.username.value.trim(),
        email: form.elements.email.value.trim(),
      }),
    );
  });
  forms.confirm.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = forms.confirm;
    busy(form, () =>
      actions.confirm({ username: form.elements.username.value.trim(), code: form.elements.code.value.trim() }),
    );
  });
  forms.forgot.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = forms.forgot;
    busy(form, () => actions.forgot({ username: form.elements.username.value.trim() }));
  });
  forms.reset.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = forms.reset;
    const problem = passwordProblem(form.elements.password.value);
    if (problem !== null) {
      showFieldError(form.elements.password, problem);
      return;
    }
    busy(form, () =>
      actions.reset({
        username: form.elements.username.value.trim(),
        code: form.elements.code.value.trim(),
        password: form.elements.password.value,
      }),
    );
  });
  root.querySelector("#resend-code").addEventListener("click", () => {
    const form = forms.confirm;
    const username = form.elements.username.value.trim();
    if (username === "") {
      form.elements.username.focus();
      form.reportValidity();
      return;
    }
    busy(form, () => actions.resend(username));
  });

  return {
    show,
    get shown() {
      return shown;
    },
    /** Empties the password fields (after signing in or out). */
    clearSecrets() {
      for (const form of Object.values(forms)) {
        for (const input of form.querySelectorAll('input[type="password"]')) input.value = "";
        clearErrors(form);
      }
      forms.confirm.elements.code.value = "";
      forms.reset.elements.code.value = "";
      forms["two-factor"].elements.code.value = "";
      ruleChecks.forEach((check) => check());
    },
    showError,
    clearErrors(name) {
      clearErrors(forms[name]);
    },
  };
}
