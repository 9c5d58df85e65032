// What a composer holds after a save: the text that was sent goes, what was typed meanwhile stays,
// caret and all (drafts.js's afterSent says which part that is).

import { afterSent } from "../drafts.js";

/** Replaces what `box` holds after `sent` was saved, keeping what was typed meanwhile and the caret. */
export function keepTypedAfterSave(box, sent) {
  const { text, removed } = afterSent(box.value, sent);
  if (removed === 0) return;
  const focused = document.activeElement === box;
  const [start, end] = [box.selectionStart, box.selectionEnd];
  box.value = text;
  if (focused) box.setSelectionRange(Math.max(0, start - removed), Math.max(0, end - removed));
}
