"""The passkey ceremonies as test steps over a TestClient (``route_helpers.Env``), and
the post-signing edits the attack table uses to break one rule at a time."""

from __future__ import annotations

import json
from typing import Any

import httpx
from authenticator import ORIGIN, UP, Authenticator, b64, unb64
from fido2 import cbor
from route_helpers import Env, bearer

REGISTER_VERIFY = "/auth/passkeys/register/verify"
LOGIN_VERIFY = "/auth/passkeys/login/verify"


def register_options(env: Env, token: str) -> dict[str, Any]:
    r = env.client.post("/auth/passkeys/register/options", json={}, headers=bearer(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def register_verify(
    env: Env, token: str, challenge_id: str, credential: Any, name: str = "key"
) -> httpx.Response:
    body = {"challenge_id": challenge_id, "credential": credential, "name": name}
    return env.client.post(REGISTER_VERIFY, json=body, headers=bearer(token))


def add_passkey(env: Env, token: str, device: Authenticator, name: str = "laptop") -> str:
    """Register ``device`` for the caller of ``token``; its credential id."""
    options = register_options(env, token)
    credential = device.register(options["publicKey"], ORIGIN)
    r = register_verify(env, token, options["challenge_id"], credential, name)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def login_options(env: Env, username: str | None = None) -> dict[str, Any]:
    body = {} if username is None else {"username": username}
    r = env.client.post("/auth/passkeys/login/options", json=body)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    options: dict[str, Any] = r.json()
    return options


def login_verify(env: Env, challenge_id: str, credential: Any) -> httpx.Response:
    body = {"challenge_id": challenge_id, "credential": credential}
    return env.client.post(LOGIN_VERIFY, json=body)


def passkey_login(env: Env, device: Authenticator, username: str | None = None) -> httpx.Response:
    options = login_options(env, username)
    return login_verify(env, options["challenge_id"], device.get(options["publicKey"], ORIGIN))


def same_credential(device: Authenticator) -> Authenticator:
    """``device`` made to answer creation options with the credential it already holds
    (same id, same key) instead of minting a new one: a re-registration."""
    device.cred_init = lambda rp_id, user_handle: None
    return device


def edit_client_data(credential: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``credential`` with ``clientDataJSON`` members changed after it was signed."""
    response = credential["response"]
    client = json.loads(unb64(response["clientDataJSON"]))
    client.update(changes)
    response["clientDataJSON"] = b64(json.dumps(client).encode())
    return credential


def flip_auth_data(credential: dict[str, Any], index: int = -1) -> dict[str, Any]:
    """``credential`` with one bit of ``authenticatorData`` flipped after signing."""
    data = bytearray(unb64(credential["response"]["authenticatorData"]))
    data[index] ^= 0x01
    credential["response"]["authenticatorData"] = b64(bytes(data))
    return credential


def clear_up_flag(credential: dict[str, Any]) -> dict[str, Any]:
    """A registration whose authenticator data lacks User Present (``none`` attestation
    signs nothing, so only the flag check can catch it)."""
    attestation = cbor.decode(unb64(credential["response"]["attestationObject"]))
    data = bytearray(attestation["authData"])
    data[32] &= ~UP & 0xFF
    attestation["authData"] = bytes(data)
    credential["response"]["attestationObject"] = b64(cbor.encode(attestation))
    return credential
