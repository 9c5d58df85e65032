// The signed-out screens' controller: sign in (then the authenticator's code, when two-factor is
// on), create an account, confirm it with the emailed code (or a new one), and reset a forgotten
// password. Each failure is shown beside the field it is about (views/auth-view.js); a success
// says what happened next in the status line.

import { createAuthView } from "../views/auth-view.js";

const CANNOT_RESET = "We could not send a code for that username. Check it and try again.";
const SIGN_IN_AGAIN = "That sign-in took too long. Sign in again with your password.";

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
        const result = await session.signIn(username, password);
        messages.clearError();
        if (result.codeRequired) {
          // The password was right; the authenticator's code finishes the sign-in.
          view.clearSecrets();
          view.show("two-factor", { username });
          return;
        }
        signedIn(result.username);
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
    signInWithCode: async ({ code }) => {
      try {
        const { username } = await session.signInWithCode(code);
        messages.clearError();
        signedIn(username);
      } catch (err) {
        const failure = authFailure(err);
        if (failure.kind === "session") {
          // The sign-in waited too long for its code: the password again.
          view.show("sign-in", { username: root.querySelector("#two-factor-form").elements.username.value });
          messages.error(SIGN_IN_AGAIN);
          return;
        }
        view.showError("two-factor", failure);
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
