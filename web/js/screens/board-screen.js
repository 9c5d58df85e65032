// The Board screen's controller: the new post form and the list of posts with "More posts". A
// board store is made for each signed-in user (enter) and dropped at sign-out (leave).

import { submitOnCtrlEnter } from "../dom.js";
import { createBoardStore } from "../stores/board-store.js";
import { createBoardView } from "../views/board-view.js";
import { clearFieldError, clearOnInput, showFieldError } from "../views/field-error.js";
import { keepTypedAfterSave } from "./keep-typed.js";

const BLANK_TITLE = "Give the post a title.";
const BLANK_POST = "Write the message of the post.";

/**
 * @param {HTMLElement} root the #board section
 * @param {{
 *   api: {request: Function}, newKey: () => string,
 *   messages: ReturnType<typeof import("../views/messages.js").createMessages>,
 *   failures: ReturnType<typeof import("./failures.js").createFailures>,
 * }} deps
 */
export function createBoardScreen(root, { api, newKey, messages, failures }) {
  const els = {
    form: root.querySelector("#new-post-form"),
    title: root.querySelector("#post-title"),
    contents: root.querySelector("#post-contents"),
    list: root.querySelector("#post-list"),
    alert: root.querySelector("#posts-alert"),
    empty: root.querySelector("#posts-empty"),
    more: root.querySelector("#more-posts"),
  };
  let board = null; // the signed-in user's store; null when signed out
  const view = createBoardView({ list: els.list, empty: els.empty, more: els.more });

  function load() {
    const store = board;
    if (store === null) return;
    store
      .load()
      .then((current) => {
        if (current && store === board) messages.clearError();
      })
      .catch((err) => {
        if (store === board) failures.report(err, load, els.alert);
      });
  }

  async function more() {
    const store = board;
    if (store === null) return;
    const before = store.state.posts.length;
    els.more.disabled = true;
    try {
      if (await store.more()) {
        messages.clearError();
        if (els.more.hidden && !view.focusPost(before)) els.title.focus();
      }
    } catch (err) {
      if (store === board) failures.report(err, more, els.alert);
    } finally {
      els.more.disabled = false;
    }
  }
  els.more.addEventListener("click", more);

  let posting = false;
  submitOnCtrlEnter(els.form);
  clearOnInput(els.title);
  clearOnInput(els.contents);
  els.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (posting || board === null) return;
    const title = els.title.value;
    const contents = els.contents.value;
    if (title.trim() === "") {
      showFieldError(els.title, BLANK_TITLE);
      return;
    }
    if (contents.trim() === "") {
      showFieldError(els.contents, BLANK_POST);
      return;
    }
    const store = board;
    const button = els.form.querySelector('button[type="submit"]');
    posting = true;
    button.disabled = true;
    els.form.setAttribute("aria-busy", "true");
    clearFieldError(els.contents);
    try {
      await store.create(title, contents);
      if (store !== board) return;
      keepTypedAfterSave(els.title, title);
      keepTypedAfterSave(els.contents, contents);
      messages.clearError();
      messages.status("Posted.");
    } catch (err) {
      if (store === board && !(err && err.kind === "session")) showFieldError(els.contents, failures.wordsOf(err));
    } finally {
      posting = false;
      button.disabled = false;
      els.form.removeAttribute("aria-busy");
      if (board !== null && !root.hidden && !els.form.contains(document.activeElement)) els.title.focus();
    }
  });

  /** A user signed in: a store of theirs (the posts load when the screen is first shown). */
  function enter() {
    const store = createBoardStore(api, {
      newKey,
      onChange: (state) => {
        if (board === store) view.render(state);
      },
    });
    board = store;
  }

  /** Signed out: the posts and whatever was typed leave the screen. */
  function leave() {
    board = null;
    view.reset();
    els.title.value = "";
    els.contents.value = "";
    for (const box of [els.title, els.contents]) clearFieldError(box);
  }

  return { enter, leave, load };
}
