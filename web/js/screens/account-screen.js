// The Account screen's controller: change the password, two-factor sign-in (set up with an
// authenticator app, or turned off), and sign out on every device (which takes the page back to
// sign-in). The forms' checks and errors are the views'.

import { createAccountView } from "../views/account-view.js";
import { createTwoFactorView } from "../views/two-factor-view.js";

const SIGNED_OUT_EVERYWHERE = "Signed out on every device.";
const TWO_FACTOR_ON = "Two-factor sign-in is on. Next time you sign in, have your authenticator app at hand.";
const TWO_FACTOR_OFF = "Two-factor sign-in is off.";
const PASSWORD_CHANGED = "Your password was changed. Devices already signed in stay signed in; use Sign out everywhere to end them.";

/**
 * @param {HTMLElement} root the #account-settings section
 * @param {{
 *   session: ReturnType<typeof import("../session.js").createSession>,
 *   messages: ReturnType<typeof import("../views/messages.js").createMessages>,
 *   signedOut(username: string|null): void,
 * }} deps `signedOut` takes the page back to sign-in, the username filled in
 */
export function createAccountScreen(root, { session, messages, signedOut }) {
  const view = createAccountView(root, {
    changePassword: async (current, password) => {
      await session.changePassword(current, password);
      messages.status(PASSWORD_CHANGED);
    },
    signOutEverywhere: async () => {
      const username = session.username;
      await session.signOutEverywhere();
      signedOut(username);
      messages.clearError();
      messages.status(SIGNED_OUT_EVERYWHERE);
    },
  });

  const twoFactor = createTwoFactorView(root.querySelector("#mfa-settings"), {
    begin: async () => ({ secret: await session.beginTwoFactor(), username: session.username }),
    confirm: async (code) => {
      await session.confirmTwoFactor(code);
      messages.status(TWO_FACTOR_ON);
    },
    turnOff: async () => {
      await session.turnOffTwoFactor();
      messages.status(TWO_FACTOR_OFF);
    },
  });

  /** The screen is shown: says whether two-factor is on (as the pool says, each time). */
  function show() {
    session.twoFactorOn().then(
      (on) => twoFactor.showOn(on),
      () => twoFactor.showOn(null),
    );
  }

  return {
    show,
    leave: () => {
      view.reset();
      twoFactor.reset();
    },
  };
}
