// The Account screen's controller: change the password, and sign out on every device (which
// takes the page back to sign-in). The form's checks and errors are the account view's.

import { createAccountView } from "../views/account-view.js";

const SIGNED_OUT_EVERYWHERE = "Signed out on every device.";
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

  return { leave: view.reset };
}
