// The pool's password rules under a password field, each ticked off as the password is typed
// (a visually hidden "(done)" says so to screen readers, which read the list as the field's
// description).

import { h } from "../dom.js";
import { PASSWORD_RULES } from "../password.js";

/** Fills a rules list (`[data-rules]` in `container`) and keeps it up to date with `input`. */
export function showPasswordRules(container, input) {
  const list = container.querySelector("[data-rules]");
  const items = PASSWORD_RULES.map((rule) => {
    const mark = h("span", { class: "mark", "aria-hidden": "true" });
    const state = h("span", { class: "visually-hidden" });
    const li = h("li", { dataset: { rule: rule.id } }, mark, rule.label, state);
    return { rule, li, mark, state };
  });
  list.replaceChildren(...items.map((x) => x.li));
  const check = () => {
    for (const { rule, li, mark, state } of items) {
      const met = rule.met(input.value);
      li.classList.toggle("met", met);
      mark.textContent = met ? "✓" : "•";
      state.textContent = met ? " (done)" : "";
    }
  };
  input.addEventListener("input", check);
  check();
  return check;
}
