// The Account section's two-factor card: whether it is on, "Set up two-factor" (the new key as
// a QR code drawn in the page, and as text, then a code from the app to turn it on) and "Turn
// off two-factor". Each failure beside what caused it.

import { qrcode } from "../vendor/qrcode-generator.js";
import { codeDigits, codeProblem, groupedSecret, otpauthUri } from "../two-factor.js";
import { clearFieldError, clearOnInput, showButtonError, showFieldError } from "./field-error.js";

const STATE_ON = "On: signing in asks for your password and a code from your authenticator app.";
const STATE_OFF = "Off: signing in asks for your password only.";
const STATE_UNKNOWN = "";
const UNEXPECTED = "Something went wrong. Try again.";
/** A failure's words: an AuthError's are written for people; anything else is a bug of ours. */
const wordsOf = (err) => (err && typeof err.kind === "string" && typeof err.message === "string" ? err.message : UNEXPECTED);

/**
 * @param {HTMLElement} root the #mfa-settings card
 * @param {{begin(): Promise<{secret: string, username: string}>, confirm(code: string): Promise<void>, turnOff(): Promise<void>}} actions
 *   each rejects with an AuthError (`kind`, `message` for people) when it failed
 */
export function createTwoFactorView(root, actions) {
  const state = root.querySelector("#mfa-state");
  const start = root.querySelector("#mfa-start");
  const off = root.querySelector("#mfa-off");
  const form = root.querySelector("#mfa-setup-form");
  const qr = root.querySelector("#mfa-qr");
  const secretText = root.querySelector("#mfa-secret");
  const code = form.elements.code;
  const verify = root.querySelector("#mfa-verify");
  const cancel = root.querySelector("#mfa-cancel");
  clearOnInput(code);

  const clear = () => [start, off, code, verify].forEach(clearFieldError);

  /** Shows whether two-factor is on (null: not known, nothing said). */
  function showOn(on) {
    state.textContent = on === null ? STATE_UNKNOWN : on ? STATE_ON : STATE_OFF;
    start.textContent = on ? "Set up on a new device" : "Set up two-factor";
    off.hidden = !on;
  }

  function closeSetup() {
    form.hidden = true;
    qr.removeAttribute("src");
    secretText.textContent = "";
    code.value = "";
    clearFieldError(code);
    clearFieldError(verify);
  }

  /** Draws `secret` as the QR code of its otpauth:// address (a GIF data: URL, no network). */
  function drawKey(username, secret) {
    const code = qrcode(0, "M");
    code.addData(otpauthUri(username, secret));
    code.make();
    qr.src = code.createDataURL(4, 4);
    secretText.textContent = groupedSecret(secret);
  }

  const busy = async (buttons, run) => {
    buttons.forEach((b) => (b.disabled = true));
    try {
      await run();
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  };

  start.addEventListener("click", () =>
    busy([start, off], async () => {
      clear();
      try {
        const { secret, username } = await actions.begin();
        drawKey(username, secret);
        form.hidden = false;
        code.focus();
      } catch (err) {
        showButtonError(start, wordsOf(err));
      }
    }),
  );

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const problem = codeProblem(code.value);
    if (problem !== null) {
      showFieldError(code, problem);
      return;
    }
    busy([verify, cancel], async () => {
      clearFieldError(code);
      clearFieldError(verify);
      try {
        await actions.confirm(codeDigits(code.value));
        closeSetup();
        showOn(true);
        start.focus();
      } catch (err) {
        if (err && err.kind === "code-mismatch") showFieldError(code, wordsOf(err));
        else showButtonError(verify, wordsOf(err));
      }
    });
  });

  cancel.addEventListener("click", () => {
    closeSetup();
    start.focus();
  });

  off.addEventListener("click", () =>
    busy([start, off], async () => {
      clear();
      try {
        await actions.turnOff();
        closeSetup();
        showOn(false);
        start.focus();
      } catch (err) {
        showButtonError(off, wordsOf(err));
      }
    }),
  );

  /** Forgets what was shown (signing out): the key above all. */
  function reset() {
    closeSetup();
    clear();
    showOn(null);
  }

  return { showOn, reset };
}
