// Pages of a list, shared by the notes and board stores: the array an API page holds, and a page
// appended to what is shown without repeating an item (a note or post created meanwhile moves
// the next page's start, so it may hold one already listed). Pure: `node --test` imports it.

/** The items of an answer: a bare array, or none when the body is anything else. */
export const pageArray = (data) => (Array.isArray(data) ? data : []);

/** `list` followed by the items of `page` it does not hold yet, compared by `keyOf`. */
export function appendUnique(list, page, keyOf) {
  const seen = new Set(list.map(keyOf));
  const out = list.slice();
  for (const item of page) {
    const key = keyOf(item);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(item);
    }
  }
  return out;
}
