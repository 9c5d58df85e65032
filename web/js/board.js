// The board model: recent posts (newest first), the next page, and new posts (each submission
// with its own Idempotency-Key). Renders nothing.

import { createSubmission } from "./idempotency.js";

export const POSTS_PAGE_SIZE = 20;

/** `list` followed by the posts of `page` it does not hold yet (by id). */
export function appendUniquePosts(list, page) {
  const seen = new Set(list.map((p) => p.id));
  return [...list, ...page.filter((p) => !seen.has(p.id) && seen.add(p.id))];
}

/**
 * @param {{request: Function}} api
 * @param {{newKey: () => string, onChange?: () => void}} options
 */
export function createBoardStore(api, { newKey, onChange = () => {} }) {
  const state = { posts: [], next: null, loaded: false };
  const submission = createSubmission(newKey);
  let generation = 0;
  const changed = () => onChange(state);
  const pageArray = (data) => (Array.isArray(data) ? data : []);

  async function load() {
    const mine = ++generation;
    const res = await api.request("GET", `/post?limit=${POSTS_PAGE_SIZE}`, { resource: "post" });
    if (mine !== generation) return false;
    state.posts = pageArray(res.data);
    state.next = res.next;
    state.loaded = true;
    changed();
    return true;
  }

  async function more() {
    if (state.next === null) return false;
    const mine = ++generation;
    const res = await api.request("GET", state.next, { resource: "post" });
    if (mine !== generation) return false;
    state.posts = appendUniquePosts(state.posts, pageArray(res.data));
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
