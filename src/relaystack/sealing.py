"""Sealed blobs: opaque, tamper-evident values the server hands to clients and takes back.

Compaction items and stateless reasoning carry their content as ``encrypted_content``:
the client keeps it and sends it back on a later turn, possibly to another replica. A
blob is AES-256-GCM (authenticated encryption, from the maintained ``cryptography``
package) under the server's key, with a *purpose* bound in as associated data, so a
reasoning blob cannot be replayed as a compaction and a changed byte fails to open.

Every replica that shares the key opens every other's blobs; see ``server.sealing_key``
in the README for where the key comes from.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# A version prefix lets a later format (or key rotation) tell its blobs apart.
_PREFIX = "rs1."
_NONCE_BYTES = 12  # GCM's standard nonce; random per blob (2^-32 collision bound at 2^32 blobs)
KEY_BYTES = 32


class SealError(ValueError):
    """A blob that is not ours: malformed, altered, sealed for another purpose or key."""


class Sealer:
    """Seals and opens byte payloads under one 256-bit key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a sealing key is {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)

    @classmethod
    def from_secret(cls, secret: str) -> Sealer:
        """A key from configuration: any passphrase, stretched with HKDF-SHA256.

        HKDF (not a slow password hash) because the secret is an operator's random
        value, not a human password, and start-up should not pay for stretching."""
        if not secret:
            raise ValueError("the sealing secret is empty")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"relaystack")
        return cls(hkdf.derive(secret.encode()))

    @classmethod
    def random(cls) -> Sealer:
        return cls(secrets.token_bytes(KEY_BYTES))

    def seal(self, purpose: str, payload: bytes) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, payload, purpose.encode())
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def unseal(self, purpose: str, blob: str) -> bytes:
        if not isinstance(blob, str) or not blob.startswith(_PREFIX):
            raise SealError("not a blob this server made")
        try:
            raw = base64.urlsafe_b64decode(blob[len(_PREFIX) :].encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise SealError("not a blob this server made") from None
        if len(raw) <= _NONCE_BYTES:
            raise SealError("the blob is truncated")
        try:
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], purpose.encode())
        except InvalidTag:
            raise SealError("the blob was altered or sealed with another key") from None
