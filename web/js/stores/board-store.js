// The board model: recent posts (newest first), the next page, and new posts (each submission
// with its own Idempotency-Key). Renders nothing.

import { latestOnly } from "../debounce.js";
import { createSubmission } from "../idempotency.js";
import { appendUnique, pageArray } from "../pages.js";

export const POSTS_PAGE_SIZE = 20;

/**
 * @param {{request: Function}} api
 * @param {{newKey: () => string, onChange?: () => void}} options
 */
export function createBoardStore(api, { newKey, onChange = () => {} }) {
  const state = { posts: [], next: null, loaded: false };
  const submission = createSubmission(newKey);
  const tickets = latestOnly();
  const changed = () => onChange(state);

  async function load() {
    const ticket = tickets.next();
    const res = await api.request("GET", `/post?limit=${POSTS_PAGE_SIZE}`, { resource: "post" });
    if (!tickets.isCurrent(ticket)) return false;
    state.posts = pageArray(res.data);
    state.next = res.next;
    state.loaded = true;
    changed();
    return true;
  }

  async function more() {
    if (state.next === null) return false;
    const ticket = tickets.next();
    const res = await api.request("GET", state.next, { resource: "post" });
    if (!tickets.isCurrent(ticket)) return false;
    state.posts = appendUnique(state.posts, pageArray(res.data), (post) => post.id);
    state.next = res.next;
    changed();
    return true;
  }

  async function create(title, contents) {
    const body = { title, contents };
    const key = submission.keyFor(body);
    const res = await api.request("POST", "/post", {
      body,
      headers: { "Idempotency-Key": key },
      resource: "post",
    });
    submission.done();
    const post = res.data;
    if (post && typeof post === "object") {
      state.posts = [post, ...state.posts.filter((p) => p.id !== post.id)];
      changed();
    }
    return post;
  }

  return { state, load, more, create };
}
