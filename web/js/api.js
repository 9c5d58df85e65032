// The notes API over fetch: headers (Bearer ID token, x-api-key, JSON), one refresh and one retry
// on a 401, every failure as an ApiError, pages through the `Link` header.
// Imports nothing browser-only: `fetch` and the session are handed in, so tests can fake them.

import { ApiError, errorFromStatus, isNetworkFailure, networkError } from "./errors.js";
import { linkUrl } from "./link.js";

export { parseLinkHeader, linkUrl } from "./link.js";

/**
 * @param {{
 *   baseUrl: string,
 *   apiKey?: string|null,
 *   auth: {token(): Promise<string>, refresh(): Promise<string>},
 *   fetch: typeof fetch,
 *   onSessionEnded?: (err: ApiError) => void,
 * }} options
 */
export function createApi({ baseUrl, apiKey = null, auth, fetch: fetchImpl, onSessionEnded = () => {} }) {
  const base = String(baseUrl).replace(/\/+$/, "");

  const sessionEnded = (cause) => {
    const err = errorFromStatus(401);
    if (cause !== undefined) err.cause = cause;
    onSessionEnded(err);
    return err;
  };

  // A token, or the reason there is none: a network failure stays one; anything else means the
  // session is gone.
  const tokenFrom = async (get) => {
    try {
      const token = await get();
      if (typeof token !== "string" || token === "") throw new Error("no token");
      return token;
    } catch (err) {
      if (err instanceof ApiError && err.kind === "network") throw err;
      throw sessionEnded(err);
    }
  };

  const send = async (method, url, token, body, extraHeaders, signal) => {
    const headers = { Accept: "application/json", Authorization: `Bearer ${token}`, ...extraHeaders };
    if (typeof apiKey === "string" && apiKey !== "") headers["x-api-key"] = apiKey;
    const init = { method, headers, signal, credentials: "omit", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    try {
      return await fetchImpl(url, init);
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      if (isNetworkFailure(err)) throw networkError(err);
      throw err;
    }
  };

  /**
   * @param {string} method
   * @param {string} pathOrUrl a path under the base URL ("/notes?limit=20"), or an absolute URL
   *   (a `Link` target, followed exactly as given)
   * @param {{body?: unknown, headers?: Record<string,string>, resource?: string, signal?: AbortSignal}} [options]
   * @returns {Promise<{status: number, data: any, etag: string|null, next: string|null, headers: Headers}>}
   */
  async function request(method, pathOrUrl, options = {}) {
    const { body, headers = {}, resource, signal } = options;
    const url = /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : `${base}${pathOrUrl}`;
    // A `Link` is followed as given, but only to the API's own origin: the token goes nowhere else.
    if (new URL(url).origin !== new URL(base).origin) throw errorFromStatus(502);
    let response = await send(method, url, await tokenFrom(auth.token), body, headers, signal);
    if (response.status === 401) {
      // The token may have just expired: refresh once, retry once.
      const fresh = await tokenFrom(auth.refresh);
      response = await send(method, url, fresh, body, headers, signal);
      if (response.status === 401) throw sessionEnded();
    }
    const text = response.status === 204 ? "" : await response.text().catch(() => "");
    let data = null;
    let parsed = true;
    if (text !== "") {
      try {
        data = JSON.parse(text);
      } catch {
        parsed = false;
      }
    }
    if (!response.ok) {
      const serverMessage = data && typeof data === "object" ? data.message : undefined;
      throw errorFromStatus(response.status, {
        resource,
        serverMessage,
        retryAfter: response.headers.get("Retry-After"),
      });
    }
    if (!parsed) throw errorFromStatus(502);
    return {
      status: response.status,
      data,
      etag: response.headers.get("ETag"),
      next: linkUrl(response.headers.get("Link"), "next"),
      headers: response.headers,
    };
  }

  return { request };
}

/** `"3"` (an If-Match value) for a note: its ETag when we have one, else its Version. */
export function ifMatchFor(note, etag = null) {
  if (typeof etag === "string" && etag !== "") return etag;
  if (note && note.Version !== undefined && note.Version !== null) return `"${note.Version}"`;
  return null;
}
