// The board view: posts newest first, each with its title, text, author and time.

import { h } from "../dom.js";
import { formatTime } from "../format.js";

/**
 * @param {{list: HTMLUListElement, empty: HTMLElement, more: HTMLButtonElement}} els
 */
export function createBoardView(els) {
  function postItem(post) {
    const when = post.createdAt;
    return h(
      "li",
      { class: "post", dataset: { id: String(post.id) } },
      h("h3", { text: post.title }),
      h("p", { class: "post-text", text: post.contents }),
      h(
        "p",
        { class: "meta" },
        `by ${post.author} `,
        when ? h("time", { datetime: when, text: formatTime(when) }) : null,
      ),
    );
  }

  function render(state) {
    els.list.replaceChildren(...state.posts.map(postItem));
    els.empty.hidden = !(state.loaded && state.posts.length === 0);
    els.more.hidden = state.next === null;
  }

  function reset() {
    els.list.replaceChildren();
    els.empty.hidden = true;
    els.more.hidden = true;
  }

  /** Focuses the post at `index` (the first of a page just appended), for keyboard users. */
  function focusPost(index) {
    const li = els.list.children[index];
    if (!li) return false;
    li.tabIndex = -1;
    li.focus();
    return true;
  }

  return { render, reset, focusPost };
}
