"""Per-account data keys for crypto-shredding, kept in the suite's key vault (issue 21).

One key per account: 32 random bytes (AES-256-GCM), stored wrapped (encrypted with AES-GCM under the
suite's master key, which only the settings hold) in the key vault collection ``data_keys``, one
document per account (``_id`` = account id), changed only through the store. Erasing an account leaves a
tombstone (``erased: true``, no key) that is never replaced, so an event produced after the erasure
carries its personal fields erased instead of under a new key.

The vault belongs to no service: it is the suite's key service, like a KMS, reached only through this
module. Every service's producer finds or creates the key before it encrypts (so a reader never meets a
key that does not exist yet), every reader finds it by account, and an erasure tombstones it once for all
readers. Keys read are cached for ``ttl_s`` seconds (so a replica that did not run the erasure stops
decrypting within that time); an erasure run in the process drops its cache entry at once.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pymongo.asynchronous.database import AsyncDatabase

from .store import AggregateStore, Change, Item, MongoAggregateStore, Stored

DATA_KEYS = "data_keys"
"""The key vault collection."""
KEY_BYTES = 32
NONCE_BYTES = 12
_WRAP_AAD = b"icsuite data key:"


@dataclass(frozen=True)
class DataKeyRecord:
    account_id: str
    wrapped: bytes | None  # None once erased
    erased: bool = False


class DataKeyCodec:
    def encode(self, state: DataKeyRecord) -> dict[str, Any]:
        return {"account_id": state.account_id, "wrapped": state.wrapped, "erased": state.erased}

    def decode(self, doc: Mapping[str, Any]) -> DataKeyRecord:
        wrapped = doc.get("wrapped")
        return DataKeyRecord(doc["account_id"], bytes(wrapped) if wrapped is not None else None,
                             bool(doc.get("erased")))


class MasterKey:
    """Wraps and unwraps data keys; bound to the account so a wrapped key cannot be moved to another."""

    def __init__(self, secret: bytes):
        if len(secret) != KEY_BYTES:
            raise ValueError(f"the master key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(secret)

    def wrap(self, account_id: str, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, key, _WRAP_AAD + account_id.encode())

    def unwrap(self, account_id: str, wrapped: bytes) -> bytes:
        return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _WRAP_AAD + account_id.encode())


def decide_create(current: Stored[DataKeyRecord] | None, account_id: str,
                  wrapped: bytes) -> Change[DataKeyRecord] | None:
    """A new account gets the key; an account that has one (or a tombstone) keeps it."""
    return None if current is not None else Change(DataKeyRecord(account_id, wrapped))


def decide_erase(current: Stored[DataKeyRecord] | None, account_id: str) -> Change[DataKeyRecord] | None:
    """Tombstone the account's key (also for an account that never had one: no key may follow)."""
    if current is not None and current.state.erased:
        return None
    return Change(DataKeyRecord(account_id, None, erased=True))


class KeyRing:
    """Finds, creates and erases the data keys of accounts; a bounded cache in front of the vault.

    ``cached(account_id)`` answers synchronously what the cache holds: the key, ``None`` for an erased
    account, or raises :class:`KeyNotLoaded`; ``await load(account_id)`` fills the cache.
    """

    def __init__(self, vault: AggregateStore[DataKeyRecord], master: MasterKey, *, ttl_s: float = 30.0,
                 capacity: int = 100_000, monotonic: Callable[[], float] = time.monotonic):
        self._vault = vault
        self._master = master
        self._ttl_s = ttl_s
        self._capacity = capacity
        self._now = monotonic
        self._cache: OrderedDict[str, tuple[float, bytes | None]] = OrderedDict()

    def cached(self, account_id: str) -> bytes | None:
        entry = self._cache.get(account_id)
        if entry is None or self._now() - entry[0] > self._ttl_s:
            raise KeyNotLoaded(account_id)
        return entry[1]

    async def load(self, account_id: str) -> bytes | None:
        """The account's key from the vault; None when it was erased or never had one."""
        key = self._key_of(account_id, await self._vault.get(account_id))
        self._remember(account_id, key)
        return key

    async def writing_key(self, account_id: str) -> bytes | None:
        """The key to encrypt with, created on first use; None for an erased account (write erased).

        A key in the cache is used as it is; otherwise one store change finds or creates it: one read for
        an account that has a key or a tombstone, a read and a write for a new one (the key that won, if
        another writer created one meanwhile: the store decides again on its document). The answer is
        cached like a loaded key."""
        try:
            key = self.cached(account_id)
        except KeyNotLoaded:
            key = None
        if key is not None:
            return key
        return (await self.writing_keys([account_id]))[account_id]

    async def writing_keys(self, account_ids: Iterable[str]) -> dict[str, bytes | None]:
        """:meth:`writing_key` of several accounts; those not cached are found or created in one store
        change (one read of the vault, one write of the new keys)."""
        wanted = list(dict.fromkeys(account_ids))
        keys: dict[str, bytes | None] = {}
        missing = []
        for account_id in wanted:
            try:
                keys[account_id] = self.cached(account_id)
            except KeyNotLoaded:
                keys[account_id] = None
            if keys[account_id] is None:  # not cached, or cached as erased / without a key: ask the vault
                missing.append(account_id)
        if missing:
            items = [Item(account_id, _creating(account_id, self._master)) for account_id in missing]
            for account_id, outcome in zip(missing, await self._vault.change_many(items), strict=True):
                keys[account_id] = self._key_of(account_id, outcome.stored)
                self._remember(account_id, keys[account_id])
        return keys

    def _key_of(self, account_id: str, stored: Stored[DataKeyRecord] | None) -> bytes | None:
        if stored is None or stored.state.erased or stored.state.wrapped is None:
            return None
        return self._master.unwrap(account_id, stored.state.wrapped)

    async def erase(self, account_id: str) -> bool:
        """Tombstone the account's key; True if this call erased it (False: it was erased already)."""
        outcome = await self._vault.change(account_id, lambda current: decide_erase(current, account_id))
        self._remember(account_id, None)
        return outcome.changed

    def _remember(self, account_id: str, key: bytes | None) -> None:
        self._cache[account_id] = (self._now(), key)
        self._cache.move_to_end(account_id)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)


def _creating(account_id: str, master: MasterKey) -> Callable[[Stored[DataKeyRecord] | None],
                                                              Change[DataKeyRecord] | None]:
    """The decision that creates the account's key if it has none (the key made only when needed)."""
    def decide(current: Stored[DataKeyRecord] | None) -> Change[DataKeyRecord] | None:
        if current is not None:
            return None
        return decide_create(None, account_id,
                             master.wrap(account_id, AESGCM.generate_key(bit_length=KEY_BYTES * 8)))
    return decide


def vault_key_ring(vault_db: AsyncDatabase[dict[str, Any]], master_secret: str) -> KeyRing:
    """The key ring on the key vault database (``IC_KEY_VAULT_DATABASE``), its master key derived from
    ``IC_DATA_KEY_MASTER`` (SHA-256 of the secret)."""
    master = MasterKey(hashlib.sha256(master_secret.encode()).digest())
    return KeyRing(MongoAggregateStore(vault_db, DATA_KEYS, DataKeyCodec()), master)


class KeyNotLoaded(Exception):
    """The cache does not (or no longer) hold the account's key: ``await KeyRing.load`` it, then retry."""

    def __init__(self, account_id: str):
        super().__init__(f"the data key of {account_id!r} is not loaded")
        self.account_id = account_id
