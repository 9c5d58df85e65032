// The notes list: one <li> per note, edited, confirmed for deletion and dictated in place. Keyed
// by NoteId so an item is rebuilt only when its note or its own state changes (a textarea being
// typed in, or audio playing in another note, is left alone).

import { ifMatchFor } from "../api.js";
import { h, submitOnCtrlEnter, uid } from "../dom.js";
import { formatTime } from "../format.js";

/**
 * @param {{list: HTMLUListElement, empty: HTMLElement, more: HTMLButtonElement, newNote: HTMLElement}} els
 * @param {{
 *   save(id: string, text: string, ifMatch: string|null): Promise<{saved?: object, conflict?: {note: object, ifMatch: string|null}}>,
 *   remove(note: object): Promise<void>,
 *   dictate(id: string): Promise<string>,
 *   audioFailed(err: unknown): void,
 * }} actions each rejects (after reporting the error) when it failed
 */
export function createNotesView(els, actions) {
  const ui = new Map(); // NoteId → {mode, draft, busy, conflict, audio, audioVersion}
  const items = new Map(); // NoteId → {li, body, audioSlot, sig}
  let notes = [];
  let pendingFocus = null; // {id, key}: an element to focus again once it is enabled
  let rerender = () => {};

  const stateOf = (id) => {
    if (!ui.has(id)) ui.set(id, { mode: "view", draft: "", busy: null, conflict: null, audio: null, audioVersion: null });
    return ui.get(id);
  };
  const noteOf = (id) => notes.find((n) => n.NoteId === id) ?? null;
  const update = (id, changes) => {
    Object.assign(stateOf(id), changes);
    rerender();
  };

  /** Focuses the element `key` ("edit", "listen", "delete", "keep", "textarea", "conflict") of a note. */
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

  function viewBody(note, st) {
    const when = note.UpdatedAt ?? note.CreatedAt;
    const parts = [h("p", { class: "note-text", text: note.Note })];
    if (when) parts.push(h("p", { class: "meta" }, "Updated ", h("time", { datetime: when, text: formatTime(when) })));
    if (st.mode === "confirm") {
      const qid = uid("confirm");
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
            }),
            button("Keep note", "keep", () => {
              update(note.NoteId, { mode: "view" });
              focusNote(note.NoteId, "delete");
            }, { disabled: st.busy === "deleting" }),
          ),
        ),
      );
      return parts;
    }
    const listening = st.busy === "listening";
    parts.push(
      h(
        "div",
        { class: "row actions" },
        button("Edit", "edit", () => startEdit(note.NoteId)),
        button(listening ? "Preparing audio…" : "Listen", "listen", () => listen(note.NoteId), { disabled: listening }),
        button("Delete", "delete", () => {
          update(note.NoteId, { mode: "confirm" });
          focusNote(note.NoteId, "keep");
        }),
      ),
    );
    return parts;
  }

  function editBody(note, st) {
    const id = uid("edit");
    const saving = st.busy === "saving";
    const textarea = h("textarea", {
      id,
      rows: 4,
      maxlength: 10000,
      required: true,
      dataset: { key: "textarea" },
      oninput: (event) => {
        st.draft = event.target.value;
      },
    });
    textarea.value = st.draft;
    const form = h(
      "form",
      {
        class: "edit",
        onsubmit: (event) => {
          event.preventDefault();
          save(note.NoteId, st.draft, ifMatchFor(note));
        },
        onkeydown: (event) => {
          if (event.key === "Escape" && !saving) cancelEdit(note.NoteId);
        },
      },
      h("label", { for: id, text: "Edit note" }),
      textarea,
      h(
        "div",
        { class: "row" },
        h("button", { type: "submit", class: "primary", text: "Save", dataset: { key: "save" }, disabled: saving }),
        button("Cancel", "cancel", () => cancelEdit(note.NoteId), { disabled: saving }),
      ),
    );
    submitOnCtrlEnter(form);
    return [form];
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
          }),
          button("Use saved version", "use-saved", () => {
            update(note.NoteId, { mode: "view", conflict: null, draft: "" });
            focusNote(note.NoteId, "edit");
          }, { disabled: saving }),
        ),
      ),
    ];
  }

  function fill(item, note, st) {
    const body =
      st.mode === "edit" ? editBody(note, st) : st.mode === "conflict" ? conflictBody(note, st) : viewBody(note, st);
    item.body.replaceChildren(...body);
    // Audio of an older version of the note reads the old text: drop it.
    if (st.audio && st.audioVersion !== note.Version) {
      st.audio.pause();
      st.audio = null;
    }
    if (st.audio === null && item.audioSlot.firstChild) item.audioSlot.replaceChildren();
    if (st.audio && st.audio.parentNode !== item.audioSlot) item.audioSlot.replaceChildren(st.audio);
  }

  const signature = (note, st) =>
    JSON.stringify([
      note.Note,
      note.UpdatedAt,
      note.Version,
      st.mode,
      st.busy,
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
        item = { li, body, audioSlot, sig: null };
        items.set(note.NoteId, item);
      }
      const st = stateOf(note.NoteId);
      const sig = signature(note, st);
      if (sig !== item.sig) {
        fill(item, note, st);
        item.sig = sig;
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
    update(id, { mode: "edit", draft: note.Note, conflict: null });
    const textarea = items.get(id).li.querySelector('[data-key="textarea"]');
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  }

  function cancelEdit(id) {
    update(id, { mode: "view", draft: "", conflict: null });
    focusNote(id, "edit");
  }

  async function save(id, text, ifMatch) {
    const st = stateOf(id);
    if (st.busy) return;
    update(id, { busy: "saving" });
    try {
      const result = await actions.save(id, text, ifMatch);
      if (result.conflict) {
        update(id, { busy: null, mode: "conflict", conflict: result.conflict });
        focusNote(id, "conflict");
      } else {
        update(id, { busy: null, mode: "view", draft: "", conflict: null });
        focusNote(id, "edit");
      }
    } catch {
      if (ui.has(id)) {
        update(id, { busy: null });
        const key = st.mode === "conflict" ? "keep-mine" : "textarea";
        focusNote(id, key);
      } else {
        els.newNote.focus();
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
    } catch {
      if (ui.has(id)) {
        update(id, { busy: null, mode: "view" });
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
    update(id, { busy: "listening" });
    let url;
    try {
      url = await actions.dictate(id);
    } catch {
      if (ui.has(id)) update(id, { busy: null });
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
