// Deleting the signed-in account: `DELETE /account` (the service deletes the notes, their audio
// and the user; posts stay, by "deleted user"), then this browser's drafts of that user, which the
// service never had. Pure: the API and the storage are handed in, so `node --test` runs it.

import { draftsKey } from "./drafts.js";

/** What the person must type to confirm: their username, exactly (spaces around it forgiven). */
export const confirmsDeletion = (typed, username) =>
  typeof username === "string" && username !== "" && String(typed ?? "").trim() === username;

/**
 * Deletes the account, then the drafts kept under `owner` (the storage key drafts.js uses). The
 * drafts go only once the service has deleted the account: a failed deletion loses nothing.
 * @param {{request(method: string, path: string, options?: object): Promise<unknown>}} api
 * @param {{removeItem(k: string): void}|null} storage
 * @param {string} owner the drafts' owner (the user's `sub`)
 */
export async function deleteAccount(api, storage, owner) {
  await api.request("DELETE", "/account", { resource: "account" });
  try {
    if (storage) storage.removeItem(draftsKey(owner));
  } catch {
    // A storage that refuses holds nothing of ours either.
  }
}
