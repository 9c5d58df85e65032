"""moto's server (`moto_server`), plus the two Cognito operations the web client calls that
moto 5.2.5 lacks: `RevokeToken` (sign-out) and `ResendConfirmationCode` ("Send a new code").

`amazon-cognito-identity-js` signs out with `CognitoUser.signOut(callback)`, which calls
Cognito's `RevokeToken` with the session's refresh token when the app client has token
revocation on (as template.yaml's has). moto answers that action with a 500 ("not implemented"),
so the dev kit runs moto through this file (`crates/notes-devkit/src/cognito_local.rs`) with the
action added, as Cognito documents it:

- the refresh token of this app client is revoked: `REFRESH_TOKEN_AUTH` with it then fails with
  `NotAuthorizedException` ("Refresh Token has been revoked"), moto's own answer for a revoked
  token, and the access tokens issued from it stop working for Cognito's user APIs (`GetUser`);
- a refresh token of another app client is an `UnauthorizedException`; a missing token or client
  id is an `InvalidParameterException`; an unknown (or already revoked) token succeeds, as
  revoking it again changes nothing.

`ResendConfirmationCode` answers as Cognito does for an unconfirmed user: where the code went,
masked (`s***@e***`), by email; nothing is sent (moto accepts any code anyway). A confirmed user is
an `InvalidParameterException`, an unknown one a `UserNotFoundException`, an unknown app client a
`ResourceNotFoundException`.

moto answers an operation it lacks with a 500 HTML page and no CORS headers, which a browser
reports as a network failure: hence these two, where the web client meets them.

Everything else is moto as installed; the arguments are moto_server's (`-H HOST -p PORT`).
"""

import base64
import json
import sys

from moto.cognitoidp import responses
from moto.cognitoidp.exceptions import (
    InvalidParameterException,
    ResourceNotFoundError,
    UserNotFoundError,
)
from moto.cognitoidp.models import UserStatus, cognitoidp_backends
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, EmptyResult
from moto.server import main


class UnauthorizedException(JsonRESTError):
    def __init__(self, message):
        super().__init__("UnauthorizedException", message)


def _origin_jti(token):
    """The `origin_jti` claim of a moto access token (no signature check: moto issued it)."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return json.loads(base64.urlsafe_b64decode(payload)).get("origin_jti")
    except (IndexError, ValueError):
        return None


def revoke_token(self):
    token = self._get_param("Token")
    client_id = self._get_param("ClientId")
    if not token or not client_id:
        raise InvalidParameterException("Token and ClientId are required.")
    for pool in cognitoidp_backends[self.current_account][self.region].user_pools.values():
        entry = pool.refresh_tokens.get(token)
        if entry is None:
            continue
        issued_to, _username, origin_jti = entry
        if issued_to != client_id:
            raise UnauthorizedException("Client is not authorized to revoke this token.")
        pool.refresh_tokens[token] = None
        for access_token in list(pool.access_tokens):
            if _origin_jti(access_token) == origin_jti:
                pool.access_tokens.pop(access_token, None)
    return EmptyResult()


def _masked(email):
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain[:1]}***" if domain else "***"


def resend_confirmation_code(self):
    client_id = self._get_param("ClientId")
    username = self._get_param("Username")
    if not client_id or not username:
        raise InvalidParameterException("ClientId and Username are required.")
    # Unauthenticated, like sign-up: the app client names the pool, in whatever account/region.
    for account_backends in cognitoidp_backends.values():
        for region, backend in account_backends.items():
            if region == "global":
                continue
            for pool in backend.user_pools.values():
                if client_id not in pool.clients:
                    continue
                user = pool._get_user(username)
                if user is None:
                    raise UserNotFoundError("Username/client id combination not found.")
                if user.status == UserStatus["CONFIRMED"]:
                    raise InvalidParameterException("User is already confirmed.")
                email = next((a["Value"] for a in user.attributes if a["Name"] == "email"), "")
                return ActionResult(
                    {
                        "CodeDeliveryDetails": {
                            "Destination": _masked(email),
                            "DeliveryMedium": "EMAIL",
                            "AttributeName": "email",
                        }
                    }
                )
    raise ResourceNotFoundError(client_id)


responses.CognitoIdpResponse.revoke_token = revoke_token
responses.CognitoIdpResponse.resend_confirmation_code = resend_confirmation_code

if __name__ == "__main__":
    sys.exit(main())
