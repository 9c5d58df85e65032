// Reads and checks the page's configuration, `window.NOTES_CONFIG` (defined by the generated
// config.js). Pure: the caller passes the raw value.

export const MISSING_CONFIG_MESSAGE =
  "This page has no configuration (config.js). Run `make dev`, or `make web-config` for a deployed stack.";

const REQUIRED = ["apiUrl", "region", "userPoolId", "clientId"];

const nonEmpty = (v) => typeof v === "string" && v.trim() !== "";

/**
 * @param {unknown} raw
 * @returns {{ok: true, config: {apiUrl: string, apiKey: string|null, region: string,
 *   userPoolId: string, clientId: string, cognitoEndpoint: string|null}} | {ok: false, missing: string[]}}
 */
export function readConfig(raw) {
  if (raw === null || typeof raw !== "object") return { ok: false, missing: [...REQUIRED] };
  const missing = REQUIRED.filter((k) => !nonEmpty(raw[k]));
  if (missing.length > 0) return { ok: false, missing };
  return {
    ok: true,
    config: Object.freeze({
      apiUrl: raw.apiUrl.trim().replace(/\/+$/, ""),
      apiKey: nonEmpty(raw.apiKey) ? raw.apiKey : null,
      region: raw.region.trim(),
      userPoolId: raw.userPoolId.trim(),
      clientId: raw.clientId.trim(),
      cognitoEndpoint: nonEmpty(raw.cognitoEndpoint) ? raw.cognitoEndpoint.trim() : null,
    }),
  };
}
