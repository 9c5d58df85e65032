import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { confirmsDeletion, deleteAccount } from "../../web/js/delete-account.js";
import { createDrafts, draftsKey } from "../../web/js/drafts.js";

function memoryStorage() {
  const data = new Map();
  return {
    data,
    getItem: (k) => (data.has(k) ? data.get(k) : null),
    setItem: (k, v) => data.set(k, String(v)),
    removeItem: (k) => data.delete(k),
  };
}

describe("the confirmation", () => {
  test("is the username exactly, spaces around it forgiven", () => {
    const cases = [
      ["alice", "alice", true, "the username"],
      ["  alice ", "alice", true, "spaces around it"],
      ["Alice", "alice", false, "usernames are case-sensitive here"],
      ["", "alice", false, "nothing typed"],
      ["alice", "", false, "no username to compare with"],
      [undefined, "alice", false, "no field value"],
    ];
    for (const [typed, username, expected, why] of cases) {
      assert.equal(confirmsDeletion(typed, username), expected, why);
    }
  });
});

describe("deleting the account", () => {
  test("calls DELETE /account, then forgets this user's drafts and only theirs", async () => {
    const storage = memoryStorage();
    createDrafts(storage, "sub-a").setNote("half a thought");
    createDrafts(storage, "sub-b").setNote("someone else's");
    const calls = [];
    const api = { request: async (...args) => calls.push(args) };
    await deleteAccount(api, storage, "sub-a");
    assert.deepEqual(calls, [["DELETE", "/account", { resource: "account" }]]);
    assert.equal(storage.getItem(draftsKey("sub-a")), null);
    assert.notEqual(storage.getItem(draftsKey("sub-b")), null);
  });

  test("keeps the drafts when the service did not delete the account", async () => {
    const storage = memoryStorage();
    createDrafts(storage, "sub-a").setNote("half a thought");
    const api = {
      request: async () => {
        throw Object.assign(new Error("The service is unavailable. Try again."), { kind: "unavailable" });
      },
    };
    await assert.rejects(deleteAccount(api, storage, "sub-a"), /unavailable/);
    assert.notEqual(storage.getItem(draftsKey("sub-a")), null);
  });

  test("a storage that refuses does not make a deleted account look undeleted", async () => {
    const refusing = { removeItem: () => { throw new Error("SecurityError"); } };
    await deleteAccount({ request: async () => ({}) }, refusing, "sub-a");
    await deleteAccount({ request: async () => ({}) }, null, "sub-a");
  });
});
