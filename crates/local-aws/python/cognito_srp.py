"""The server's half of Cognito's SRP sign-in (USER_SRP_AUTH), which moto 5.2.5 fakes: it answers
InitiateAuth with random numbers and the user's `sub` in USER_ID_FOR_SRP, then accepts any proof.

amazon-cognito-identity-js, the library of the labs' React client, signs in with this flow by
default: InitiateAuth(USER_SRP_AUTH, SRP_A) -> PASSWORD_VERIFIER challenge (SALT, SRP_B,
SECRET_BLOCK, USER_ID_FOR_SRP) -> RespondToAuthChallenge(USERNAME = USER_ID_FOR_SRP,
PASSWORD_CLAIM_SECRET_BLOCK, PASSWORD_CLAIM_SIGNATURE, TIMESTAMP). Here the server side is done as
Cognito does it (SRP-6a over the 3072-bit group of RFC 5054 with SHA-256, the key derived with
HKDF, info "Caldera Derived Key"), so a wrong password is refused and a right one accepted, and
USER_ID_FOR_SRP is what Cognito answers for the pool: the username, or the `sub` for a pool whose
users sign in with an email or phone number as their username (UsernameAttributes).

moto keeps passwords in clear, so the verifier v = g^x is computed at each sign-in from the
password rather than stored at sign-up; the arithmetic the client checks is the same.
"""

import base64
import hashlib
import hmac
import secrets
import threading
import time

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2
INFO = b"Caldera Derived Key"


def pad_hex(value):
    """Hex of a non-negative integer as the library pads it: even length, and a leading 00 when
    the first digit would set the sign bit (so the bytes read as a positive number)."""
    text = value if isinstance(value, str) else format(value, "x")
    if len(text) % 2 == 1:
        text = "0" + text
    elif text[0] in "89abcdefABCDEF":
        text = "00" + text
    return text


def hash_hex(hex_text):
    return hashlib.sha256(bytes.fromhex(hex_text)).hexdigest()


def _k():
    return int(hash_hex("00" + N_HEX + "0" + format(G, "x")), 16)


K = _k()


def _x(pool_name, user_id, password, salt_hex):
    inner = hashlib.sha256(f"{pool_name}{user_id}:{password}".encode()).hexdigest()
    # The library reads the salt as a number (leading zeros dropped), then pads it.
    return int(hash_hex(pad_hex(int(salt_hex, 16)) + inner), 16)


def _hkdf(ikm, salt):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, INFO + b"\x01", hashlib.sha256).digest()[:16]


def pool_name(pool_id):
    """The part of a pool id after the region: what the library mixes into x and the claim."""
    return pool_id.split("_", 1)[1]


class Challenges:
    """The PASSWORD_VERIFIER challenges in flight, keyed by their SECRET_BLOCK (moto keys its
    session by the same value, so the rest of moto's flow, MFA included, is unchanged)."""

    TTL_SECONDS = 180  # Cognito's session lasts three minutes.

    def __init__(self):
        self._lock = threading.Lock()
        self._pending = {}

    def begin(self, pool_id, user_id, password, srp_a_hex):
        """The challenge parameters for a client's SRP_A, or None for an SRP_A that is 0 mod N
        (which would make the shared secret predictable; Cognito refuses it)."""
        a_value = int(srp_a_hex, 16)
        if a_value % N == 0:
            return None
        salt_hex = secrets.token_hex(16)
        # No password (an unknown user, hidden as Cognito hides it): a verifier nobody can meet.
        secret_password = password if password is not None else secrets.token_hex(32)
        x = _x(pool_name(pool_id), user_id, secret_password, salt_hex)
        v = pow(G, x, N)
        b = secrets.randbits(1024)
        b_value = (K * v + pow(G, b, N)) % N
        u = int(hash_hex(pad_hex(a_value) + pad_hex(b_value)), 16)
        secret = pow(a_value * pow(v, u, N), b, N)
        key = _hkdf(bytes.fromhex(pad_hex(secret)), bytes.fromhex(pad_hex(u)))
        secret_block = base64.b64encode(secrets.token_bytes(64)).decode()
        with self._lock:
            self._expire()
            self._pending[secret_block] = {
                "key": key,
                "pool_name": pool_name(pool_id),
                "user_id": user_id,
                "known": password is not None,
                "created": time.monotonic(),
            }
        return {
            "SALT": salt_hex,
            "SRP_B": format(b_value, "x"),
            "SECRET_BLOCK": secret_block,
            "USER_ID_FOR_SRP": user_id,
        }

    def verify(self, secret_block, user_id, timestamp, signature):
        """Whether the client proved it knows the password: the HMAC of (pool name, user id,
        secret block, timestamp) with the shared key. A challenge answers once."""
        with self._lock:
            self._expire()
            pending = self._pending.pop(secret_block, None)
        if pending is None or pending["user_id"] != user_id or not pending["known"]:
            return False
        try:
            block = base64.b64decode(secret_block)
            claimed = base64.b64decode(signature, validate=True)
        except ValueError:
            return False
        message = pending["pool_name"].encode() + user_id.encode() + block + timestamp.encode()
        expected = hmac.new(pending["key"], message, hashlib.sha256).digest()
        return hmac.compare_digest(expected, claimed)

    def _expire(self):
        now = time.monotonic()
        for block in [b for b, p in self._pending.items() if now - p["created"] > self.TTL_SECONDS]:
            del self._pending[block]
