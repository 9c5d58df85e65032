// Wiring: configuration, the session, the API, the stores and the views. No rendering of data
// and no HTTP here: those live in views/ and api.js / notes.js / board.js.

import { createApi } from "./api.js";
import { createBoardStore } from "./board.js";
import { MISSING_CONFIG_MESSAGE, readConfig } from "./config.js";
import { debounce } from "./debounce.js";
import { submitOnCtrlEnter } from "./dom.js";
import { MESSAGES } from "./errors.js";
import { VOICES } from "./format.js";
import { uuidV4 } from "./idempotency.js";
import { createNotesStore } from "./notes.js";
import { createSession } from "./session.js";
import { STARTING_MESSAGE, waitForConfiguration } from "./starting.js";
import { createAuthView } from "./views/auth.js";
import { createBoardView } from "./views/board.js";
import { createMessages } from "./views/messages.js";
import { createNotesView } from "./views/notes.js";

const $ = (selector) => document.querySelector(selector);

const SIGN_OUT_FAILED =
  "You are signed out on this device, but the server could not end your session. It ends when it expires.";
const AUDIO_FAILED = "The audio could not be played.";
const UNEXPECTED = "Something went wrong. Try again.";

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
    notes: $("#notes"),
    board: $("#board"),
    newNoteForm: $("#new-note-form"),
    newNote: $("#new-note"),
    search: $("#search"),
    voice: $("#voice"),
    noteList: $("#note-list"),
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

  // ---- session and API ----------------------------------------------------------------------
  const session = createSession(cognito, config, { onExpired: () => sessionEnded() });
  const api = createApi({
    baseUrl: config.apiUrl,
    apiKey: config.apiKey,
    auth: { token: () => session.token(), refresh: () => session.refresh() },
    fetch: (...args) => window.fetch(...args),
    onSessionEnded: () => sessionEnded(),
  });

  /** Shows a failure. A 401 has already sent the page back to sign-in. */
  function report(err, retry = null) {
    if (err && err.kind === "session") return;
    if (err && typeof err.kind === "string" && typeof err.message === "string") {
      messages.error(err.message, retry);
      return;
    }
    // A bug of ours, not a service answer: its name and message only (never a request or token).
    console.error("unexpected failure:", err && err.name, err && err.message);
    messages.error(UNEXPECTED, retry);
  }

  // ---- stores (new ones for each signed-in user) ----------------------------------------------
  let notes = null;
  let board = null;
  const notesView = createNotesView(
    { list: els.noteList, empty: els.notesEmpty, more: els.moreNotes, newNote: els.newNote },
    {
      save: async (id, text, ifMatch) => {
        try {
          const result = await notes.save(id, text, ifMatch);
          messages.clearError();
          if (result.saved) messages.status("Note saved.");
          return result;
        } catch (err) {
          report(err);
          throw err;
        }
      },
      remove: async (note) => {
        try {
          await notes.remove(note);
          messages.clearError();
          messages.status("Note deleted.");
        } catch (err) {
          report(err);
          throw err;
        }
      },
      dictate: async (id) => {
        try {
          const url = await notes.dictate(id, els.voice.value);
          messages.clearError();
          return url;
        } catch (err) {
          report(err);
          throw err;
        }
      },
      audioFailed: () => messages.error(AUDIO_FAILED),
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
        report(err);
        auth.focusField("sign-in", err.kind === "wrong-password" ? "password" : "username");
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
        report(err);
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
        report(err);
      }
    },
    resend: async (username) => {
      try {
        const { destination } = await session.resendCode(username);
        messages.clearError();
        messages.status(`We sent a new code to ${destination || "your email"}.`);
      } catch (err) {
        report(err);
      }
    },
  });

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
    newStores();
    els.auth.hidden = true;
    els.signedInAs.textContent = `Signed in as ${username}`;
    els.account.hidden = false;
    els.app.hidden = false;
    showSection("notes");
    els.newNote.focus();
    loadNotes();
  }

  function leaveApp() {
    signedIn = false;
    notes = null;
    board = null;
    searchLater.cancel();
    notesView.reset();
    boardView.reset();
    els.search.value = "";
    els.newNote.value = "";
    els.postTitle.value = "";
    els.postContents.value = "";
    els.notesEmpty.hidden = true;
    els.moreNotes.hidden = true;
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
    const onBoard = name === "board";
    els.notes.hidden = onBoard;
    els.board.hidden = !onBoard;
    els.showNotes.setAttribute("aria-pressed", String(!onBoard));
    els.showBoard.setAttribute("aria-pressed", String(onBoard));
  }
  els.showNotes.addEventListener("click", () => showSection("notes"));
  els.showBoard.addEventListener("click", () => {
    showSection("board");
    loadBoard();
  });

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
        if (store === notes) report(err, loadNotes);
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

  let adding = false;
  submitOnCtrlEnter(els.newNoteForm);
  els.newNoteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (adding || notes === null) return;
    const text = els.newNote.value;
    if (text.trim() === "") {
      els.newNote.focus();
      return;
    }
    const button = els.newNoteForm.querySelector('button[type="submit"]');
    adding = true;
    button.disabled = true;
    els.newNoteForm.setAttribute("aria-busy", "true");
    try {
      await notes.create(text);
      els.newNote.value = "";
      messages.clearError();
      messages.status("Note added.");
    } catch (err) {
      report(err);
    } finally {
      adding = false;
      button.disabled = false;
      els.newNoteForm.removeAttribute("aria-busy");
      if (signedIn) els.newNote.focus();
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
      if (store === notes) report(err, moreNotes);
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
        if (store === board) report(err, loadBoard);
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
      if (store === board) report(err, morePosts);
    } finally {
      els.morePosts.disabled = false;
    }
  }
  els.morePosts.addEventListener("click", morePosts);

  let posting = false;
  submitOnCtrlEnter(els.newPostForm);
  els.newPostForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (posting || board === null) return;
    const title = els.postTitle.value;
    const contents = els.postContents.value;
    if (title.trim() === "" || contents.trim() === "") {
      (title.trim() === "" ? els.postTitle : els.postContents).focus();
      return;
    }
    const button = els.newPostForm.querySelector('button[type="submit"]');
    posting = true;
    button.disabled = true;
    els.newPostForm.setAttribute("aria-busy", "true");
    try {
      await board.create(title, contents);
      els.postTitle.value = "";
      els.postContents.value = "";
      messages.clearError();
      messages.status("Posted.");
    } catch (err) {
      report(err);
    } finally {
      posting = false;
      button.disabled = false;
      els.newPostForm.removeAttribute("aria-busy");
      if (signedIn) els.postTitle.focus();
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
