// The notes view: one card per note, edited, confirmed for deletion and dictated in place. Keyed
// by NoteId so an item is rebuilt only when its note or its own state changes (a textarea being
// typed in, or audio playing in another note, is left alone). An edit is kept as a draft while it
// is typed (a reload or a search that hides the note opens it again) and stays open, with what
// was typed, until the service has that very text. A failure is shown inside the note.

import { ifMatchFor } from "../api.js";
import { h, submitOnCtrlEnter, uid } from "../dom.js";
import { clearFieldError, showFieldError } from "./field-error.js";
import { formatTime, noteCard } from "../format.js";

const AUDIO_FAILED = "The audio could not be played.";
const UNEXPECTED = "Something went wrong. Try again.";
/** An action's failure in words: the error's own (an ApiError's is written for people). */
const messageOf = (err) =>
  err && typeof err.kind === "string" && typeof err.message === "string" ? err.message : UNEXPECTED;

const BLANK_EDIT = "A note cannot be empty. Write something, or use Delete to remove the note.";

/**
 * @param {{list: HTMLUListElement, empty: HTMLElement, more: HTMLButtonElement, newNote: HTMLElement}} els
 * @param {{
 *   save(id: string, text: string, ifMatch: string|null): Promise<{saved?: object, conflict?: {note: object, ifMatch: string|null}}>,
 *   remove(note: object): Promise<void>,
 *   dictate(id: string): Promise<string>,
 *   audioFailed(err: unknown): void,
 *   drafts(): {edit(id): {text: string, ifMatch: string|null}|null, setEdit(id, text, ifMatch): void, clearEdit(id): void}|null,
 * }} actions each rejects with an error whose `message` is for people when it failed; `drafts`
 *   is the signed-in user's draft storage
 */
export function createNotesView(els, actions) {
  // NoteId → {mode, draft, base (the If-Match the edit started from), busy, conflict, error,
  // audio, audioVersion}
  const ui = new Map();
  const items = new Map(); // NoteId → {li, body, audioSlot, sig, editor}
  let notes = [];
  let pendingFocus = null; // {id, key}: an element to focus again once it is enabled
  let rerender = () => {};

  const drafts = () => actions.drafts();

  const stateOf = (id) => {
    if (!ui.has(id)) {
      ui.set(id, {
        mode: "view",
        draft: "",
        base: null,
        busy: null,
        conflict: null,
        error: null,
        audio: null,
        audioVersion: null,
        expanded: false,
      });
    }
    return ui.get(id);
  };

  /** A note seen for the first time (a reload, or back after a search) opens its unsaved edit. */
  function restoreDraft(note) {
    const store = drafts();
    const kept = store && store.edit(note.NoteId);
    if (!kept) return;
    if (kept.text === note.Note) {
      store.clearEdit(note.NoteId);
      return;
    }
    Object.assign(stateOf(note.NoteId), { mode: "edit", draft: kept.text, base: kept.ifMatch ?? ifMatchFor(note) });
  }

  const keepDraft = (id, st) => {
    const store = drafts();
    if (store) store.setEdit(id, st.draft, st.base);
  };
  const dropDraft = (id) => {
    const store = drafts();
    if (store) store.clearEdit(id);
  };
  const noteOf = (id) => notes.find((n) => n.NoteId === id) ?? null;
  const update = (id, changes) => {
    Object.assign(stateOf(id), changes);
    rerender();
  };

  /** Focuses the element `key` ("edit", "listen", "delete", "keep", "expand", "textarea", "conflict") of a note. */
  function focusNote(id, key) {
    const item = items.get(id);
    const el = item && item.li.querySelector(`[data-key="${key}"]`);
    if (!el) return false;
    if (el.disabled) {
      pendingFocus = { id, key };
      return true;
    }
    pendingFocus = null;
    el.focus();
    return true;
  }

  const button = (text, key, onclick, extra = {}) =>
    h("button", { type: "button", text, dataset: { key }, onclick, ...extra });

  /** The item's error paragraph, and the attributes that tie a control to it. */
  const errorOf = (note, st) => {
    if (!st.error) return { el: null, attrs: {} };
    const id = `note-${note.NoteId}-error`;
    return { el: h("p", { id, class: "field-error", role: "alert", text: st.error }), attrs: { "aria-describedby": id } };
  };

  /** The card's face: the first line as its title, the rest as a preview, a long note collapsed
   * to a few lines with "Show more" (the whole text stays in the page for search and screen
   * readers), the time small beneath. */
  function cardFace(note, st) {
    const card = noteCard(note.Note);
    const collapsed = card.long && !st.expanded;
    const textId = `note-${note.NoteId}-text`;
    const when = note.UpdatedAt ?? note.CreatedAt;
    const parts = [
      h(
        "div",
        { id: textId, class: collapsed ? "note-content collapsed" : "note-content" },
        h("h3", { class: "note-title", text: card.title }),
        // The line break between title and preview, kept in the text (copying a card, or finding
        // it by its text, gives the note as written) and not shown (the two are blocks).
        card.rest !== "" ? ["\n", h("p", { class: "note-preview", text: card.rest })] : null,
      ),
    ];
    if (card.long) {
      parts.push(
        button(collapsed ? "Show more" : "Show less", "expand", () => {
          update(note.NoteId, { expanded: !st.expanded });
          focusNote(note.NoteId, "expand");
        }, { class: "link", "aria-expanded": String(!collapsed), "aria-controls": textId }),
      );
    }
    const meta = when ? h("p", { class: "meta" }, "Updated ", h("time", { datetime: when, text: formatTime(when) })) : null;
    return { parts, meta };
  }

  function viewBody(note, st) {
    const error = errorOf(note, st);
    const { parts, meta } = cardFace(note, st);
    if (st.mode === "confirm") {
      const qid = uid("confirm");
      if (meta) parts.push(meta);
      parts.push(
        h(
          "div",
          { class: "confirm", role: "group", "aria-labelledby": qid },
          h("p", { id: qid, text: "Delete this note?" }),
          h(
            "div",
            { class: "row" },
            button("Delete note", "confirm-delete", () => confirmDelete(note.NoteId), {
              class: "danger",
              disabled: st.busy === "deleting",
              ...error.attrs,
            }),
            button("Keep note", "keep", () => {
              update(note.NoteId, { mode: "view" });
              focusNote(note.NoteId, "delete");
            }, { disabled: st.busy === "deleting" }),
          ),
          error.el,
        ),
      );
      return parts;
    }
    const listening = st.busy === "listening";
    // The time and the actions share one line beneath the text: small, and each still a button
    // with its own name for the keyboard and screen readers (the icons are decoration).
    parts.push(
      h(
        "div",
        { class: "note-foot" },
        meta,
        h(
          "div",
          { class: "actions" },
          button("Edit", "edit", () => startEdit(note.NoteId), { class: "action icon-edit" }),
          button(listening ? "Preparing audio…" : "Listen", "listen", () => listen(note.NoteId), {
            class: "action icon-listen",
            disabled: listening,
            ...(st.errorFor === "listen" ? error.attrs : {}),
          }),
          button("Delete", "delete", () => {
            update(note.NoteId, { mode: "confirm", error: null });
            focusNote(note.NoteId, "keep");
          }, { class: "action icon-delete", ...(st.errorFor === "delete" ? error.attrs : {}) }),
        ),
      ),
      error.el,
    );
    return parts;
  }

  function editBody(note, st, item) {
    const id = `edit-${note.NoteId}`;
    const saving = st.busy === "saving";
    const textarea = h("textarea", {
      id,
      rows: 4,
      maxlength: 10000,
      required: true,
      dataset: { key: "textarea" },
      oninput: (event) => {
        st.draft = event.target.value;
        keepDraft(note.NoteId, st);
        if (st.error) setEditError(note.NoteId, null);
      },
    });
    textarea.value = st.draft;
    const saveButton = h("button", { type: "submit", class: "primary", text: "Save", dataset: { key: "save" }, disabled: saving });
    const cancelButton = button("Cancel", "cancel", () => cancelEdit(note.NoteId), { disabled: saving });
    const form = h(
      "form",
      {
        class: "edit",
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          save(note.NoteId, st.draft, st.base ?? ifMatchFor(note));
        },
        onkeydown: (event) => {
          if (event.key === "Escape" && st.busy !== "saving") cancelEdit(note.NoteId);
        },
      },
      h("label", { for: id, text: "Edit note" }),
      textarea,
      h("div", { class: "row" }, saveButton, cancelButton),
    );
    submitOnCtrlEnter(form);
    item.editor = { textarea, saveButton, cancelButton, form };
    return [form];
  }

  /** Brings an open editor up to date with its busy state and error without rebuilding it: the
   * person may be typing in it. */
  function showEditState(item, st) {
    const { textarea, saveButton, cancelButton, form } = item.editor;
    const saving = st.busy === "saving";
    saveButton.disabled = saving;
    cancelButton.disabled = saving;
    saveButton.textContent = saving ? "Saving…" : "Save";
    if (saving) form.setAttribute("aria-busy", "true");
    else form.removeAttribute("aria-busy");
    if (st.error) showFieldError(textarea, st.error, { focus: false });
    else clearFieldError(textarea);
  }

  function setEditError(id, message) {
    const st = stateOf(id);
    st.error = message;
    const item = items.get(id);
    if (item && item.editor && st.mode === "edit") showEditState(item, st);
  }

  function conflictBody(note, st) {
    const saving = st.busy === "saving";
    const savedId = uid("saved");
    const mineId = uid("mine");
    return [
      h(
        "div",
        { class: "conflict", role: "group", "aria-label": "Edit conflict", tabindex: "-1", dataset: { key: "conflict" } },
        h("p", { class: "conflict-title", text: "This note was changed elsewhere." }),
        h(
          "div",
          { class: "versions" },
          h(
            "div",
            { class: "version", role: "group", "aria-labelledby": savedId },
            h("h3", { id: savedId, text: "Saved version" }),
            h("p", { class: "note-text", text: st.conflict.note.Note }),
          ),
          h(
            "div",
            { class: "version", role: "group", "aria-labelledby": mineId },
            h("h3", { id: mineId, text: "Your version" }),
            h("p", { class: "note-text", text: st.draft }),
          ),
        ),
        h(
          "div",
          { class: "row" },
          button("Keep mine", "keep-mine", () => save(note.NoteId, st.draft, st.conflict.ifMatch), {
            class: "primary",
            disabled: saving,
            ...(st.error ? { "aria-describedby": `note-${note.NoteId}-error` } : {}),
          }),
          button("Use saved version", "use-saved", () => {
            dropDraft(note.NoteId);
            update(note.NoteId, { mode: "view", conflict: null, draft: "", base: null, error: null });
            focusNote(note.NoteId, "edit");
          }, { disabled: saving }),
        ),
        st.error ? h("p", { id: `note-${note.NoteId}-error`, class: "field-error", role: "alert", text: st.error }) : null,
      ),
    ];
  }

  function fill(item, note, st) {
    // An editor rebuilt for a newer version of its note keeps the caret where the person left it.
    const old = item.editor ? item.editor.textarea : null;
    const selection = old ? [old.selectionStart, old.selectionEnd] : null;
    item.editor = null;
    const body =
      st.mode === "edit"
        ? editBody(note, st, item)
        : st.mode === "conflict"
          ? conflictBody(note, st)
          : viewBody(note, st);
    item.body.replaceChildren(...body.filter((part) => part !== null));
    if (item.editor) {
      // In the page now: its error (found by id) is this editor's, not the one it replaces.
      showEditState(item, st);
      if (selection) item.editor.textarea.setSelectionRange(selection[0], selection[1]);
    }
    // Audio of an older version of the note reads the old text: drop it.
    if (st.audio && st.audioVersion !== note.Version) {
      st.audio.pause();
      st.audio = null;
    }
    if (st.audio === null && item.audioSlot.firstChild) item.audioSlot.replaceChildren();
    if (st.audio && st.audio.parentNode !== item.audioSlot) item.audioSlot.replaceChildren(st.audio);
  }

  // An open editor's own busy state and error are shown in place (showEditState): they are not
  // part of its signature, so typing in it goes on while it saves.
  const signature = (note, st) =>
    JSON.stringify([
      note.Note,
      note.UpdatedAt,
      note.Version,
      st.mode,
      st.expanded,
      st.mode === "edit" ? null : st.busy,
      st.mode === "edit" ? null : st.error,
      st.conflict ? [st.conflict.note.Note, st.conflict.note.Version] : null,
      st.audio ? st.audio.src : null,
    ]);

  /** Shows `state.notes` (a notes store's state). */
  function render(state) {
    rerender = () => render(state);
    notes = state.notes;
    const active = document.activeElement;
    const activeLi = active && els.list.contains(active) ? active.closest("li") : null;
    const focusBack = activeLi && active.dataset.key ? { id: activeLi.dataset.id, key: active.dataset.key } : null;

    const ids = new Set(notes.map((n) => n.NoteId));
    for (const [id, item] of items) {
      if (!ids.has(id)) {
        item.li.remove();
        items.delete(id);
        const st = ui.get(id);
        if (st && st.audio) st.audio.pause();
        ui.delete(id);
      }
    }
    let previous = null;
    for (const note of notes) {
      let item = items.get(note.NoteId);
      if (!item) {
        const body = h("div", { class: "note-body" });
        const audioSlot = h("div", { class: "audio" });
        const li = h("li", { class: "note", dataset: { id: note.NoteId } }, body, audioSlot);
        item = { li, body, audioSlot, sig: null, editor: null };
        items.set(note.NoteId, item);
      }
      if (!ui.has(note.NoteId)) restoreDraft(note);
      const st = stateOf(note.NoteId);
      const sig = signature(note, st);
      if (sig !== item.sig) {
        fill(item, note, st);
        item.sig = sig;
      } else if (item.editor) {
        showEditState(item, st);
      }
      const expected = previous ? previous.nextElementSibling : els.list.firstElementChild;
      if (expected !== item.li) els.list.insertBefore(item.li, expected);
      previous = item.li;
    }

    // Focus that was inside a rebuilt item goes back to the same control (or once it is enabled).
    if (focusBack && !(document.activeElement && els.list.contains(document.activeElement))) {
      focusNote(focusBack.id, focusBack.key);
    } else if (pendingFocus) {
      const { id, key } = pendingFocus;
      const item = items.get(id);
      const el = item && item.li.querySelector(`[data-key="${key}"]`);
      if (!el) pendingFocus = null;
      else if (!el.disabled && (document.activeElement === document.body || document.activeElement === null)) {
        focusNote(id, key);
      }
    }

    els.empty.textContent = state.query && state.query.trim() !== "" ? "No notes match your search." : "No notes yet.";
    els.empty.hidden = !(state.loaded && notes.length === 0);
    els.more.hidden = state.next === null;
  }

  function startEdit(id) {
    const note = noteOf(id);
    if (!note) return;
    update(id, { mode: "edit", draft: note.Note, base: ifMatchFor(note), conflict: null, error: null });
    const textarea = items.get(id).li.querySelector('[data-key="textarea"]');
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  }

  function cancelEdit(id) {
    dropDraft(id);
    update(id, { mode: "view", draft: "", base: null, conflict: null, error: null });
    focusNote(id, "edit");
  }

  async function save(id, text, ifMatch) {
    const st = stateOf(id);
    if (st.busy) return;
    if (text.trim() === "") {
      setEditError(id, BLANK_EDIT);
      focusNote(id, "textarea");
      return;
    }
    update(id, { busy: "saving", error: null });
    try {
      const result = await actions.save(id, text, ifMatch);
      if (result.conflict) {
        update(id, { busy: null, mode: "conflict", conflict: result.conflict });
        focusNote(id, "conflict");
      } else if (st.draft !== text && st.mode === "edit") {
        // Typed on while it saved: the editor stays open with that, now based on the saved version.
        st.base = ifMatchFor(result.saved);
        keepDraft(id, st);
        update(id, { busy: null });
      } else {
        dropDraft(id);
        update(id, { busy: null, mode: "view", draft: "", base: null, conflict: null });
        focusNote(id, "edit");
      }
    } catch (err) {
      if (!ui.has(id)) {
        els.newNote.focus();
        return;
      }
      const message = messageOf(err);
      if (st.mode === "conflict") {
        update(id, { busy: null, error: message });
        focusNote(id, "keep-mine");
      } else {
        st.busy = null;
        setEditError(id, message);
        focusNote(id, "textarea");
      }
    }
  }

  async function confirmDelete(id) {
    const note = noteOf(id);
    const st = stateOf(id);
    if (!note || st.busy) return;
    const index = notes.findIndex((n) => n.NoteId === id);
    update(id, { busy: "deleting" });
    try {
      await actions.remove(note);
    } catch (err) {
      if (ui.has(id)) {
        update(id, { busy: null, mode: "view", error: messageOf(err), errorFor: "delete" });
        focusNote(id, "delete");
        return;
      }
    }
    // Gone (deleted, or already gone): focus the note that took its place, else "New note".
    const next = notes[index] ?? null;
    if (!(next && focusNote(next.NoteId, "edit"))) els.newNote.focus();
  }

  async function listen(id) {
    const st = stateOf(id);
    if (st.busy) return;
    const version = noteOf(id)?.Version ?? null;
    update(id, { busy: "listening", error: null });
    let url;
    try {
      url = await actions.dictate(id);
    } catch (err) {
      if (ui.has(id)) {
        update(id, { busy: null, error: messageOf(err), errorFor: "listen" });
        focusNote(id, "listen");
      }
      return;
    }
    if (!ui.has(id)) return;
    if (st.audio) st.audio.pause();
    const audio = h("audio", { controls: true, preload: "auto", "aria-label": "Dictated note" });
    audio.src = url;
    update(id, { busy: null, audio, audioVersion: version });
    audio.play().catch((err) => {
      if (err && (err.name === "NotAllowedError" || err.name === "AbortError")) return;
      actions.audioFailed(err);
      if (ui.has(id)) update(id, { error: AUDIO_FAILED, errorFor: "listen" });
    });
  }

  /** Forgets every item (signing out). */
  function reset() {
    for (const st of ui.values()) if (st.audio) st.audio.pause();
    ui.clear();
    items.clear();
    els.list.replaceChildren();
    notes = [];
    pendingFocus = null;
  }

  return { render, reset, focusNote };
}
