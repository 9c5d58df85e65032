// The signed-out screens' controller: sign in, create an account, confirm it with the emailed
// code (or a new one), and reset a forgotten password. Each failure is shown beside the field
// it is about (views/auth-view.js); a success says what happened next in the status line.

import { createAuthView } from "../views/auth-view.js";

const CANNOT_RESET = "We could not send a code for that username. Check it and try again.";

/**
 * @param {HTMLElement} root the #auth section
 * @param {{
 *   session: ReturnType<typeof import("../session.js").createSession>,
 *   messages: ReturnType<typeof import("../views/messages.js").createMessages>,
 *   failures: ReturnType<typeof import("./failures.js").createFailures>,
 *   signedIn(username: string): void,
 * }} deps `signedIn` takes the page into the signed-in screens
 */
export function createAuthScreen(root, { session, messages, failures, signedIn }) {
  const { authFailure } = failures;
  const view = createAuthView(root, {
    signIn: async ({ username, password }) => {
      try {
        const name = await session.signIn(username, password);
        messages.clearError();
        signedIn(name);
      } catch (err) {
        if (err.kind === "not-confirmed") {
          messages.clearError();
          view.show("confirm", { username });
          messages.status(err.message);
          return;
        }
        view.showError("sign-in", authFailure(err));
      }
    },
    signUp: async ({ username, email, password }) => {
      try {
        const { destination } = await session.signUp(username, email, password);
        messages.clearError();
        view.clearSecrets();
        view.show("confirm", { username });
        messages.status(`We sent a confirmation code to ${destination || "your email"}.`);
      } catch (err) {
        view.showError("sign-up", authFailure(err));
      }
    },
    confirm: async ({ username, code }) => {
      try {
        await session.confirm(username, code);
        messages.clearError();
        view.clearSecrets();
        view.show("sign-in", { username });
        messages.status("Account confirmed. Sign in with your password.");
      } catch (err) {
        // An unknown user is the username's fault here (there is no password on this form).
        const failure = authFailure(err);
        view.showError("confirm", failure, failure.kind === "wrong-password" ? "username" : undefined);
      }
    },
    forgot: async ({ username }) => {
      try {
        const { destination } = await session.forgotPassword(username);
        messages.clearError();
        view.show("reset", { username });
        messages.status(`We sent a code to ${destination || "your email"}. Enter it with a new password.`);
      } catch (err) {
        const failure = authFailure(err);
        if (failure.kind === "wrong-password") {
          view.showError("forgot", { kind: failure.kind, message: CANNOT_RESET }, "username");
        } else {
          view.showError("forgot", failure);
        }
      }
    },
    reset: async ({ username, code, password }) => {
      try {
        await session.resetPassword(username, code, password);
        messages.clearError();
        view.clearSecrets();
        view.show("sign-in", { username });
        messages.status("Your password was changed. Sign in with the new one.");
      } catch (err) {
        const failure = authFailure(err);
        view.showError("reset", failure, failure.kind === "wrong-password" ? "username" : undefined);
      }
    },
    resend: async (username) => {
      try {
        const { destination } = await session.resendCode(username);
        messages.clearError();
        messages.status(`We sent a new code to ${destination || "your email"}.`);
      } catch (err) {
        view.showError("confirm", authFailure(err), "username");
      }
    },
  });

  return { show: view.show, clearSecrets: view.clearSecrets };
}
