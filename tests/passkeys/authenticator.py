"""A software authenticator for tests: soft-webauthn's ``SoftWebauthnDevice`` (real
P-256 keys, real CBOR, real signatures) speaking the JSON a browser's
``PublicKeyCredential.toJSON()`` sends, with knobs to break one rule at a time.

soft-webauthn sets only the UP flag; ``uv`` adds UV (WebAuthn L2 §6.1 flags), and every
assertion is signed again over the data actually sent, so only the knob under test is off.
"""

from __future__ import annotations

import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from hashlib import sha256
from struct import pack
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from soft_webauthn import SoftWebauthnDevice

UP, UV, AT = 0x01, 0x04, 0x40
ORIGIN = "https://testserver"
PASSKEYS = {"rp_id": "testserver", "origins": [ORIGIN], "rp_name": "Test RP"}


def b64(data: bytes) -> str:
    return urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _decoded(public_key: dict[str, Any]) -> dict[str, Any]:
    """Options JSON with the byte fields soft-webauthn expects as bytes."""
    options = json.loads(json.dumps(public_key))
    options["challenge"] = unb64(options["challenge"])
    if "user" in options:
        options["user"]["id"] = unb64(options["user"]["id"])
    return {"publicKey": options}


class Authenticator(SoftWebauthnDevice):  # type: ignore[misc]
    """One passkey; ``uv=False`` is an authenticator without PIN or biometric."""

    def __init__(self, *, uv: bool = True) -> None:
        super().__init__()
        self.uv = uv

    def register(
        self,
        public_key: dict[str, Any],
        origin: str,
        *,
        rp_id: str | None = None,
        ctype: str = "webauthn.create",
        uv: bool | None = None,
        transports: tuple[str, ...] = ("internal", "hybrid"),
    ) -> dict[str, Any]:
        """``navigator.credentials.create`` as JSON; ``rp_id`` forges the RP id hash."""
        options = _decoded(public_key)
        made = self.create(options, origin)
        attestation = cbor.decode(made["response"]["attestationObject"])
        data = bytearray(attestation["authData"])
        if rp_id is not None:
            data[:32] = sha256(rp_id.encode()).digest()
        data[32] = UP | AT | (UV if (self.uv if uv is None else uv) else 0)
        attestation["authData"] = bytes(data)
        client = json.loads(made["response"]["clientDataJSON"])
        client["type"] = ctype
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(json.dumps(client).encode()),
                "attestationObject": b64(cbor.encode(attestation)),
                "transports": list(transports),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        public_key: dict[str, Any],
        origin: str,
        *,
        rp_id: str | None = None,
        ctype: str = "webauthn.get",
        uv: bool | None = None,
        up: bool = True,
        count: int | None = None,
        challenge: bytes | None = None,
        user_handle: bytes | str | None = "own",
        tamper: bool = False,
    ) -> dict[str, Any]:
        """``navigator.credentials.get`` as JSON, signed over what it sends."""
        if count is None:
            self.sign_count += 1
            count = self.sign_count
        options = _decoded(public_key)["publicKey"]
        client = json.dumps(
            {"type": ctype, "challenge": b64(challenge or options["challenge"]), "origin": origin}
        ).encode()
        flags = (UP if up else 0) | (UV if (self.uv if uv is None else uv) else 0)
        auth = sha256((rp_id or self.rp_id).encode()).digest() + bytes([flags]) + pack(">I", count)
        signed = auth + sha256(client).digest()
        signature = self.private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        if tamper:
            signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
        handle = self.user_handle if user_handle == "own" else user_handle
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client),
                "authenticatorData": b64(auth),
                "signature": b64(signature),
                "userHandle": None if handle is None else b64(bytes(handle)),
            },
            "clientExtensionResults": {},
        }
