import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { MISSING_CONFIG_MESSAGE, readConfig } from "../../web/js/config.js";

const full = {
  apiUrl: "http://127.0.0.1:4000",
  apiKey: "",
  region: "us-east-1",
  userPoolId: "us-east-1_abc",
  clientId: "client",
  cognitoEndpoint: "http://127.0.0.1:9229",
};

describe("readConfig", () => {
  const missing = [
    { raw: undefined, why: "no config.js at all" },
    { raw: null, why: "null" },
    { raw: "http://x", why: "not an object" },
    { raw: { ...full, apiUrl: "" }, why: "an empty apiUrl" },
    { raw: { ...full, userPoolId: undefined }, why: "no userPoolId" },
    { raw: { ...full, clientId: 7 }, why: "a clientId that is not a string" },
    { raw: { ...full, region: "  " }, why: "a blank region" },
  ];
  for (const c of missing) {
    test(`incomplete: ${c.why}`, () => assert.equal(readConfig(c.raw).ok, false, c.why));
  }
  test("names what is missing", () => {
    assert.deepEqual(readConfig({ ...full, apiUrl: "", clientId: "" }).missing, ["apiUrl", "clientId"]);
  });

  const complete = [
    { raw: full, key: "apiUrl", want: "http://127.0.0.1:4000", why: "kept as given" },
    { raw: { ...full, apiUrl: "https://x.execute-api.us-east-1.amazonaws.com/Prod/" }, key: "apiUrl", want: "https://x.execute-api.us-east-1.amazonaws.com/Prod", why: "a trailing slash stripped" },
    { raw: full, key: "apiKey", want: null, why: "an empty apiKey is none (no x-api-key)" },
    { raw: { ...full, apiKey: "k123" }, key: "apiKey", want: "k123", why: "an apiKey kept" },
    { raw: { ...full, apiKey: 5 }, key: "apiKey", want: null, why: "a non-string apiKey is none" },
    { raw: { ...full, cognitoEndpoint: null }, key: "cognitoEndpoint", want: null, why: "AWS: no endpoint" },
    { raw: { ...full, cognitoEndpoint: undefined }, key: "cognitoEndpoint", want: null, why: "AWS: endpoint absent" },
    { raw: full, key: "cognitoEndpoint", want: "http://127.0.0.1:9229", why: "the local pool" },
  ];
  for (const c of complete) {
    test(`complete: ${c.why}`, () => {
      const found = readConfig(c.raw);
      assert.equal(found.ok, true);
      assert.equal(found.config[c.key], c.want, c.why);
    });
  }

  test("the message for a page without configuration", () => {
    assert.equal(
      MISSING_CONFIG_MESSAGE,
      "This page has no configuration (config.js). Run `make dev`, or `make web-config` for a deployed stack.",
    );
  });
});
