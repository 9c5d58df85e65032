"""moto's server (`moto_server`), with what the dev kit needs of Cognito that moto 5.2.5 lacks
or bends, done as Cognito does it:

- `RevokeToken` (sign-out) and `ResendConfirmationCode` ("Send a new code"), below;
- `ConfirmForgotPassword` ("Set new password" after "Forgot your password?") checks the new
  password against the pool's policy, as Cognito does (`InvalidPasswordException`); moto's own
  sets any password;
- USER_SRP_AUTH with real SRP (`cognito_srp.py`): the labs' React client signs in with it, and
  moto's own answers the `sub` for the username and accepts any password;
- TOTP two-factor (`cognito_totp.py`): AssociateSoftwareToken answers a secret of the user's
  own, VerifySoftwareToken and the SOFTWARE_TOKEN_MFA challenge check the code (RFC 6238, one
  step of drift either side), a wrong one is `EnableSoftwareTokenMFAException` or
  `CodeMismatchException`, a sign-in code used twice `ExpiredCodeException`; moto's own gives
  everyone one secret and accepts any code;
- users that survive a restart (`cognito_state.py`), when `NOTES_COGNITO_STATE` names the file
  to keep them in (`make dev` with its data kept on disk).

`amazon-cognito-identity-js` signs out with `CognitoUser.signOut(callback)`, which calls
Cognito's `RevokeToken` with the session's refresh token when the app client has token
revocation on (as template.yaml's has). moto answers that action with a 500 ("not implemented"),
so the dev kit runs moto through this file (`crates/local-aws/src/cognito_local.rs`) with the
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

`ForgotPassword`, `ChangePassword` and `GlobalSignOut` are moto's own and answer as Cognito
does for what the web client does with them: `ForgotPassword` says where the code went (masked)
and sends nothing (any code is accepted, as for sign-up); `ChangePassword` checks the current
password and the policy; `GlobalSignOut` ends every refresh and access token of the user.

`AdminDeleteUser` also leaves what CloudTrail would record of it: each successful call appends
one EventBridge "AWS API Call via CloudTrail" event (the username hidden, as CloudTrail hides it)
as a line of `cognito-deletions.jsonl` in moto's instance directory (`NOTES_DEVKIT_INSTANCE_DIR`),
which the dev kit delivers to the `purge` function (`crates/notes-dev/src/deletion_feed.rs`),
as EventBridge does in AWS. (moto has no `DeleteUser`, the user's own deletion.)

Everything else is moto as installed; the arguments are moto_server's (`-H HOST -p PORT`).
"""

import base64
import datetime
import json
import os
import sys
import uuid

import cognito_srp
import cognito_state
import cognito_totp

from moto.cognitoidp import responses
from moto.cognitoidp.exceptions import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    NotAuthorizedError,
    ResourceNotFoundError,
    UserNotFoundError,
)
from moto.cognitoidp.models import CognitoIdpBackend, UserStatus, cognitoidp_backends
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

_moto_confirm_forgot_password = CognitoIdpBackend.confirm_forgot_password


def confirm_forgot_password(self, client_id, username, password, confirmation_code):
    # The pool's policy first, as Cognito checks it before it looks at the code.
    for pool in self.user_pools.values():
        if client_id in pool.clients:
            self._validate_password(user_pool_id=pool.id, password=password)
            break
    return _moto_confirm_forgot_password(self, client_id, username, password, confirmation_code)


CognitoIdpBackend.confirm_forgot_password = confirm_forgot_password


# --- user deletions, recorded as CloudTrail records them ------------------------------------------

DELETIONS_FILE = os.path.join(os.environ.get("NOTES_DEVKIT_INSTANCE_DIR") or os.getcwd(), "cognito-deletions.jsonl")
_moto_admin_delete_user = CognitoIdpBackend.admin_delete_user


def admin_delete_user(self, user_pool_id, username):
    _moto_admin_delete_user(self, user_pool_id, username)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.cognito-idp",
        "account": self.account_id,
        "time": now,
        "region": self.region_name,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "eventTime": now,
            "eventSource": "cognito-idp.amazonaws.com",
            "eventName": "AdminDeleteUser",
            "awsRegion": self.region_name,
            "requestParameters": {"userPoolId": user_pool_id, "username": "HIDDEN_DUE_TO_SECURITY_REASONS"},
            "responseElements": None,
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "eventCategory": "Management",
        },
    }
    # One line per write, appended: the reader only ever takes complete lines.
    with open(DELETIONS_FILE, "a", encoding="utf-8") as deletions:
        deletions.write(json.dumps(record) + "\n")


CognitoIdpBackend.admin_delete_user = admin_delete_user


# --- USER_SRP_AUTH, checked -----------------------------------------------------------------------

CHALLENGES = cognito_srp.Challenges()
INCORRECT = "Incorrect username or password."
_moto_initiate_auth = CognitoIdpBackend.initiate_auth
_moto_respond_to_auth_challenge = CognitoIdpBackend.respond_to_auth_challenge


def _hides_unknown_users(backend, client_id):
    """Whether the app client has PreventUserExistenceErrors on (as template.yaml's has)."""
    for pool in backend.user_pools.values():
        client = pool.clients.get(client_id)
        if client is not None:
            return client.extended_config.get("PreventUserExistenceErrors") == "ENABLED", pool
    return False, None


def initiate_auth(self, client_id, auth_flow, auth_parameters):
    # moto's own checks first (client, user, enabled, confirmed, secret hash), then the challenge
    # it made up is replaced by a real one.
    try:
        result = _moto_initiate_auth(self, client_id, auth_flow, auth_parameters)
    except UserNotFoundError:
        hides, pool = _hides_unknown_users(self, client_id)
        if not hides:
            raise
        # PreventUserExistenceErrors: an unknown name looks like a wrong password. For SRP,
        # Cognito even answers a challenge, which no password can meet.
        if auth_flow != "USER_SRP_AUTH":
            raise NotAuthorizedError(INCORRECT)
        username = auth_parameters.get("USERNAME") or ""
        parameters = CHALLENGES.begin(pool.id, username, None, auth_parameters.get("SRP_A", "0"))
        if parameters is None:
            raise NotAuthorizedError(INCORRECT)
        self.sessions[parameters["SECRET_BLOCK"]] = (username, pool)
        parameters["USERNAME"] = username
        return {"ChallengeName": "PASSWORD_VERIFIER", "Session": parameters["SECRET_BLOCK"], "ChallengeParameters": parameters}
    if auth_flow != "USER_SRP_AUTH" or result.get("ChallengeName") != "PASSWORD_VERIFIER":
        return result
    moto_session = result["Session"]
    username, pool = self.sessions.pop(moto_session)
    user = pool._get_user(username)
    # Cognito names the user by username, but by `sub` where the username is an email or phone
    # number (UsernameAttributes): the id the client must mix into its proof.
    user_id = user.id if pool.extended_config.get("UsernameAttributes") else user.username
    parameters = CHALLENGES.begin(pool.id, user_id, user.password or "", auth_parameters.get("SRP_A", "0"))
    if parameters is None:
        raise NotAuthorizedError(INCORRECT)
    self.sessions[parameters["SECRET_BLOCK"]] = (user.username, pool)
    parameters["USERNAME"] = user.username
    return {
        "ChallengeName": "PASSWORD_VERIFIER",
        "Session": parameters["SECRET_BLOCK"],
        "ChallengeParameters": parameters,
    }


def respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses):
    if challenge_name == "PASSWORD_VERIFIER":
        block = challenge_responses.get("PASSWORD_CLAIM_SECRET_BLOCK") or ""
        proven = CHALLENGES.verify(
            block,
            challenge_responses.get("USERNAME") or "",
            challenge_responses.get("TIMESTAMP") or "",
            challenge_responses.get("PASSWORD_CLAIM_SIGNATURE") or "",
        )
        if not proven:
            # A failed proof ends the sign-in, as in Cognito: the client starts again.
            self.sessions.pop(block, None)
            raise NotAuthorizedError(INCORRECT)
    return _moto_respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses)


CognitoIdpBackend.initiate_auth = initiate_auth
CognitoIdpBackend.respond_to_auth_challenge = respond_to_auth_challenge


# --- TOTP two-factor, checked ----------------------------------------------------------------------


class EnableSoftwareTokenMFAException(JsonRESTError):
    def __init__(self, message):
        super().__init__("EnableSoftwareTokenMFAException", message)


def _user_of(backend, access_token, session):
    """The user an access token (or a sign-in session, for MFA_SETUP) is for, and its pool."""
    if session:
        if session not in backend.sessions:
            raise NotAuthorizedError("Invalid session for the user, session is expired.")
        username, pool = backend.sessions[session]
        return pool._get_user(username), pool
    for pool in backend.user_pools.values():
        entry = pool.access_tokens.get(access_token) if access_token else None
        if entry is not None:
            user = pool._get_user(entry[1])
            if user is not None:
                return user, pool
    raise NotAuthorizedError("Invalid Access Token")


def associate_software_token(self, access_token, session):
    user, _pool = _user_of(self, access_token, session)
    # A new secret each time, kept aside until a code of it is verified: the one in use (if any)
    # goes on working until then, as in Cognito.
    user.totp_pending_secret = cognito_totp.new_secret()
    answer = {"SecretCode": user.totp_pending_secret}
    if session:
        answer["Session"] = session
    return answer


def verify_software_token(self, access_token, session, user_code, friendly_device_name):
    user, pool = _user_of(self, access_token, session)
    if not cognito_totp.well_formed(user_code):
        raise InvalidParameterException("Invalid UserCode: six digits expected.")
    pending = getattr(user, "totp_pending_secret", None)
    if not pending:
        raise InvalidParameterException("Software token is not associated with the user.")
    if cognito_totp.matching_step(pending, user_code) is None:
        raise EnableSoftwareTokenMFAException("Code mismatch and fail enable Software Token MFA")
    user.totp_secret = pending
    user.totp_pending_secret = None
    user.token_verified = True
    answer = {"Status": "SUCCESS"}
    if session:
        del self.sessions[session]
        answer["Session"] = str(uuid.uuid4())
        self.sessions[answer["Session"]] = (user.username, pool)
    return answer


_moto_set_user_mfa_preference = CognitoIdpBackend.set_user_mfa_preference


def set_user_mfa_preference(self, access_token, software_token_mfa_settings, sms_mfa_settings):
    _user, pool = _user_of(self, access_token, None)
    # A pool whose MFA is OFF has no second factor to turn on. template.yaml's is OPTIONAL with
    # EnabledMfas [SOFTWARE_TOKEN_MFA]; EnabledMfas is CloudFormation's (no CreateUserPool member,
    # so the dev kit does not mirror it) and TOTP is the only factor this pool offers.
    if (software_token_mfa_settings or {}).get("Enabled") and pool.mfa_config == "OFF":
        raise InvalidParameterException("The user pool does not have MFA enabled.")
    return _moto_set_user_mfa_preference(self, access_token, software_token_mfa_settings, sms_mfa_settings)


_respond_with_srp = respond_to_auth_challenge


def respond_to_auth_challenge_with_totp(self, session, client_id, challenge_name, challenge_responses):
    if challenge_name == "SOFTWARE_TOKEN_MFA":
        if session not in self.sessions:
            raise NotAuthorizedError("Invalid session for the user, session is expired.")
        username, pool = self.sessions[session]
        user = pool._get_user(username)
        named = pool._get_user(challenge_responses.get("USERNAME") or "")
        if user is None or named is None or named.username != user.username:
            raise NotAuthorizedError("Invalid session for the user.")
        code = challenge_responses.get("SOFTWARE_TOKEN_MFA_CODE")
        if not cognito_totp.well_formed(code):
            raise InvalidParameterException("Invalid SOFTWARE_TOKEN_MFA_CODE: six digits expected.")
        step = cognito_totp.matching_step(getattr(user, "totp_secret", None), code)
        if step is None:
            # The session stays: the person may type the code again, as with Cognito.
            raise CodeMismatchException("Invalid code received for user")
        if step <= (getattr(user, "totp_last_step", None) or -1):
            raise ExpiredCodeException("Your software token has already been used once.")
        user.totp_last_step = step
        # moto's own check of the code is off (MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP unset): it
        # would test its one shared secret.
    return _respond_with_srp(self, session, client_id, challenge_name, challenge_responses)


CognitoIdpBackend.associate_software_token = associate_software_token
CognitoIdpBackend.verify_software_token = verify_software_token
CognitoIdpBackend.set_user_mfa_preference = set_user_mfa_preference
CognitoIdpBackend.respond_to_auth_challenge = respond_to_auth_challenge_with_totp


# --- users kept across restarts ----------------------------------------------------------------------

STATE_FILE = os.environ.get("NOTES_COGNITO_STATE")
if STATE_FILE:
    STORE = cognito_state.Store(STATE_FILE)
    _moto_create_user_pool = CognitoIdpBackend.create_user_pool
    _moto_delete_user_pool = CognitoIdpBackend.delete_user_pool
    _moto_call_action = responses.CognitoIdpResponse.call_action

    def create_user_pool(self, name, extended_config):
        pool = _moto_create_user_pool(self, name, extended_config)
        STORE.restore_pool(pool)
        return pool

    def delete_user_pool(self, user_pool_id):
        name = self.describe_user_pool(user_pool_id).name
        _moto_delete_user_pool(self, user_pool_id)
        STORE.forget_pool(name)

    def call_action(self):
        answer = _moto_call_action(self)
        # Reads change nothing worth keeping; everything else is saved once it has succeeded.
        action = self._get_action()
        if not action.startswith(("Describe", "List", "Get")) and answer[0] < 400:
            STORE.save()
        return answer

    CognitoIdpBackend.create_user_pool = create_user_pool
    CognitoIdpBackend.delete_user_pool = delete_user_pool
    responses.CognitoIdpResponse.call_action = call_action

if __name__ == "__main__":
    sys.exit(main())
