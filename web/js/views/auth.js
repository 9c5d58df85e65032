// The three account forms (sign in, create account, confirm account): one shown at a time, the
// first field focused when a form is shown, the submit button disabled while its request runs.

import { submitOnCtrlEnter } from "../dom.js";

/**
 * @param {HTMLElement} root the #auth section
 * @param {{signIn(f): Promise<void>, signUp(f): Promise<void>, confirm(f): Promise<void>, resend(username: string): Promise<void>}} actions
 *   each gets the form's values; the view re-enables the form when the promise settles
 */
export function createAuthView(root, actions) {
  const forms = {
    "sign-in": root.querySelector("#sign-in-form"),
    "sign-up": root.querySelector("#sign-up-form"),
    confirm: root.querySelector("#confirm-form"),
  };
  let shown = null;

  function show(name, { username, focus = true } = {}) {
    for (const [key, form] of Object.entries(forms)) form.hidden = key !== name;
    shown = name;
    const form = forms[name];
    if (username !== undefined && username !== null && username !== "") form.elements.username.value = username;
    if (focus) form.elements.username.focus();
  }

  const values = (form) => Object.fromEntries(new FormData(form).entries());

  const busy = async (form, run) => {
    const buttons = [...form.querySelectorAll("button")];
    buttons.forEach((b) => (b.disabled = true));
    form.setAttribute("aria-busy", "true");
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
  forms["sign-up"].addEventListener("submit", (event) => {
    event.preventDefault();
    const form = forms["sign-up"];
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
      }
      forms.confirm.elements.code.value = "";
    },
    focusField(name, field) {
      forms[name].elements[field].focus();
    },
  };
}
