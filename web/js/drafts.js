// What a person typed and has not saved yet: the new note and the notes being edited, kept in the
// browser's storage per user (by the user's permanent id, Cognito's `sub`), so a reload, a lost
// network or a failed save loses nothing. Cleared when the service has the text.
// Pure: the storage (`localStorage` in the page) is handed in, so `node --test` runs it.

/** The storage key of a user's drafts. Never a token: only the `sub`, which is not a secret. */
export const draftsKey = (owner) => `PollyNotes.drafts.${owner}`;

/**
 * The box after a save of `sent` completed, keeping whatever was typed while it was on its way.
 * The box still starts with what was sent (typing went on after it): that part goes and the rest
 * stays, without the line breaks or spaces that separated it. Anything else (the sent text was
 * itself changed meanwhile) is left exactly as it is: it is no longer what was sent.
 * @returns {{text: string, removed: number}} the new box text and how many characters went
 */
export function afterSent(current, sent) {
  if (current === sent) return { text: "", removed: current.length };
  if (sent !== "" && current.startsWith(sent)) {
    const rest = current.slice(sent.length);
    const text = rest.replace(/^\s+/, "");
    return { text, removed: current.length - text.length };
  }
  return { text: current, removed: 0 };
}

/**
 * A user's drafts: `{note: string, edits: {[noteId]: {text, ifMatch}}}` under one storage key.
 * A storage that refuses (full, disabled, private mode) only means drafts do not outlive the page:
 * every call still succeeds.
 * @param {{getItem(k: string): string|null, setItem(k: string, v: string): void, removeItem(k: string): void}|null} storage
 * @param {string} owner the user's `sub`
 */
export function createDrafts(storage, owner) {
  const key = draftsKey(owner);

  const read = () => {
    let raw = null;
    try {
      raw = storage ? storage.getItem(key) : null;
    } catch {
      return { note: "", edits: {} };
    }
    if (typeof raw !== "string") return { note: "", edits: {} };
    try {
      const data = JSON.parse(raw);
      const note = data && typeof data.note === "string" ? data.note : "";
      const edits = {};
      if (data && typeof data.edits === "object" && data.edits !== null) {
        for (const [id, edit] of Object.entries(data.edits)) {
          if (edit && typeof edit.text === "string") {
            edits[id] = { text: edit.text, ifMatch: typeof edit.ifMatch === "string" ? edit.ifMatch : null };
          }
        }
      }
      return { note, edits };
    } catch {
      return { note: "", edits: {} };
    }
  };

  const write = (data) => {
    if (!storage) return;
    try {
      if (data.note === "" && Object.keys(data.edits).length === 0) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify(data));
    } catch {
      /* storage full or refused: the draft lives as long as the page */
    }
  };

  return {
    /** The new note being written ("" when none). */
    note: () => read().note,
    setNote(text) {
      const data = read();
      data.note = text.trim() === "" ? "" : text;
      write(data);
    },
    /** The unsaved edit of a note: `{text, ifMatch}` (the version it was edited from), or null. */
    edit: (id) => read().edits[id] ?? null,
    /** Every unsaved edit, by NoteId. */
    edits: () => read().edits,
    setEdit(id, text, ifMatch) {
      const data = read();
      data.edits[id] = { text, ifMatch: ifMatch ?? null };
      write(data);
    },
    clearEdit(id) {
      const data = read();
      if (!(id in data.edits)) return;
      delete data.edits[id];
      write(data);
    },
  };
}
