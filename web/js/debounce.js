// Debounce: run `fn` once, `waitMs` after the last call. Pure (timers are injectable for tests).

/**
 * @param {(...args: any[]) => void} fn
 * @param {number} waitMs
 * @param {{setTimeout?: Function, clearTimeout?: Function}} [timers]
 * @returns {((...args: any[]) => void) & {cancel(): void, flush(): void}}
 */
export function debounce(fn, waitMs, timers = globalThis) {
  const set = timers.setTimeout.bind(timers);
  const clear = timers.clearTimeout.bind(timers);
  let handle = null;
  let pending = null;
  const run = () => {
    handle = null;
    const args = pending;
    pending = null;
    fn(...args);
  };
  const debounced = (...args) => {
    pending = args;
    if (handle !== null) clear(handle);
    handle = set(run, waitMs);
  };
  debounced.cancel = () => {
    if (handle !== null) clear(handle);
    handle = null;
    pending = null;
  };
  debounced.flush = () => {
    if (handle === null) return;
    clear(handle);
    run();
  };
  return debounced;
}

/** Hands out increasing tickets; only the latest one is current. For ignoring stale responses:
 * take a ticket before a request, and drop its answer unless `isCurrent(ticket)` afterwards. */
export function latestOnly() {
  let latest = 0;
  return {
    next: () => ++latest,
    isCurrent: (ticket) => ticket === latest,
  };
}
