// The notes model: the list (newest first, as the API orders it), its next page, the search, and
// the writes (create with an Idempotency-Key, edit and delete with If-Match, dictate).
// Talks to the API only through `api.request`; renders nothing.

import { ifMatchFor } from "../api.js";
import { latestOnly } from "../debounce.js";
import { createSubmission } from "../idempotency.js";
import { appendUnique, pageArray } from "../pages.js";

export const PAGE_SIZE = 20;

const notePath = (id) => `/notes/${encodeURIComponent(id)}`;

/** Is `text` a search (not blank)? Blank text lists every note, as the API does. */
export const isSearch = (text) => typeof text === "string" && text.trim() !== "";

/** Does a note match a search the way the service does (case-insensitive substring)? */
export const matches = (note, text) =>
  !isSearch(text) || String(note.Note).toLowerCase().includes(text.toLowerCase());

/**
 * @param {{request: Function}} api
 * @param {{newKey: () => string, onChange?: () => void}} options
 */
export function createNotesStore(api, { newKey, onChange = () => {} }) {
  const state = { notes: [], next: null, query: "", loaded: false, loading: false };
  const tickets = latestOnly();
  const submission = createSubmission(newKey);

  const changed = () => onChange(state);

  // What this page wrote while a list or a search was on its way: that answer was read before
  // those writes, so they are applied to it again. A note added just after sign-in must not
  // vanish when the first page, read before it existed, comes back.
  let writeCount = 0;
  const writes = []; // {n, created?: note, saved?: note, deletedId?: string}, the latest last
  const MAX_WRITES = 100;
  const wrote = (entry) => {
    writes.push({ n: ++writeCount, ...entry });
    if (writes.length > MAX_WRITES) writes.shift();
  };
  const withWritesSince = (since, notes, query) => {
    let out = notes;
    for (const w of writes) {
      if (w.n <= since) continue;
      if (w.deletedId !== undefined) out = out.filter((n) => n.NoteId !== w.deletedId);
      else if (w.created) {
        if (matches(w.created, query) && !out.some((n) => n.NoteId === w.created.NoteId)) out = [w.created, ...out];
      } else if (w.saved) {
        const newer = w.saved;
        out = out.map((n) => (n.NoteId === newer.NoteId && (n.Version ?? 0) <= (newer.Version ?? 0) ? newer : n));
      }
    }
    return out;
  };
  const replace = (note) => {
    state.notes = state.notes.map((n) => (n.NoteId === note.NoteId ? note : n));
  };
  const drop = (id) => {
    state.notes = state.notes.filter((n) => n.NoteId !== id);
  };

  /** Loads the first page of the list or of a search. Resolves false when a later load won. */
  async function load(query = state.query) {
    const ticket = tickets.next();
    state.query = query;
    state.loading = true;
    const path = isSearch(query)
      ? `/notes/search?text=${encodeURIComponent(query)}&limit=${PAGE_SIZE}`
      : `/notes?limit=${PAGE_SIZE}`;
    const since = writeCount;
    try {
      let res;
      try {
        res = await api.request("GET", path, { resource: "notes" });
      } catch (err) {
        if (!tickets.isCurrent(ticket)) return false; // a later load won: its answer counts
        throw err;
      }
      if (!tickets.isCurrent(ticket)) return false;
      state.notes = withWritesSince(since, pageArray(res.data), query);
      state.next = res.next;
      state.loaded = true;
      return true;
    } finally {
      if (tickets.isCurrent(ticket)) {
        state.loading = false;
        changed();
      }
    }
  }

  /** Appends the next page (the Link URL exactly as given), skipping notes already shown. */
  async function more() {
    if (state.next === null) return false;
    const ticket = tickets.next();
    let res;
    try {
      res = await api.request("GET", state.next, { resource: "notes" });
    } catch (err) {
      if (!tickets.isCurrent(ticket)) return false;
      throw err;
    }
    if (!tickets.isCurrent(ticket)) return false;
    state.notes = appendUnique(state.notes, pageArray(res.data), (note) => note.NoteId);
    state.next = res.next;
    changed();
    return true;
  }

  /** Creates a note. A retry of the same text reuses the key, so it creates one note. */
  async function create(text) {
    const body = { Note: text };
    const key = submission.keyFor(body);
    const res = await api.request("POST", "/notes", {
      body,
      headers: { "Idempotency-Key": key },
      resource: "note",
    });
    submission.done();
    const note = res.data;
    if (note && typeof note === "object") wrote({ created: note });
    if (note && typeof note === "object" && matches(note, state.query)) {
      state.notes = [note, ...state.notes.filter((n) => n.NoteId !== note.NoteId)];
      changed();
    }
    return note;
  }

  /** Reads one note and its ETag. */
  async function get(id) {
    const res = await api.request("GET", notePath(id), { resource: "note" });
    return { note: res.data, etag: res.etag };
  }

  /**
   * Saves `text` as note `id`, expecting version `ifMatch`. Resolves `{saved: note}`, or
   * `{conflict: {note, etag}}` with the stored note when it changed elsewhere (409).
   */
  async function save(id, text, ifMatch) {
    try {
      const headers = ifMatch ? { "If-Match": ifMatch } : {};
      const res = await api.request("POST", "/notes", {
        body: { NoteId: id, Note: text },
        headers,
        resource: "note",
      });
      const saved = res.data;
      wrote({ saved });
      replace(saved);
      changed();
      return { saved };
    } catch (err) {
      if (err && err.status === 409 && err.kind === "conflict") {
        const stored = await getOrDrop(id);
        replace(stored.note);
        changed();
        return { conflict: { note: stored.note, ifMatch: ifMatchFor(stored.note, stored.etag) } };
      }
      if (err && err.status === 404) {
        drop(id);
        changed();
      }
      throw err;
    }
  }

  async function getOrDrop(id) {
    try {
      return await get(id);
    } catch (err) {
      if (err && err.status === 404) {
        drop(id);
        changed();
      }
      throw err;
    }
  }

  /** Deletes a note if it is still at the version shown. A 404 removes it from the list too. */
  async function remove(note) {
    const ifMatch = ifMatchFor(note);
    try {
      await api.request("DELETE", notePath(note.NoteId), {
        headers: ifMatch ? { "If-Match": ifMatch } : {},
        resource: "note",
      });
    } catch (err) {
      if (err && err.status === 404) {
        drop(note.NoteId);
        changed();
      } else if (err && err.kind === "conflict") {
        // Changed elsewhere: show the stored version to review (a failure to read it changes nothing).
        try {
          const stored = await get(note.NoteId);
          replace(stored.note);
          changed();
        } catch {
          /* the 409's own message is what the user needs */
        }
      }
      throw err;
    }
    wrote({ deletedId: note.NoteId });
    drop(note.NoteId);
    changed();
  }

  /** The URL of the note read aloud by `voiceId`. */
  async function dictate(id, voiceId) {
    const res = await api.request("POST", notePath(id), { body: { VoiceId: voiceId }, resource: "note" });
    if (typeof res.data !== "string" || res.data === "") throw new TypeError("dictation answered no URL");
    return res.data;
  }

  const find = (id) => state.notes.find((n) => n.NoteId === id) ?? null;

  return { state, load, more, create, get, save, remove, dictate, find };
}
