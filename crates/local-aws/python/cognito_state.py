"""Local users that survive a restart of `make dev`: moto keeps its Cognito state in memory only,
so this module writes what a person would miss (the pools' users with their passwords, `sub`s,
attributes, status and groups, and the refresh tokens) to one JSON file
after every change, and puts it back when the dev kit creates the same pool again at the next
start (the dev kit creates the template's pool in a fresh moto at every start, by name).

Kept: the same password signs in after a restart, a user keeps their `sub` (which the data is
keyed by), and refresh tokens keep working, so a browser's session survives a restart. (The pool
and app client ids stay the same on their own: the dev kit runs moto with the HASH id
strategies, which derive them from the pool's and client's settings.)

Not kept: sign-in sessions in flight and access tokens for Cognito's own user APIs (a sign-in
started just before a restart starts again). Local only: the file holds passwords in clear, as
moto does in memory, and lives in the project's `.local/` directory, which git ignores.

The file is written whole to a temporary name and renamed, so a `make dev` killed mid-write
leaves the previous state, never half a file.
"""

import json
import os
import threading

from moto.cognitoidp.models import CognitoIdpGroup, CognitoIdpUser, UserStatus, cognitoidp_backends

FORMAT = 1


class Store:
    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._saved = self._load()
        # Pools (by name) restored or created in this run: their state is moto's from now on.
        self._live = set()

    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as state_file:
                state = json.load(state_file)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            # A broken file must not stop `make dev`; it is kept aside for a person to look at.
            aside = self.path + ".unreadable"
            os.replace(self.path, aside)
            print(f"cognito_state: {self.path} could not be read ({error}); moved to {aside}", flush=True)
            return {}
        if state.get("format") != FORMAT:
            return {}
        return state.get("pools", {})

    # --- restore, when the dev kit creates a pool or a client ---------------------------------

    def restore_pool(self, pool):
        with self._lock:
            self._live.add(pool.name)
            saved = self._saved.get(pool.name)
        if not saved:
            return
        for group in saved.get("groups", []):
            pool.groups[group["name"]] = CognitoIdpGroup(
                pool.id, group["name"], group.get("description", ""), group.get("role_arn"), group.get("precedence")
            )
        for entry in saved.get("users", []):
            user = CognitoIdpUser(pool.id, entry["username"], entry.get("password"), entry["status"], [])
            user.id = entry["sub"]
            user.update_attributes(entry.get("attributes", []))
            user.update_attributes([{"Name": "sub", "Value": entry["sub"]}])
            user.status = UserStatus[entry["status"]]
            user.enabled = entry.get("enabled", True)
            user.software_token_mfa_enabled = entry.get("software_token_mfa_enabled", False)
            user.token_verified = entry.get("token_verified", False)
            user.preferred_mfa_setting = entry.get("preferred_mfa_setting")
            # Two-factor (cognito_totp.py): without its secret a user with TOTP on could never
            # sign in again.
            user.totp_secret = entry.get("totp_secret")
            user.totp_pending_secret = entry.get("totp_pending_secret")
            user.totp_last_step = entry.get("totp_last_step")
            for name in entry.get("groups", []):
                group = pool.groups.get(name)
                if group is not None:
                    group.users.add(user)
                    user.groups.add(group)
            pool.users[user.username] = user
        for token, value in saved.get("refresh_tokens", {}).items():
            pool.refresh_tokens[token] = tuple(value) if value else None

    def forget_pool(self, name):
        with self._lock:
            self._saved.pop(name, None)
            self._live.discard(name)

    # --- save, after every change ---------------------------------------------------------------

    def save(self):
        with self._lock:
            pools = dict(self._saved)
            for backends in cognitoidp_backends.values():
                for region, backend in backends.items():
                    if region == "global":
                        continue
                    for pool in backend.user_pools.values():
                        if pool.name in self._live:
                            pools[pool.name] = _pool_state(pool)
            self._saved = pools
            text = json.dumps({"format": FORMAT, "pools": pools}, indent=1, sort_keys=True)
            directory = os.path.dirname(self.path) or "."
            os.makedirs(directory, exist_ok=True)
            temporary = f"{self.path}.{os.getpid()}.tmp"
            with open(temporary, "w", encoding="utf-8") as state_file:
                state_file.write(text)
            os.replace(temporary, self.path)


def _pool_state(pool):
    return {
        "id": pool.id,
        "groups": [
            {
                "name": group.group_name,
                "description": group.description,
                "role_arn": group.role_arn,
                "precedence": group.precedence,
            }
            for group in pool.groups.values()
        ],
        "users": [
            {
                "username": user.username,
                "sub": user.id,
                "password": user.password,
                "status": user.status.name if hasattr(user.status, "name") else str(user.status),
                "enabled": user.enabled,
                "attributes": [a for a in user.attributes if a["Name"] != "sub"],
                "groups": sorted(group.group_name for group in user.groups),
                "software_token_mfa_enabled": user.software_token_mfa_enabled,
                "token_verified": user.token_verified,
                "preferred_mfa_setting": user.preferred_mfa_setting,
                "totp_secret": getattr(user, "totp_secret", None),
                "totp_pending_secret": getattr(user, "totp_pending_secret", None),
                "totp_last_step": getattr(user, "totp_last_step", None),
            }
            for user in pool.users.values()
        ],
        "refresh_tokens": {token: list(value) if value else None for token, value in pool.refresh_tokens.items()},
    }
