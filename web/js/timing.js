// When to refresh the ID token. Pure.

/**
 * Milliseconds until the token should be refreshed: `marginSeconds` before its `exp`, on the
 * service's clock (the library's clock drift = local clock − service clock, in seconds).
 * Never negative: an overdue refresh is due now.
 * @param {number} expSeconds the token's `exp` (seconds since 1970, service clock)
 * @param {number} nowMs the local `Date.now()`
 * @param {number} clockDriftSeconds `session.getClockDrift()`
 * @param {number} [marginSeconds]
 */
export function refreshDelayMs(expSeconds, nowMs, clockDriftSeconds, marginSeconds = 60) {
  const drift = Number.isFinite(clockDriftSeconds) ? clockDriftSeconds : 0;
  const serviceNowMs = nowMs - drift * 1000;
  const dueMs = (expSeconds - marginSeconds) * 1000;
  return Math.max(0, Math.round(dueMs - serviceNowMs));
}

/** True when the token expires within `marginSeconds` (on the service's clock). */
export function expiresSoon(expSeconds, nowMs, clockDriftSeconds, marginSeconds = 30) {
  return refreshDelayMs(expSeconds, nowMs, clockDriftSeconds, marginSeconds) === 0;
}
