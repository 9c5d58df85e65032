// The page's entry point: reads the configuration, makes the session and the API client, and
// moves between the signed-out screens and the signed-in ones (Notes, Board, Account), each
// with a controller of its own in screens/. No rendering of data and no HTTP here: those live
// in views/ and in api.js and stores/.

import { createApi } from "./api.js";
import { MISSING_CONFIG_MESSAGE, readConfig } from "./config.js";
import { createDrafts } from "./drafts.js";
import { MESSAGES } from "./errors.js";
import { uuidV4 } from "./idempotency.js";
import { createAccountScreen } from "./screens/account-screen.js";
import { createAuthScreen } from "./screens/auth-screen.js";
import { createBoardScreen } from "./screens/board-screen.js";
import { createFailures } from "./screens/failures.js";
import { createNotesScreen } from "./screens/notes-screen.js";
import { deleteAccount } from "./delete-account.js";
import { createSession } from "./session.js";
import { STARTING_MESSAGE, waitForConfiguration } from "./starting.js";
import { createDeleteAccountView } from "./views/delete-account-view.js";
import { createMessages } from "./views/messages.js";

const $ = (selector) => document.querySelector(selector);

const SIGN_OUT_FAILED =
  "You are signed out on this device, but the server could not end your session. It ends when it expires.";
const ACCOUNT_DELETED =
  "Your account is deleted: your notes, their audio and your drafts on this device are gone. Your posts stay on the board, by \"deleted user\".";

/** The browser's storage for drafts, or null where it is refused (a sandboxed frame). */
function localStorageOrNull() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function boot() {
  const bootEl = $("#boot");
  if (window.NOTES_BACKEND_STARTING === true) {
    bootEl.textContent = STARTING_MESSAGE;
    waitForConfiguration({
      fetch: (...args) => window.fetch(...args),
      url: "config.js",
      intervalMs: 1000,
      ready: () => window.location.reload(),
    });
    return;
  }
  const found = readConfig(window.NOTES_CONFIG);
  if (!found.ok) {
    bootEl.textContent = MISSING_CONFIG_MESSAGE;
    bootEl.classList.add("problem");
    return;
  }
  if (typeof window.AmazonCognitoIdentity !== "object" || window.AmazonCognitoIdentity === null) {
    bootEl.textContent = "The sign-in library (vendor/amazon-cognito-identity.min.js) did not load. Reload the page.";
    bootEl.classList.add("problem");
    return;
  }
  start(found.config, window.AmazonCognitoIdentity);
  bootEl.hidden = true;
}

function start(config, cognito) {
  const messages = createMessages($("#alert"), $("#status"));
  const failures = createFailures(messages);
  const newKey = () =>
    typeof crypto.randomUUID === "function" ? crypto.randomUUID() : uuidV4((a) => crypto.getRandomValues(a));

  const els = {
    auth: $("#auth"),
    app: $("#app"),
    account: $("#account"),
    signedInAs: $("#signed-in-as"),
    signOut: $("#sign-out"),
    showNotes: $("#show-notes"),
    showBoard: $("#show-board"),
    showAccount: $("#show-account"),
    notes: $("#notes"),
    board: $("#board"),
    accountSettings: $("#account-settings"),
  };

  let signedIn = false;

  const session = createSession(cognito, config, { onExpired: () => sessionEnded() });
  const api = createApi({
    baseUrl: config.apiUrl,
    apiKey: config.apiKey,
    auth: { token: () => session.token(), refresh: () => session.refresh() },
    fetch: (...args) => window.fetch(...args),
    onSessionEnded: () => sessionEnded(),
  });

  const auth = createAuthScreen(els.auth, { session, messages, failures, signedIn: (name) => enterApp(name) });
  const notes = createNotesScreen(els.notes, { api, newKey, messages, failures });
  const board = createBoardScreen(els.board, { api, newKey, messages, failures });
  const account = createAccountScreen(els.accountSettings, {
    session,
    messages,
    signedOut: (username) => {
      leaveApp();
      showAuth("sign-in", { username });
    },
  });

  // Deleting the account: the service first, then this browser's drafts of the user, then the
  // session here (the user no longer exists, so there is nothing to revoke).
  const deletion = createDeleteAccountView(els.accountSettings, {
    username: () => session.username,
    deleteAccount: async () => {
      await deleteAccount(api, localStorageOrNull(), draftsOwner(session.username));
      session.endLocally();
      leaveApp();
      showAuth("sign-in");
      messages.clearError();
      messages.status(ACCOUNT_DELETED);
    },
  });

  /** Whose drafts these are: the user's `sub` (drafts.js). */
  function draftsOwner(username) {
    return session.userId || `user:${username}`;
  }

  function showAuth(form = "sign-in", options = {}) {
    els.app.hidden = true;
    els.account.hidden = true;
    els.auth.hidden = false;
    auth.show(form, options);
  }

  function enterApp(username) {
    signedIn = true;
    auth.clearSecrets();
    messages.clearStatus();
    notes.enter(createDrafts(localStorageOrNull(), draftsOwner(username)));
    board.enter();
    els.auth.hidden = true;
    els.signedInAs.textContent = `Signed in as ${username}`;
    els.account.hidden = false;
    els.app.hidden = false;
    showSection("notes");
    notes.focus();
    notes.load();
  }

  // Drafts stay in storage, under the user's id: signing in again brings them back.
  function leaveApp() {
    signedIn = false;
    notes.leave();
    board.leave();
    account.leave();
    deletion.reset();
    els.signedInAs.textContent = "";
    messages.clearStatus();
  }

  /** The session cannot be refreshed (or the API still says 401 after a refresh). */
  function sessionEnded() {
    if (!signedIn) return;
    const username = session.username;
    session.endLocally();
    leaveApp();
    showAuth("sign-in", { username });
    messages.error(MESSAGES.session);
  }

  els.signOut.addEventListener("click", async () => {
    els.signOut.disabled = true;
    messages.status("Signing out…");
    try {
      const { revoked } = await session.signOut();
      leaveApp();
      showAuth("sign-in");
      if (revoked) {
        messages.clearError();
        messages.status("Signed out.");
      } else {
        messages.error(SIGN_OUT_FAILED);
      }
    } finally {
      els.signOut.disabled = false;
    }
  });

  // ---- sections ------------------------------------------------------------------------------
  function showSection(name) {
    const sections = [
      ["notes", els.notes, els.showNotes],
      ["board", els.board, els.showBoard],
      ["account", els.accountSettings, els.showAccount],
    ];
    for (const [key, section, tab] of sections) {
      section.hidden = key !== name;
      tab.setAttribute("aria-pressed", String(key === name));
    }
  }
  els.showNotes.addEventListener("click", () => showSection("notes"));
  els.showBoard.addEventListener("click", () => {
    showSection("board");
    board.load();
  });
  els.showAccount.addEventListener("click", () => {
    showSection("account");
    account.show();
  });

  // ---- start ---------------------------------------------------------------------------------
  session
    .restore()
    .then((username) => (username ? enterApp(username) : showAuth("sign-in")))
    .catch((err) => {
      showAuth("sign-in");
      failures.report(err);
    });
}

boot();
