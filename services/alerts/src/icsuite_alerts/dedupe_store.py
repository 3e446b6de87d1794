"""The de-duplication windows: per-key chains of immutable claim documents in ``alert_dedupe``, and their pruning.

A key (rule, account, contact) has a chain of documents keyed by ``_id``, one per raise: generation 1 is the
bare key (as the single in-place document of earlier versions was), then ``<key>\\x1f#<n>``. A claim is the
insert of the next generation, so the unique ``_id`` decides between concurrent claimers. Only ``_id``
inserts, ``_id $in`` reads and deletes: nothing scans on the MongoDB-wire server, except the pruner's one
query per run.

Pruning removes whole chains whose newest raise is past its window, and never a part of a live chain:
deleting generation 1 alone would let the next claim start a new chain beside a newer raise. The pruner
first inserts a *seal* (``<key>\\x1f!``), then checks that nobody added a generation meanwhile, then deletes
the chain (generation 1 last) and the seal. A claim that finds a seal waits until it is gone. A claim that
extends a chain (generation 2 or later) reads generation 1 and the seal after its insert: the pruner writes
the seal and then reads the next generation, the claimer writes the next generation and then reads the
seal, so at least one of them sees the other (the pruner keeps the chain, or the claimer withdraws its
document and starts again). Each chain carries a nonce ``c`` set by its generation 1, so a document left by
an interrupted claim of an earlier, pruned chain (a *stray*) is recognised and removed, never followed.
"""

from __future__ import annotations

import asyncio
import enum
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from icsuite_chassis.versioned import VersionConflict
from pymongo.errors import BulkWriteError

from .domain.evaluation import DedupeRecord, Match, dedupe_allows
from .domain.rules import MAX_DEDUPE_WINDOW_S

DUPLICATE_KEY_CODES = (11000, 11001)
DEDUPE_READ_AHEAD = 16  # generations of a chain read per round trip
DEDUPE_MAX_ROUNDS = 20  # inserts tried per claim under contention
SEAL_WAIT_S = 10.0  # how long a claim waits for a pruner's seal (it lives for a few round trips)
SEAL_PAUSE_S = 0.01
SEAL_STALE_S = 120.0  # a seal this old belongs to a pruner that stopped half-way: the next run finishes it
PRUNE_BATCH = 500  # chains sealed and deleted per round (each delete is one `_id $in` of at most this many keys)
_SEAL = "\x1f!"
_GENERATION = re.compile(r"\x1f#(\d+)\Z")


class Claim(enum.Enum):
    NEW = "new"
    AGAIN = "again"
    REFUSED = "refused"

    def __bool__(self) -> bool:
        return self is not Claim.REFUSED


def dedupe_id(key: str, generation: int) -> str:
    return key if generation == 1 else f"{key}\x1f#{generation}"


def seal_id(key: str) -> str:
    return key + _SEAL


def key_of(doc_id: str) -> str:
    """The key of a chain document or seal (a key itself has two separators)."""
    if doc_id.count("\x1f") >= 3:
        if doc_id.endswith(_SEAL):
            return doc_id[: -len(_SEAL)]
        found = _GENERATION.search(doc_id)
        if found:
            return doc_id[: found.start()]
    return doc_id


@dataclass
class ChainView:
    """A key's chain as read: generation 1, the seal, the newest generation of generation 1's chain."""

    head: dict[str, Any] | None = None
    seal: dict[str, Any] | None = None
    newest: int = 0
    doc: dict[str, Any] | None = None
    strays: list[dict[str, Any]] = field(default_factory=list)


class DedupeChains:
    def __init__(self, collection: Any):
        self.collection = collection

    # ---- claims -------------------------------------------------------------------------------------
    async def claim_many(self, matches: list[Match]) -> list[Claim]:
        """Atomically take each rule's window for its account and contact (or find it taken).

        The first round inserts generation 1 of every match in one unordered write (a new key, the usual
        case, is then claimed in one round trip); the refused ones read their chains (all keys in one
        ``$in``) and try the next generation, which is confirmed by reading generation 1 and the seal.
        ``Claim.AGAIN`` means the window's last raise was this very alert: a redelivered trigger, whose
        alert may or may not have been written before.
        """
        claims: list[Claim | None] = [None] * len(matches)
        generation = dict.fromkeys(range(len(matches)), 1)
        nonce: dict[int, Any] = {}
        inserting, reading, confirming = list(range(len(matches))), [], []
        rounds, deadline = 0, time.monotonic() + SEAL_WAIT_S
        while inserting or reading or confirming:
            if inserting:
                rounds += 1
                if rounds > DEDUPE_MAX_ROUNDS:
                    raise VersionConflict("too much contention on alert_dedupe")  # transient: retried, never dead-lettered
                docs = [claim_doc(matches[i], generation[i], nonce.get(i)) for i in inserting]
                refused = await insert_unordered(self.collection, docs)
                for j, i in enumerate(inserting):
                    if j in refused:
                        reading.append(i)
                    elif generation[i] == 1:
                        claims[i] = Claim.NEW
                    else:
                        confirming.append(i)
                inserting = []
            if not (reading or confirming):
                break
            views = await self.read_chains({i: (matches[i].dedupe_key, 0 if i in confirming else generation[i])
                                            for i in reading + confirming})
            await self.delete_exact(s for v in views.values() for s in v.strays)
            held = [i for i in reading + confirming if views[i].seal is not None]
            for i in confirming:
                view = views[i]
                if view.seal is not None:
                    continue
                if view.head is not None and view.head.get("c") == nonce[i]:
                    claims[i] = Claim.NEW
                else:  # the chain was pruned under the insert: withdraw it and start again
                    await self.delete_exact([claim_doc(matches[i], generation[i], nonce[i])])
                    generation[i] = 1
                    inserting.append(i)
            for i in reading:
                view, match = views[i], matches[i]
                if view.seal is not None:
                    continue
                if view.head is None or view.doc is None:
                    generation[i] = 1
                    inserting.append(i)
                elif view.doc.get("alert_id") == match.alert_id:
                    claims[i] = Claim.AGAIN
                elif dedupe_allows(DedupeRecord(aware(view.doc["last_at"]), view.doc.get("alert_id", "")), match):
                    generation[i], nonce[i] = view.newest + 1, view.head.get("c")
                    inserting.append(i)
                else:
                    claims[i] = Claim.REFUSED
            reading = [i for i in reading if i in held]
            confirming = [i for i in confirming if i in held]
            if held:
                if time.monotonic() > deadline:
                    raise VersionConflict("alert_dedupe: a pruner's seal did not go away")  # retried until taken over
                await asyncio.sleep(SEAL_PAUSE_S)
        return [claim for claim in claims if claim is not None]

    async def read_chains(self, requests: dict[Any, tuple[str, int]]) -> dict[Any, ChainView]:
        """For each ``id: (key, start)``: generation 1, the seal and the newest generation of the chain,
        reading ``DEDUPE_READ_AHEAD`` generations from ``start`` per round trip (``start`` 0: none)."""
        views = {i: ChainView() for i in requests}
        todo = {i: start for i, (_, start) in requests.items()}
        first = True
        while todo:
            wanted: dict[str, list[tuple[Any, int]]] = {}  # several requests may share a key
            for i, start in todo.items():
                key = requests[i][0]
                gens = list(range(start, start + DEDUPE_READ_AHEAD)) if start else []
                for gen in ([1, 0] if first else []) + gens:  # 0 stands for the seal
                    wanted.setdefault(seal_id(key) if gen == 0 else dedupe_id(key, gen), []).append((i, gen))
            found: dict[Any, dict[int, dict[str, Any]]] = {i: {} for i in todo}
            async for doc in self.collection.find({"_id": {"$in": list(wanted)}}):
                for i, gen in wanted[doc["_id"]]:
                    found[i][gen] = doc
            next_todo = {}
            for i, start in todo.items():
                view, docs = views[i], found[i]
                if first:
                    view.head, view.seal = docs.get(1), docs.get(0)
                for gen, doc in docs.items():
                    if gen == 0 or (gen == 1 and first and start != 1):
                        continue
                    if view.head is None or doc.get("c") != view.head.get("c"):
                        view.strays.append(doc)
                    elif gen > view.newest:
                        view.newest, view.doc = gen, doc
                if start and view.newest == start + DEDUPE_READ_AHEAD - 1:  # the chain may go on
                    next_todo[i] = view.newest
            todo, first = next_todo, False
        return views

    async def delete_exact(self, docs: Iterable[dict[str, Any]]) -> int:
        """Delete these very documents (same ``_id``, alert and chain nonce), not a later one in their place."""
        deleted = 0
        for doc in {d["_id"]: d for d in docs}.values():
            result = await self.collection.delete_one({"_id": doc["_id"], "alert_id": doc.get("alert_id"),
                                                       "c": doc.get("c")})
            deleted += result.deleted_count
        return deleted

    # ---- pruning ------------------------------------------------------------------------------------
    async def prune(self, *, now: datetime, windows: dict[str, int], grace_s: float,
                    batch: int = PRUNE_BATCH) -> int:
        """Delete the chains whose newest raise is past its window by more than ``grace_s``; the count of
        chains deleted. ``windows``: the current ``dedupe_window_s`` of every rule (a longer one than the
        claim's wins). Safe in every replica at once and beside claims (see the module's docstring)."""
        cutoff = now - timedelta(seconds=grace_s)
        query = {"$or": [{"x": {"$lt": cutoff}}, {"x": None, "last_at": {"$lt": cutoff}},
                         {"s": {"$lt": now - timedelta(seconds=SEAL_STALE_S)}}]}
        keys = list(dict.fromkeys([key_of(d["_id"]) async for d in self.collection.find(query, {"_id": 1})]))
        pruned = 0
        for start in range(0, len(keys), batch):
            pruned += await self._prune_keys(keys[start:start + batch], now=now, cutoff=cutoff, windows=windows)
        return pruned

    async def _prune_keys(self, keys: list[str], *, now: datetime, cutoff: datetime,
                          windows: dict[str, int]) -> int:
        views = await self.read_chains({k: (k, 1) for k in keys})
        await self.delete_exact(s for v in views.values() for s in v.strays)
        expired = {k: v for k, v in views.items() if v.seal is None and v.head is not None and v.doc is not None
                   and expiry(v.doc, windows.get(k.split("\x1f", 1)[0])) < cutoff}
        stale = [k for k, v in views.items() if v.seal is not None and v.seal.get("s") is not None
                 and aware(v.seal["s"]) < now - timedelta(seconds=SEAL_STALE_S)]
        seals = {k: {"_id": seal_id(k), "s": now, "t": uuid.uuid4().hex, "n": v.newest, "c": v.head.get("c")}
                 for k, v in expired.items() if v.head is not None}
        refused = await insert_unordered(self.collection, list(seals.values()))
        seals = {k: s for j, (k, s) in enumerate(seals.items()) if j not in refused}  # else another replica
        intact = dict(seals)
        broken: dict[str, dict[str, Any]] = {}
        for key in stale:
            seal = await self._take_over(views[key].seal, now)
            if seal is not None:
                await self._sort_stale(key, seal, views[key], intact, broken)
        # nobody extended a sealed chain after it was read (or the claimer will see the seal and withdraw)
        checked = await self.read_chains({k: (k, s["n"]) for k, s in intact.items()})
        doomed = {k: s for k, s in intact.items() if checked[k].head is not None
                  and checked[k].head.get("c") == s["c"] and checked[k].newest == s["n"]}
        doomed.update(broken)
        await self._delete_chains(doomed)
        await self._delete_seals(list(seals.values()) + [s for k, s in intact.items() if k not in seals]
                                 + list(broken.values()))
        return len(doomed)

    async def _take_over(self, seal: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
        """Own a stale seal (a guarded update, so that one replica finishes an interrupted pruning)."""
        assert seal is not None
        token = uuid.uuid4().hex
        result = await self.collection.update_one({"_id": seal["_id"], "t": seal.get("t")},
                                                  {"$set": {"t": token, "s": now}})
        return {**seal, "t": token, "s": now} if result.modified_count else None

    async def _sort_stale(self, key: str, seal: dict[str, Any], view: ChainView, intact: dict[str, Any],
                          broken: dict[str, Any]) -> None:
        """An interrupted pruning: check again if the chain is whole, finish the deletion if it had begun,
        only remove the seal if generation 1 is already gone."""
        if view.head is None or view.head.get("c") != seal.get("c"):
            broken[key] = {**seal, "n": 0}  # deleted up to generation 1: only the seal is left
            return
        ids = [dedupe_id(key, g) for g in range(1, int(seal["n"]) + 1)]
        present = await self.collection.count_documents({"_id": {"$in": ids}, "c": seal.get("c")})
        (intact if present == len(ids) else broken)[key] = seal

    async def _delete_chains(self, doomed: dict[str, dict[str, Any]]) -> None:
        """Generations 2 to n first, generation 1 last: until then every claim of the key finds the seal.

        Exact by the chains' nonces (unique per chain; ``None`` for chains of earlier versions), so a chain
        begun after one of them was deleted (by another replica finishing a stale seal) is never touched.
        """
        nonces = list({seal.get("c") for seal in doomed.values()})
        tails = [dedupe_id(key, g) for key, seal in doomed.items() for g in range(2, int(seal["n"]) + 1)]
        heads = [key for key, seal in doomed.items() if seal["n"]]
        for ids in (tails, heads):
            if ids:
                await self.collection.delete_many({"_id": {"$in": ids}, "c": {"$in": nonces}})

    async def _delete_seals(self, seals: list[dict[str, Any]]) -> None:
        if seals:
            await self.collection.delete_many({"_id": {"$in": [s["_id"] for s in seals]},
                                               "t": {"$in": [s["t"] for s in seals]}})


def claim_doc(match: Match, generation: int, nonce: Any) -> dict[str, Any]:
    """A claim: the raise's time, the alert, the chain's nonce and when the window ends (``x``)."""
    window = timedelta(seconds=match.rule.spec.dedupe_window_s)
    return {"_id": dedupe_id(match.dedupe_key, generation), "last_at": match.raised_at, "alert_id": match.alert_id,
            "c": uuid.uuid4().hex if generation == 1 else nonce, "x": match.raised_at + window}


def expiry(doc: dict[str, Any], current_window_s: int | None) -> datetime:
    """When a raise stops mattering: its window at the claim, or the rule's current one if that is longer;
    a document of an earlier version (no ``x``) of a rule that is gone keeps the longest window possible."""
    last_at = aware(doc["last_at"])
    stored = aware(doc["x"]) if doc.get("x") is not None else None
    if current_window_s is None:
        return stored or last_at + timedelta(seconds=MAX_DEDUPE_WINDOW_S)
    current = last_at + timedelta(seconds=current_window_s)
    return max(stored, current) if stored else current


def aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


async def insert_unordered(collection: Any, docs: list[dict[str, Any]]) -> set[int]:
    """Insert ``docs`` in one unordered write; the indexes of those refused as duplicate keys."""
    if not docs:
        return set()
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors") or []
        if any(e.get("code") not in DUPLICATE_KEY_CODES for e in errors):
            raise
        return {int(e["index"]) for e in errors}
    return set()
