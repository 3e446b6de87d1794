"""List and re-publish a service's parked outbox entries.

    python -m icsuite_chassis.outbox_parked --service interactions list
    python -m icsuite_chassis.outbox_parked --service interactions republish [--id ENTRY_ID ...]

``KAFKA_BOOTSTRAP_SERVERS`` and ``MONGODB_URI`` give the infrastructure; the database is ``ic_<service>``
unless ``--database`` says otherwise. ``republish`` sends each entry with its original ``ce_id`` (consumers
drop a duplicate) and deletes it from the parked collection once Kafka acknowledged it; an entry that
still cannot be sent stays parked, and the command says why and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from icsuite_contracts.cloudevents import from_document
from pymongo.asynchronous.database import AsyncDatabase

from .data_keys import KeyRing, vault_key_ring
from .mongo import create_mongo_client
from .outbox_parking import PARKED_COLLECTION
from .settings import ServiceSettings
from .shredding import encode_record


async def parked_entries(db: AsyncDatabase[dict[str, Any]], ids: Sequence[str] = ()) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"_id": {"$in": list(ids)}} if ids else {}
    return [doc async for doc in db[PARKED_COLLECTION].find(query).sort("parked_at", 1)]


async def republish(db: AsyncDatabase[dict[str, Any]], bootstrap: str, ids: Sequence[str] = (),
                    key_ring: KeyRing | None = None) -> tuple[int, list[str]]:
    """Publish the parked entries (all, or ``ids``) again (sealed with ``key_ring`` when shredding is on);
    the number sent and the failures."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    sent, failures = 0, []
    try:
        for parked in await parked_entries(db, ids):
            try:
                record = await encode_record(from_document(parked["entry"]), key_ring)
                await producer.send_and_wait(record.topic, record.value, key=record.key, headers=record.headers)
            except Exception as exc:
                failures.append(f"{parked['_id']}: {type(exc).__name__}: {exc}"[:500])
                continue
            await db[PARKED_COLLECTION].delete_one({"_id": parked["_id"]})
            sent += 1
    finally:
        await producer.stop()
    return sent, failures


def _summary(parked: dict[str, Any]) -> str:
    return json.dumps({"id": parked["_id"], "type": parked.get("type"), "collection": parked.get("collection"),
                       "doc_id": str(parked.get("doc_id")), "attempts": parked.get("attempts"),
                       "parked_at": str(parked.get("parked_at")), "reason": parked.get("reason")})


async def run(args: argparse.Namespace) -> int:
    client = create_mongo_client(args.mongodb_uri, app_name="icsuite-outbox-parked")
    db = client[args.database or f"ic_{args.service}"]
    try:
        if args.command == "list":
            entries = await parked_entries(db, args.id)
            for parked in entries:
                print(_summary(parked))
            print(f"{len(entries)} parked entries", file=sys.stderr)
            return 0
        settings = ServiceSettings()  # IC_CRYPTO_SHREDDING, IC_DATA_KEY_MASTER, IC_KEY_VAULT_DATABASE
        ring = (vault_key_ring(client[settings.key_vault_database], settings.data_key_master)
                if settings.crypto_shredding else None)
        sent, failures = await republish(db, args.kafka_bootstrap_servers, args.id, ring)
        print(f"republished {sent} entries, {len(failures)} still parked", file=sys.stderr)
        for failure in failures:
            print(f"  {failure}", file=sys.stderr)
        return 1 if failures else 0
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="List or re-publish a service's parked outbox entries.")
    parser.add_argument("--service", required=True, help="the service (its database is ic_<service>)")
    parser.add_argument("--database", help="the service's database, if not ic_<service>")
    parser.add_argument("--mongodb-uri", default=os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017"))
    parser.add_argument("--kafka-bootstrap-servers",
                        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("command", choices=["list", "republish"])
    parser.add_argument("--id", action="append", default=[], help="only this entry (repeatable)")
    raise SystemExit(asyncio.run(run(parser.parse_args(argv))))


if __name__ == "__main__":
    main()
