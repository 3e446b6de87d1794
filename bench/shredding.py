"""The cost of crypto-shredding: events/s through encode + decode (``to_kafka`` / ``from_kafka``) with and
without sealing the personal fields, in one run, as a ratio. Keys come from the key ring's warm cache (the
vault is read once per account and cached), so this measures the crypto and the extra JSON pass.

    .venv/bin/python -m bench.shredding [--events 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime

from icsuite_chassis.data_keys import DATA_KEYS, DataKeyCodec, KeyRing, MasterKey
from icsuite_chassis.shredding import decode_record, encode_record
from icsuite_chassis.store import InMemoryAggregateStore
from icsuite_contracts.base import Event
from icsuite_contracts.callbacks_v1 import CallbackQueued
from icsuite_contracts.cloudevents import Envelope, new_envelope
from icsuite_contracts.interactions_v1 import InteractionClosed, NoteAdded
from icsuite_contracts.masterdata_v1 import AccountUpserted, Address

T0 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
ACCOUNTS = 1000


def events(count: int) -> list[Envelope]:
    """A mix: master data, notes, callbacks (sealed fields) and closures (none)."""
    made: list[Event] = []
    for i in range(count):
        acc = f"acc-{i % ACCOUNTS}"
        kind = i % 4
        if kind == 0:
            made.append(AccountUpserted(account_id=acc, source_version=i, kind="person", name=f"Name {i}",
                                        phones=["+4930123456"], emails=[f"p{i}@example.org"],
                                        address=Address(street="Hauptstr. 5", postcode="10115", city="Berlin",
                                                        country="DE")))
        elif kind == 1:
            made.append(NoteAdded(interaction_id=f"i-{i}", account_id=acc, note_id="n-1", type="note",
                                  language="de", text="Kunde bittet um Ratenzahlung. " * 4, author="a-1",
                                  created_at=T0))
        elif kind == 2:
            made.append(CallbackQueued(callback_id=f"cb-{i}", request_id=f"r-{i}", account_id=acc, at=T0,
                                       callback_number="+4930123456", profile="default", priority=1, due_at=T0))
        else:
            made.append(InteractionClosed(interaction_id=f"i-{i}", account_id=acc, outcome="resolved",
                                          closed_at=T0))
    return [new_envelope(event, source="/bench") for event in made]


async def rate(envelopes: list[Envelope], ring: KeyRing | None) -> float:
    started = time.perf_counter()
    for envelope in envelopes:
        record = await encode_record(envelope, ring)
        await decode_record(record.headers, record.value, ring)
    return len(envelopes) / (time.perf_counter() - started)


async def main(count: int, rounds: int) -> None:
    envelopes = events(count)
    ring = KeyRing(InMemoryAggregateStore(DATA_KEYS, DataKeyCodec()), MasterKey(b"k" * 32), ttl_s=3600)
    await rate(envelopes[:ACCOUNTS * 4], ring)  # every account's key created and cached
    plain, sealed = [], []
    for _ in range(rounds):  # interleaved, so both see the same machine load
        plain.append(await rate(envelopes, None))
        sealed.append(await rate(envelopes, ring))
    p, s = statistics.median(plain), statistics.median(sealed)
    print(f"{count} events x {rounds} rounds (3 of 4 with personal fields), encode+decode per event:")
    print(f"  plain  {p:,.0f} events/s (rounds: {', '.join(f'{r:,.0f}' for r in plain)})")
    print(f"  sealed {s:,.0f} events/s (rounds: {', '.join(f'{r:,.0f}' for r in sealed)})")
    print(f"  sealed / plain = {s / p:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.rounds))
