"""Rebuild the per-account timeline from ``ic.interactions.v1`` while the service keeps running.

    python -m icsuite_interactions.rebuild

The chassis's :meth:`ProjectionWriter.rebuild` replays the topic (:mod:`icsuite_chassis.replay`, up to the
end offsets seen after the rebuild began) into a shadow collection while the live consumers apply every
new event to both, then renames the shadow over the live timeline: no event applied meanwhile is lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from typing import Any

from icsuite_chassis.data_keys import KeyRing, vault_key_ring
from icsuite_chassis.mongo import create_mongo_client
from icsuite_chassis.replay import ReplayCounts, topic_replay
from icsuite_chassis.settings import load_settings
from icsuite_chassis.store.projection import RebuildReport
from icsuite_contracts.interactions_v1 import TOPIC
from pymongo.asynchronous.database import AsyncDatabase

from .projections.timeline import timeline_writer
from .settings import InteractionsSettings


async def rebuild_timeline(db: AsyncDatabase[dict[str, Any]], bootstrap: str, collection: str,
                           counts: ReplayCounts | None = None, key_ring: KeyRing | None = None) -> RebuildReport:
    """Replay the topic into a shadow of ``collection`` and swap it in (personal fields opened with
    ``key_ring``, or erased where their account's key was erased)."""
    replay = topic_replay(bootstrap, TOPIC, counts=counts, key_ring=key_ring)
    return await timeline_writer(db, collection).rebuild(replay)


async def _main() -> dict[str, Any]:
    settings = load_settings(InteractionsSettings)
    client = create_mongo_client(settings.mongodb_uri, app_name="interactions-rebuild")
    counts = ReplayCounts()
    try:
        ring = (vault_key_ring(client[settings.key_vault_database], settings.data_key_master)
                if settings.crypto_shredding else None)
        report = await rebuild_timeline(client[settings.mongodb_database], settings.kafka_bootstrap_servers,
                                        settings.timeline_collection, counts, ring)
    finally:
        await client.close()
    return {**asdict(report), "undecodable": counts.skipped}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m icsuite_interactions.rebuild", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    print(json.dumps(asyncio.run(_main())))


if __name__ == "__main__":
    main()
