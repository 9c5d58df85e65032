// The Notes screen's controller: the composer (a draft until the service has it), search as you
// type, the voice, the list with "More notes", and each note's actions through the notes view.
// A notes store is made for each signed-in user (enter) and dropped at sign-out (leave).

import { debounce } from "../debounce.js";
import { submitOnCtrlEnter } from "../dom.js";
import { VOICES } from "../format.js";
import { createNotesStore } from "../stores/notes-store.js";
import { clearFieldError, clearOnInput, showFieldError } from "../views/field-error.js";
import { createNotesView } from "../views/notes-view.js";
import { keepTypedAfterSave } from "./keep-typed.js";

const BLANK_NOTE = "Write something first: a note cannot be empty.";
const NOTE_RESTORED = "Your unsaved note is back in New note.";
const EDIT_OF_DELETED =
  "That note was deleted elsewhere. Your text is in New note, to add as a new note.";

/**
 * @param {HTMLElement} root the #notes section
 * @param {{
 *   api: {request: Function}, newKey: () => string,
 *   messages: ReturnType<typeof import("../views/messages.js").createMessages>,
 *   failures: ReturnType<typeof import("./failures.js").createFailures>,
 * }} deps
 */
export function createNotesScreen(root, { api, newKey, messages, failures }) {
  const els = {
    form: root.querySelector("#new-note-form"),
    newNote: root.querySelector("#new-note"),
    search: root.querySelector("#search"),
    voice: root.querySelector("#voice"),
    list: root.querySelector("#note-list"),
    alert: root.querySelector("#notes-alert"),
    empty: root.querySelector("#notes-empty"),
    more: root.querySelector("#more-notes"),
  };
  let notes = null; // the signed-in user's store; null when signed out
  let drafts = null; // the signed-in user's drafts (drafts.js)

  const view = createNotesView(
    { list: els.list, empty: els.empty, more: els.more, newNote: els.newNote },
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
          if (err && err.status === 404 && notes !== null) {
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

  for (const voice of VOICES) {
    const option = document.createElement("option");
    option.value = voice.id;
    option.textContent = voice.label;
    els.voice.append(option);
  }

  function load() {
    const store = notes;
    if (store === null) return;
    store
      .load(els.search.value)
      .then((current) => {
        if (current && store === notes) messages.clearError();
      })
      .catch((err) => {
        if (store === notes) failures.report(err, load, els.alert);
      });
  }

  const searchLater = debounce(load, 300);
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
  submitOnCtrlEnter(els.form);
  clearOnInput(els.newNote);
  els.newNote.addEventListener("input", () => {
    if (drafts) drafts.setNote(els.newNote.value);
  });
  els.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (adding || notes === null) return;
    const text = els.newNote.value;
    if (text.trim() === "") {
      messages.clearStatus();
      showFieldError(els.newNote, BLANK_NOTE);
      return;
    }
    const store = notes;
    const button = els.form.querySelector('button[type="submit"]');
    adding = true;
    button.disabled = true;
    button.textContent = "Adding…";
    els.form.setAttribute("aria-busy", "true");
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
        showFieldError(els.newNote, failures.wordsOf(err));
      }
    } finally {
      adding = false;
      button.disabled = false;
      button.textContent = "Add note";
      els.form.removeAttribute("aria-busy");
      if (notes !== null && document.activeElement !== els.newNote && !root.hidden) els.newNote.focus();
    }
  });

  async function more() {
    const store = notes;
    if (store === null) return;
    const before = store.state.notes.length;
    els.more.disabled = true;
    try {
      if (await store.more()) {
        messages.clearError();
        // The button is gone on the last page: go on from the first new note.
        if (els.more.hidden) {
          const first = store.state.notes[before];
          if (!(first && view.focusNote(first.NoteId, "edit"))) els.newNote.focus();
        }
      }
    } catch (err) {
      if (store === notes) failures.report(err, more, els.alert);
    } finally {
      els.more.disabled = false;
    }
  }
  els.more.addEventListener("click", more);

  /** A user signed in: their drafts (the new note's comes back in its box) and a store of theirs. */
  function enter(userDrafts) {
    drafts = userDrafts;
    const kept = drafts.note();
    els.newNote.value = kept;
    clearFieldError(els.newNote);
    if (kept !== "") messages.status(NOTE_RESTORED);
    const store = createNotesStore(api, {
      newKey,
      onChange: (state) => {
        if (notes === store) view.render(state);
      },
    });
    notes = store;
  }

  /** Signed out: everything of the user leaves the screen (their drafts stay in storage). */
  function leave() {
    notes = null;
    drafts = null;
    searchLater.cancel();
    view.reset();
    els.search.value = "";
    els.newNote.value = "";
    clearFieldError(els.newNote);
    els.empty.hidden = true;
    els.more.hidden = true;
  }

  return { enter, leave, load, focus: () => els.newNote.focus() };
}
