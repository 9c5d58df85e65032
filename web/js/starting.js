// While `make dev` starts the local backend, its web server answers config.js with
// `window.NOTES_BACKEND_STARTING = true` instead of a configuration. The page says so and polls
// config.js until the real configuration is served, then reloads itself: a page opened early
// needs no reload by hand. Never happens for a deployed page (its config.js is a file).

export const STARTING_MESSAGE =
  "The local backend is starting (make dev). This page loads by itself when it is ready.";

/** Whether a config.js body is still the dev server's "starting" answer. */
export function stillStarting(scriptText) {
  return scriptText.includes("NOTES_BACKEND_STARTING");
}

/**
 * Polls `url` every `intervalMs` until it serves a configuration, then calls `ready` once.
 * A failed request (the server restarting) is tried again. Returns a function that stops it.
 * @param {{fetch: typeof fetch, url: string, intervalMs: number, ready: () => void,
 *   schedule?: (fn: () => void, ms: number) => unknown, cancel?: (handle: unknown) => void}} options
 */
export function waitForConfiguration({ fetch, url, intervalMs, ready, schedule = setTimeout, cancel = clearTimeout }) {
  let handle = null;
  let stopped = false;
  const check = async () => {
    handle = null;
    try {
      const response = await fetch(url, { cache: "no-store" });
      if (!stopped && response.ok && !stillStarting(await response.text())) {
        stopped = true;
        ready();
        return;
      }
    } catch {
      // Not up yet (or restarting): try again.
    }
    if (!stopped) handle = schedule(check, intervalMs);
  };
  handle = schedule(check, intervalMs);
  return () => {
    stopped = true;
    if (handle !== null) cancel(handle);
  };
}
