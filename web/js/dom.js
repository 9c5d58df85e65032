// A tiny element builder. Text goes in as text (textContent / text nodes), never as HTML.

/**
 * h("button", {type: "button", onclick: fn}, "Edit")
 * Props: `text` sets textContent; `on<event>` adds a listener; `dataset` sets data-*; booleans
 * (hidden, disabled, required…) set or omit the attribute; anything else is an attribute.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") el.textContent = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "value") el.value = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let ids = 0;
/** A page-unique id, for label/aria-labelledby pairs. */
export const uid = (prefix) => `${prefix}-${++ids}`;

/** Submits `form` on Ctrl+Enter / Cmd+Enter inside its textareas. */
export function submitOnCtrlEnter(form) {
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target instanceof HTMLTextAreaElement) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}
