"""The server's half of Cognito's TOTP two-factor, which moto 5.2.5 fakes: it hands every user the
same secret ("asdfasdfasdf", not even 80 bits), accepts any code unless an environment variable
says otherwise, and then checks only the current 30-second step.

Done here as Cognito does it (RFC 6238 over RFC 4226: HMAC-SHA1, six digits, a 30-second step,
one step either side accepted for clock drift), with a secret of each user's own:
AssociateSoftwareToken answers a fresh 256-bit secret in base32 (the 52 characters an
authenticator app takes, or reads from an `otpauth://` QR code), VerifySoftwareToken checks a code
of it before it becomes the user's, and a code answering the sign-in challenge is refused if its
step was already used (Cognito: "Your software token has already been used once").
"""

import base64
import hashlib
import hmac
import secrets
import struct
import time

STEP_SECONDS = 30
DIGITS = 6
WINDOW_STEPS = 1


def new_secret():
    """A fresh secret as Cognito's SecretCode: 32 random bytes in base32, without padding."""
    return base64.b32encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")


def _key(secret):
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def code_at(secret, counter):
    """The six-digit code of `secret` for time step `counter` (RFC 4226's dynamic truncation)."""
    digest = hmac.new(_key(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def well_formed(code):
    """Six ASCII digits: what Cognito's UserCode and SOFTWARE_TOKEN_MFA_CODE accept."""
    return isinstance(code, str) and len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret, code, now=None):
    """The time step (`now`, one before or one after) whose code `code` is, or None."""
    if not secret or not well_formed(code):
        return None
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for counter in range(current - WINDOW_STEPS, current + WINDOW_STEPS + 1):
        if hmac.compare_digest(code_at(secret, counter), code):
            return counter
    return None
