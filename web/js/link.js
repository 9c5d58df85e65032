// RFC 8288 `Link` header parsing, as the API pages its lists. Pure.

/**
 * Parses a Link header into `[{url, rels: [..], params: {..}}]`. Tolerates commas inside the
 * `<...>` URL and inside quoted parameter values, quoted or bare `rel`, several space-separated
 * relation types, any letter case in parameter names and relation types.
 * @param {string|null|undefined} header
 */
export function parseLinkHeader(header) {
  if (typeof header !== "string" || header.trim() === "") return [];
  const links = [];
  let i = 0;
  const n = header.length;
  while (i < n) {
    const open = header.indexOf("<", i);
    if (open === -1) break;
    const close = header.indexOf(">", open + 1);
    if (close === -1) break;
    const url = header.slice(open + 1, close).trim();
    i = close + 1;
    const params = {};
    // Parameters: `; name=value` or `; name="value"` until the comma that ends this link.
    for (;;) {
      while (i < n && (header[i] === " " || header[i] === "\t")) i++;
      if (i >= n || header[i] === ",") {
        i++;
        break;
      }
      if (header[i] !== ";") {
        // Junk: skip to the next link.
        const next = header.indexOf(",", i);
        i = next === -1 ? n : next + 1;
        break;
      }
      i++;
      while (i < n && (header[i] === " " || header[i] === "\t")) i++;
      let name = "";
      while (i < n && !"=;, \t".includes(header[i])) name += header[i++];
      while (i < n && (header[i] === " " || header[i] === "\t")) i++;
      let value = "";
      if (header[i] === "=") {
        i++;
        while (i < n && (header[i] === " " || header[i] === "\t")) i++;
        if (header[i] === '"') {
          i++;
          while (i < n && header[i] !== '"') {
            if (header[i] === "\\" && i + 1 < n) i++;
            value += header[i++];
          }
          i++;
        } else {
          while (i < n && !";, \t".includes(header[i])) value += header[i++];
        }
      }
      name = name.toLowerCase();
      if (name !== "" && !(name in params)) params[name] = value;
    }
    const rels = (params.rel ?? "").toLowerCase().split(/\s+/).filter(Boolean);
    links.push({ url, rels, params });
  }
  return links;
}

/** The URL of the first link with relation `rel` ("next"), or null. */
export function linkUrl(header, rel = "next") {
  const wanted = rel.toLowerCase();
  const link = parseLinkHeader(header).find((l) => l.rels.includes(wanted));
  return link ? link.url : null;
}
