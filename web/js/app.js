// Wiring: configuration, the session, the API, the stores and the views. No rendering of data
// and no HTTP here: those live in views/ and api.js / notes.js / board.js.

import { createApi } from "./api.js";
import { createBoardStore } from "./board.js";
import { MISSING_CONFIG_MESSAGE, readConfig } from "./config.js";
import { debounce } from "./debounce.js";
import { submitOnCtrlEnter } from "./dom.js";
import { afterSent, createDrafts } from "./drafts.js";
import { MESSAGES } from "./errors.js";
import { VOICES } from "./format.js";
import { uuidV4 } from "./idempotency.js";
import { createNotesStore } from "./notes.js";
import { createSession } from "./session.js";
import { STARTING_MESSAGE, waitForConfiguration } from "./starting.js";
import { deleteAccount } from "./delete-account.js";
import { createAccountView } from "./views/account.js";
import { createDeleteAccountView } from "./views/delete-account.js";
import { createAuthView } from "./views/auth.js";
import { createBoardView } from "./views/board.js";
import { clearFieldError, clearOnInput, showFieldError } from "./views/field-error.js";
import { createMessages } from "./views/messages.js";
import { createNotesView } from "./views/notes.js";

const $ = (selector) => document.querySelector(selector);

const SIGN_OUT_FAILED =
  "You are signed out on this device, but the server could not end your session. It ends when it expires.";
const UNEXPECTED = "Something went wrong. Try again.";
const ACCOUNT_DELETED =
  "Your account is deleted: your notes, their audio and your drafts on this device are gone. Your posts stay on the board, by \"deleted user\".";
const BLANK_NOTE = "Write something first: a note cannot be empty.";
const BLANK_TITLE = "Give the post a title.";
const BLANK_POST = "Write the message of the post.";
const CANNOT_RESET = "We could not send a code for that username. Check it and try again.";
const SIGNED_OUT_EVERYWHERE = "Signed out on every device.";
const PASSWORD_CHANGED = "Your password was changed. Devices already signed in stay signed in; use Sign out everywhere to end them.";
const NOTE_RESTORED = "Your unsaved note is back in New note.";
const EDIT_OF_DELETED =
  "That note was deleted elsewhere. Your text is in New note, to add as a new note.";

/** The browser's storage for drafts, or null where it is refused (a sandboxed frame). */
function localStorageOrNull() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** Replaces what `box` holds after `sent` was saved, keeping what was typed meanwhile and the caret. */
function keepTypedAfterSave(box, sent) {
  const { text, removed } = afterSent(box.value, sent);
  if (removed === 0) return;
  const focused = document.activeElement === box;
  const [start, end] = [box.selectionStart, box.selectionEnd];
  box.value = text;
  if (focused) box.setSelectionRange(Math.max(0, start - removed), Math.max(0, end - removed));
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
    newNoteForm: $("#new-note-form"),
    newNote: $("#new-note"),
    search: $("#search"),
    voice: $("#voice"),
    noteList: $("#note-list"),
    notesAlert: $("#notes-alert"),
    postsAlert: $("#posts-alert"),
    notesEmpty: $("#notes-empty"),
    moreNotes: $("#more-notes"),
    newPostForm: $("#new-post-form"),
    postTitle: $("#post-title"),
    postContents: $("#post-contents"),
    postList: $("#post-list"),
    postsEmpty: $("#posts-empty"),
    morePosts: $("#more-posts"),
  };

  let signedIn = false;
  let drafts = null; // the signed-in user's drafts (drafts.js)

  // ---- session and API ----------------------------------------------------------------------
  const session = createSession(cognito, config, { onExpired: () => sessionEnded() });
  const api = createApi({
    baseUrl: config.apiUrl,
    apiKey: config.apiKey,
    auth: { token: () => session.token(), refresh: () => session.refresh() },
    fetch: (...args) => window.fetch(...args),
    onSessionEnded: () => sessionEnded(),
  });

  /** The words of a failure shown beside a control (a 401 has already sent the page to sign-in). */
  function wordsOf(err) {
    if (err && typeof err.kind === "string" && typeof err.message === "string") return err.message;
    console.error("unexpected failure:", err && err.name, err && err.message);
    return UNEXPECTED;
  }

  /** An account failure as `{kind, message}` (an AuthError is one already; a bug of ours is not). */
  const authFailure = (err) =>
    err && typeof err.kind === "string" ? err : { kind: "unexpected", message: wordsOf(err) };

  /** Shows a failure, in `where` (a list's own alert) or the page's. A 401 has already sent the
   * page back to sign-in. */
  function report(err, retry = null, where = undefined) {
    if (err && err.kind === "session") return;
    if (err && typeof err.kind === "string" && typeof err.message === "string") {
      messages.error(err.message, retry, where);
      return;
    }
    // A bug of ours, not a service answer: its name and message only (never a request or token).
    console.error("unexpected failure:", err && err.name, err && err.message);
    messages.error(UNEXPECTED, retry, where);
  }

  // ---- stores (new ones for each signed-in user) ----------------------------------------------
  let notes = null;
  let board = null;
  const notesView = createNotesView(
    { list: els.noteList, empty: els.notesEmpty, more: els.moreNotes, newNote: els.newNote },
    {
      // Failures are shown in the note by the view; these say what went well (and a success
      // clears a page-wide "cannot reach": the service answers again).
      save: async (id, text, ifMatch) => {
        try {
          const result = await notes.save(id, text, ifMatch);
          messages.clearError();
          if (result.saved) messages.status("Note saved.");
          return result;
        } catch (err) {
          // Deleted elsewhere: the edit would vanish with the note, so it moves to New note.
          if (err && err.status === 404 && signedIn) {
            if (drafts) drafts.clearEdit(id);
            keepAsNewNote(text);
            showFieldError(els.newNote, EDIT_OF_DELETED);
          }
          throw err;
        }
      },
      remove: async (note) => {
        await notes.remove(note);
        messages.clearError();
        messages.status("Note deleted.");
      },
      dictate: (id) => notes.dictate(id, els.voice.value),
      audioFailed: (err) => console.error("audio failed:", err && err.name, err && err.message),
      drafts: () => drafts,
    },
  );
  const boardView = createBoardView({ list: els.postList, empty: els.postsEmpty, more: els.morePosts });

  function newStores() {
    const notesStore = createNotesStore(api, {
      newKey,
      onChange: (state) => {
        if (notes === notesStore) notesView.render(state);
      },
    });
    const boardStore = createBoardStore(api, {
      newKey,
      onChange: (state) => {
        if (board === boardStore) boardView.render(state);
      },
    });
    notes = notesStore;
    board = boardStore;
  }

  // ---- auth ----------------------------------------------------------------------------------
  const auth = createAuthView(els.auth, {
    signIn: async ({ username, password }) => {
      try {
        const name = await session.signIn(username, password);
        messages.clearError();
        enterApp(name);
      } catch (err) {
        if (err.kind === "not-confirmed") {
          messages.clearError();
          auth.show("confirm", { username });
          messages.status(err.message);
          return;
        }
        auth.showError("sign-in", authFailure(err));
      }
    },
    signUp: async ({ username, email, password }) => {
      try {
        const { destination } = await session.signUp(username, email, password);
        messages.clearError();
        auth.clearSecrets();
        auth.show("confirm", { username });
        messages.status(`We sent a confirmation code to ${destination || "your email"}.`);
      } catch (err) {
        auth.showError("sign-up", authFailure(err));
      }
    },
    confirm: async ({ username, code }) => {
      try {
        await session.confirm(username, code);
        messages.clearError();
        auth.clearSecrets();
        auth.show("sign-in", { username });
        messages.status("Account confirmed. Sign in with your password.");
      } catch (err) {
        // An unknown user is the username's fault here (there is no password on this form).
        const failure = authFailure(err);
        auth.showError("confirm", failure, failure.kind === "wrong-password" ? "username" : undefined);
      }
    },
    forgot: async ({ username }) => {
      try {
        const { destination } = await session.forgotPassword(username);
        messages.clearError();
        auth.show("reset", { username });
        messages.status(`We sent a code to ${destination || "your email"}. Enter it with a new password.`);
      } catch (err) {
        const failure = authFailure(err);
        if (failure.kind === "wrong-password") {
          auth.showError("forgot", { kind: failure.kind, message: CANNOT_RESET }, "username");
        } else {
          auth.showError("forgot", failure);
        }
      }
    },
    reset: async ({ username, code, password }) => {
      try {
        await session.resetPassword(username, code, password);
        messages.clearError();
        auth.clearSecrets();
        auth.show("sign-in", { username });
        messages.status("Your password was changed. Sign in with the new one.");
      } catch (err) {
        const failure = authFailure(err);
        auth.showError("reset", failure, failure.kind === "wrong-password" ? "username" : undefined);
      }
    },
    resend: async (username) => {
      try {
        const { destination } = await session.resendCode(username);
        messages.clearError();
        messages.status(`We sent a new code to ${destination || "your email"}.`);
      } catch (err) {
        auth.showError("confirm", authFailure(err), "username");
      }
    },
  });

  const account = createAccountView(els.accountSettings, {
    changePassword: async (current, password) => {
      await session.changePassword(current, password);
      messages.status(PASSWORD_CHANGED);
    },
    signOutEverywhere: async () => {
      const username = session.username;
      await session.signOutEverywhere();
      leaveApp();
      showAuth("sign-in", { username });
      messages.clearError();
      messages.status(SIGNED_OUT_EVERYWHERE);
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
    drafts = createDrafts(localStorageOrNull(), draftsOwner(username));
    const kept = drafts.note();
    els.newNote.value = kept;
    clearFieldError(els.newNote);
    if (kept !== "") messages.status(NOTE_RESTORED);
    newStores();
    els.auth.hidden = true;
    els.signedInAs.textContent = `Signed in as ${username}`;
    els.account.hidden = false;
    els.app.hidden = false;
    showSection("notes");
    els.newNote.focus();
    loadNotes();
  }

  // Drafts stay in storage, under the user's id: signing in again brings them back.
  function leaveApp() {
    signedIn = false;
    notes = null;
    board = null;
    drafts = null;
    searchLater.cancel();
    notesView.reset();
    boardView.reset();
    els.search.value = "";
    els.newNote.value = "";
    els.postTitle.value = "";
    els.postContents.value = "";
    for (const box of [els.newNote, els.postTitle, els.postContents]) clearFieldError(box);
    els.notesEmpty.hidden = true;
    els.moreNotes.hidden = true;
    els.signedInAs.textContent = "";
    account.reset();
    deletion.reset();
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
    loadBoard();
  });
  els.showAccount.addEventListener("click", () => showSection("account"));

  // ---- notes ---------------------------------------------------------------------------------
  for (const voice of VOICES) {
    const option = document.createElement("option");
    option.value = voice.id;
    option.textContent = voice.label;
    els.voice.append(option);
  }

  function loadNotes() {
    const store = notes;
    if (store === null) return;
    store
      .load(els.search.value)
      .then((current) => {
        if (current && store === notes) messages.clearError();
      })
      .catch((err) => {
        if (store === notes) report(err, loadNotes, els.notesAlert);
      });
  }

  const searchLater = debounce(loadNotes, 300);
  els.search.addEventListener("input", () => searchLater());
  els.search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      searchLater.flush();
    }
  });

  // The composer: what is typed is a draft until the service has it. A save takes away only the
  // text it sent; what was typed meanwhile stays, caret and all.
  function keepAsNewNote(text) {
    const current = els.newNote.value;
    els.newNote.value = current.trim() === "" ? text : `${current}\n\n${text}`;
    if (drafts) drafts.setNote(els.newNote.value);
  }

  let adding = false;
  submitOnCtrlEnter(els.newNoteForm);
  clearOnInput(els.newNote);
  els.newNote.addEventListener("input", () => {
    if (drafts) drafts.setNote(els.newNote.value);
  });
  els.newNoteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (adding || notes === null) return;
    const text = els.newNote.value;
    if (text.trim() === "") {
      messages.clearStatus();
      showFieldError(els.newNote, BLANK_NOTE);
      return;
    }
    const store = notes;
    const button = els.newNoteForm.querySelector('button[type="submit"]');
    adding = true;
    button.disabled = true;
    button.textContent = "Adding…";
    els.newNoteForm.setAttribute("aria-busy", "true");
    clearFieldError(els.newNote);
    try {
      await store.create(text);
      if (store !== notes) return;
      keepTypedAfterSave(els.newNote, text);
      if (drafts) drafts.setNote(els.newNote.value);
      messages.clearError();
      messages.status("Note added.");
    } catch (err) {
      if (store === notes && !(err && err.kind === "session")) {
        messages.clearStatus();
        showFieldError(els.newNote, wordsOf(err));
      }
    } finally {
      adding = false;
      button.disabled = false;
      button.textContent = "Add note";
      els.newNoteForm.removeAttribute("aria-busy");
      if (signedIn && document.activeElement !== els.newNote && !els.notes.hidden) els.newNote.focus();
    }
  });

  async function moreNotes() {
    const store = notes;
    if (store === null) return;
    const before = store.state.notes.length;
    els.moreNotes.disabled = true;
    try {
      if (await store.more()) {
        messages.clearError();
        // The button is gone on the last page: go on from the first new note.
        if (els.moreNotes.hidden) {
          const first = store.state.notes[before];
          if (!(first && notesView.focusNote(first.NoteId, "edit"))) els.newNote.focus();
        }
      }
    } catch (err) {
      if (store === notes) report(err, moreNotes, els.notesAlert);
    } finally {
      els.moreNotes.disabled = false;
    }
  }
  els.moreNotes.addEventListener("click", moreNotes);

  // ---- board ---------------------------------------------------------------------------------
  function loadBoard() {
    const store = board;
    if (store === null) return;
    store
      .load()
      .then((current) => {
        if (current && store === board) messages.clearError();
      })
      .catch((err) => {
        if (store === board) report(err, loadBoard, els.postsAlert);
      });
  }

  async function morePosts() {
    const store = board;
    if (store === null) return;
    const before = store.state.posts.length;
    els.morePosts.disabled = true;
    try {
      if (await store.more()) {
        messages.clearError();
        if (els.morePosts.hidden && !boardView.focusPost(before)) els.postTitle.focus();
      }
    } catch (err) {
      if (store === board) report(err, morePosts, els.postsAlert);
    } finally {
      els.morePosts.disabled = false;
    }
  }
  els.morePosts.addEventListener("click", morePosts);

  let posting = false;
  submitOnCtrlEnter(els.newPostForm);
  clearOnInput(els.postTitle);
  clearOnInput(els.postContents);
  els.newPostForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (posting || board === null) return;
    const title = els.postTitle.value;
    const contents = els.postContents.value;
    if (title.trim() === "") {
      showFieldError(els.postTitle, BLANK_TITLE);
      return;
    }
    if (contents.trim() === "") {
      showFieldError(els.postContents, BLANK_POST);
      return;
    }
    const store = board;
    const button = els.newPostForm.querySelector('button[type="submit"]');
    posting = true;
    button.disabled = true;
    els.newPostForm.setAttribute("aria-busy", "true");
    clearFieldError(els.postContents);
    try {
      await store.create(title, contents);
      if (store !== board) return;
      keepTypedAfterSave(els.postTitle, title);
      keepTypedAfterSave(els.postContents, contents);
      messages.clearError();
      messages.status("Posted.");
    } catch (err) {
      if (store === board && !(err && err.kind === "session")) showFieldError(els.postContents, wordsOf(err));
    } finally {
      posting = false;
      button.disabled = false;
      els.newPostForm.removeAttribute("aria-busy");
      if (signedIn && !els.board.hidden && !els.newPostForm.contains(document.activeElement)) els.postTitle.focus();
    }
  });

  // ---- start ---------------------------------------------------------------------------------
  session
    .restore()
    .then((username) => (username ? enterApp(username) : showAuth("sign-in")))
    .catch((err) => {
      showAuth("sign-in");
      report(err);
    });
}

boot();
