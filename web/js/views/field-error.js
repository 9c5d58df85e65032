// An error shown beside the control that caused it: a role="alert" paragraph right after the
// control, tied to it with aria-describedby and aria-invalid, and the control focused, so a
// keyboard or screen-reader user lands on the problem and hears what it is.

import { h } from "../dom.js";

const errorIdOf = (control) => `${control.id}-error`;

const describedBy = (control) => (control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);

/**
 * Shows `message` beside `control` (which must have an id).
 * @param {HTMLElement} control
 * @param {string} message
 * @param {{focus?: boolean, after?: HTMLElement}} [options] `after`: the element to put it after
 *   (the control itself by default)
 */
export function showFieldError(control, message, { focus = true, after = control } = {}) {
  const id = errorIdOf(control);
  let el = document.getElementById(id);
  if (el === null) {
    el = h("p", { id, class: "field-error", role: "alert" });
    after.insertAdjacentElement("afterend", el);
  }
  el.textContent = message;
  control.setAttribute("aria-invalid", "true");
  const ids = describedBy(control);
  if (!ids.includes(id)) control.setAttribute("aria-describedby", [...ids, id].join(" "));
  if (focus) control.focus();
}

/** Shows `message` under the row of `button`, which is disabled while its request runs: it takes
 * the focus once the request has settled and it is enabled again. */
export function showButtonError(button, message) {
  showFieldError(button, message, { after: button.closest(".row") ?? button, focus: false });
  setTimeout(() => button.focus(), 0);
}

/** Takes the error beside `control` away (if any). */
export function clearFieldError(control) {
  const id = errorIdOf(control);
  const el = document.getElementById(id);
  if (el !== null) el.remove();
  control.removeAttribute("aria-invalid");
  const ids = describedBy(control).filter((x) => x !== id);
  if (ids.length > 0) control.setAttribute("aria-describedby", ids.join(" "));
  else control.removeAttribute("aria-describedby");
}

/** Clears the error beside `control` as soon as the person changes it. */
export function clearOnInput(control) {
  control.addEventListener("input", () => {
    if (control.getAttribute("aria-invalid") === "true") clearFieldError(control);
  });
}
