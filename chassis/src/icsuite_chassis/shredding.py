"""Crypto-shredding of the personal fields of events (issue 21): encrypt on the way out, decrypt on the way in.

The fields marked personal in the contracts (``icsuite_contracts.personal``) are encrypted one by one with
AES-256-GCM under the data key of the event's ``account_id`` (:mod:`.data_keys`). A sealed field holds one
string token in place of its value::

    ic-enc:1:<kind>:<base64url(nonce + ciphertext)>

``kind`` is ``s`` (text), ``l`` (list), ``m`` (map) or ``j`` (other JSON), so that a reader whose key was
erased can put the field's erased form in its place (``[erased]``, ``[]``, ``{}``, ``null``) and the event
still validates. The associated data binds the ciphertext to the account, the event type and the field, so
a token copied into another event or field does not decrypt. Events without an account travel as they are.

:func:`seal` and :func:`unseal` work on an event's JSON data (a dict), with a synchronous key lookup (the
:class:`~.data_keys.KeyRing` cache); :func:`encode_record` and :func:`decode_record` are the async
producer and consumer ends that fill that cache first.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from icsuite_contracts.base import Event
from icsuite_contracts.cloudevents import DecodeError, Envelope, KafkaRecord, from_kafka, to_kafka
from icsuite_contracts.cloudevents_wire import Headers
from icsuite_contracts.personal import ERASED, Path, account_of, personal_paths

from .data_keys import KeyNotLoaded, KeyRing

TOKEN_PREFIX = "ic-enc:1:"
NONCE_BYTES = 12
ERASED_FORMS: dict[str, Any] = {"s": ERASED, "l": [], "m": {}, "j": None}
KeyLookup = Callable[[str], "bytes | None"]
"""The data key of an account; None for an erased account; raises ``KeyNotLoaded`` when not at hand."""


def _kind(value: Any) -> str:
    return "s" if isinstance(value, str) else "l" if isinstance(value, list) else "m" if isinstance(value, dict) else "j"


def _aad(account_id: str, ce_type: str, path: Path) -> bytes:
    return "\x1f".join((account_id, ce_type, *path)).encode()


@lru_cache(maxsize=4096)
def _aead(key: bytes) -> AESGCM:
    return AESGCM(key)


def encrypt_value(key: bytes, value: Any, aad: bytes) -> str:
    """The token of ``value`` (any JSON value) under ``key``."""
    nonce = os.urandom(NONCE_BYTES)
    plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    sealed = nonce + _aead(key).encrypt(nonce, plain, aad)
    return f"{TOKEN_PREFIX}{_kind(value)}:{base64.urlsafe_b64encode(sealed).decode()}"


def decrypt_value(key: bytes | None, token: str, aad: bytes) -> Any:
    """The value of ``token``; its erased form when ``key`` is None (the account's key was erased)."""
    kind, _, payload = token[len(TOKEN_PREFIX):].partition(":")
    if kind not in ERASED_FORMS:
        raise DecodeError("invalid_model", f"unknown sealed kind {kind!r}")
    if key is None:
        return ERASED_FORMS[kind]
    try:
        sealed = base64.urlsafe_b64decode(payload)
        plain = _aead(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except (InvalidTag, binascii.Error, ValueError):
        raise DecodeError("invalid_model", "a sealed field does not decrypt with its account's key") from None
    return json.loads(plain)


def is_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


def _parent(data: dict[str, Any], path: Path) -> dict[str, Any] | None:
    current: Any = data
    for part in path[:-1]:
        current = current.get(part) if isinstance(current, dict) else None
    return current if isinstance(current, dict) else None


def seal(model: type[Event], data: dict[str, Any], lookup: KeyLookup) -> dict[str, Any]:
    """``data`` with its personal fields sealed under its account's key (erased forms if it was erased)."""
    paths = personal_paths(model)
    account = account_of(data) if paths else None
    if account is None:
        return data
    key = lookup(account)
    for path in paths:
        parent = _parent(data, path)
        if parent is None or parent.get(path[-1]) is None or parent[path[-1]] == ERASED:
            continue
        value = parent[path[-1]]
        parent[path[-1]] = (encrypt_value(key, value, _aad(account, model.ce_type, path)) if key is not None
                            else ERASED_FORMS[_kind(value)])
    return data


def unseal(model: type[Event], data: Any, lookup: KeyLookup) -> Any:
    """``data`` with its sealed fields opened (or in their erased form); anything else is left as it is."""
    paths = personal_paths(model)
    account = account_of(data) if paths else None
    if account is None:
        return data
    for path in paths:
        parent = _parent(data, path)
        if parent is not None and is_token(parent.get(path[-1])):
            parent[path[-1]] = decrypt_value(lookup(account), parent[path[-1]],
                                             _aad(account, model.ce_type, path))
    return data


def erase_sealed(model: type[Event], data: Any) -> Any:
    """A ``from_kafka(..., unseal=)`` hook for a reader without the key vault: every sealed field takes its
    erased form, so the event still validates (the desktop's live feed needs only ids, never the fields)."""
    return unseal(model, data, lambda _account: None)


async def open_data(headers: Headers | None, value: bytes | str | None, ring: KeyRing) -> Any:
    """The JSON data of a record as its producer wrote it, sealed fields opened (erased forms for an erased
    account); raises ``DecodeError`` like :func:`decode_record`. For readers that look at the raw data."""
    opened: list[Any] = []

    def keep(model: type[Event], data: Any) -> Any:
        opened.append(unseal(model, data, ring.cached))
        return opened[-1]

    await _decode_loading_keys(headers, value, ring, keep)
    return opened[-1]


async def _decode_loading_keys(headers: Headers | None, value: bytes | str | None, ring: KeyRing,
                               hook: Callable[[type[Event], Any], Any]) -> Envelope:
    for _ in range(3):
        try:
            return from_kafka(headers, value, unseal=hook)
        except KeyNotLoaded as missing:
            await ring.load(missing.account_id)
    return from_kafka(headers, value, unseal=hook)


async def encode_record(envelope: Envelope, ring: KeyRing | None) -> KafkaRecord:
    """The Kafka record of ``envelope``, its personal fields sealed when a key ring is given."""
    if ring is None or not personal_paths(type(envelope.data)):
        return to_kafka(envelope)
    account = getattr(envelope.data, "account_id", None)
    if isinstance(account, str) and account:
        await ring.writing_key(account)
    return to_kafka(envelope, seal=lambda model, data: seal(model, data, ring.cached))


async def decode_record(headers: Headers | None, value: bytes | str | None, ring: KeyRing | None) -> Envelope:
    """The envelope of a Kafka record, its sealed fields opened (or erased) with the key ring's keys."""
    if ring is None:
        return from_kafka(headers, value)
    return await _decode_loading_keys(headers, value, ring, lambda model, data: unseal(model, data, ring.cached))
