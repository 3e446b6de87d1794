"""Retention on the real stack, with tiny settings: the periodic job purges the kept events past
``event_log_retention_days`` (by the event's time) with the absence checks decided on them, the alerts
acknowledged longer ago than ``acknowledged_alert_retention_days`` (with the copy their stream position kept) and
the de-duplication claims past their expiry (the wire server has no TTL index), leaves recent events and open
alerts, and counts each in ``ic_retention_purged_total``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from icsuite_chassis.testing import bearer, eventually, publish_envelopes, running_app, start_consumers_at_the_end, \
    unique
from icsuite_contracts.cloudevents import Envelope, new_envelope
from icsuite_contracts.masterdata_v1 import BusinessAgreementUpserted

from icsuite_alerts.bootstrap import build_app
from icsuite_alerts.settings import AlertsSettings

pytestmark = pytest.mark.integration
ADMIN, SUPERVISOR = bearer("admin-1", "admin"), bearer("sup-1", "supervisor")


def agreement(account_id: str, balance: str, time: datetime) -> Envelope:
    data = BusinessAgreementUpserted(business_agreement_id=unique("ba"), account_id=account_id, source_version=1,
                                     balance=Decimal(balance), currency="EUR", dunning_level=0, credit_status="good")
    return new_envelope(data, source="/test", time=time)


async def purged_total(client: Any, kind: str) -> float:
    text = (await client.get("/metrics")).text
    found = re.search(rf'^ic_retention_purged_total\{{kind="{kind}"\}} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_old_events_and_acknowledged_alerts_go_recent_ones_and_open_alerts_stay(stack) -> None:
    settings = AlertsSettings(kafka_bootstrap_servers=stack.kafka_bootstrap, mongodb_uri=stack.mongodb_uri,
                              mongodb_database=unique("alerts_test").replace("-", "_"),
                              consumer_group_prefix=unique("t") + ".", consumer_retry_backoff_s=0.01,
                              rules_refresh_interval_s=0.2, retention_interval_s=0.3,
                              event_log_retention_days=1.0, acknowledged_alert_retention_days=0.00002,  # 1.7 s
                              dedupe_keep_s=0)
    app = build_app(settings)
    await start_consumers_at_the_end(app, stack.kafka_bootstrap)  # only this test's events, not the session's
    db = app.state.runtime.db
    account, old_account = unique("acc-ret"), unique("acc-old")
    async with running_app(app) as client:
        kinds = ("alerts_event_log", "acknowledged_alerts", "settled_absences", "expired_dedupe_claims")
        before = {kind: await purged_total(client, kind) for kind in kinds}
        rule = await client.post("/v1/rules", headers=ADMIN, json={
            "name": unique("retention"), "triggers": ["ic.masterdata.business-agreement-upserted.v1"],
            "condition": f'event.account_id == "{account}"', "severity": "info",
            "message": "agreement {event.business_agreement_id}", "target": "supervisors",
            "dedupe_window_s": 1, "enabled": True})  # a window: its raises claim it (0 s claims none)
        assert rule.status_code == 201, rule.text
        rule_id = rule.json()["rule_id"]
        absence = await client.post("/v1/rules", headers=ADMIN, json={
            "name": unique("retention-absence"), "triggers": ["ic.masterdata.business-agreement-upserted.v1"],
            "condition": f'event.account_id == "{old_account}"', "severity": "info", "message": "no follow-up",
            "target": "supervisors", "dedupe_window_s": 1, "enabled": True,
            "after": {"within_s": 1, "unless": ["ic.followup.created.v1"]}})
        assert absence.status_code == 201, absence.text
        absence_id = absence.json()["rule_id"]

        async def rule_loaded() -> bool | None:
            return {rule_id, absence_id} <= set(app.state.service.cache.book.by_id) or None
        await eventually(rule_loaded, timeout=30)
        now = datetime.now(UTC)
        old = agreement(old_account, "70", now - timedelta(days=2))
        recent = [agreement(account, "5", now - timedelta(seconds=2)), agreement(account, "6", now)]  # 2 windows
        await publish_envelopes(stack.kafka_bootstrap, old, *recent)

        async def two_alerts() -> list[dict[str, Any]] | None:
            r = await client.get("/v1/alerts", params={"account_id": account}, headers=SUPERVISOR)
            assert r.status_code == 200, r.text
            return r.json()["items"] if len(r.json()["items"]) == 2 else None
        acknowledged, kept_open = await eventually(two_alerts, timeout=60)
        ack = await client.post(f"/v1/alerts/{acknowledged['alert_id']}/ack", headers=SUPERVISOR)
        assert ack.status_code == 200, ack.text

        async def purged() -> bool | None:
            gone = (await client.get(f"/v1/alerts/{acknowledged['alert_id']}", headers=SUPERVISOR)).status_code == 404
            old_gone = await db.event_log.count_documents({"_id": old.id}) == 0
            settled_gone = await db.alert_absences.count_documents({"rule_id": absence_id}) == 0
            claims_gone = await db.alert_dedupe.count_documents({}) == 0
            return (gone and old_gone and settled_gone and claims_gone) or None
        await eventually(purged, timeout=60)
        raised = (await client.get("/v1/alerts", params={"account_id": old_account}, headers=SUPERVISOR)).json()
        assert [a["rule_id"] for a in raised["items"]] == [absence_id]  # the absence was raised before it went
        facts = (await client.get(f"/v1/accounts/{old_account}/facts", headers=SUPERVISOR)).json()["facts"]
        assert facts["balance"] == 70.0  # the old event was consumed before its kept copy went
        assert await db.event_log.count_documents({"_id": {"$in": [e.id for e in recent]}}) == 2
        still = await client.get(f"/v1/alerts/{kept_open['alert_id']}", headers=SUPERVISOR)
        assert still.status_code == 200 and still.json()["status"] == "open"
        assert await db.alert_stream.count_documents({"alert_id": acknowledged["alert_id"]}) == 0
        assert await db.alert_stream.count_documents({"alert.alert_id": acknowledged["alert_id"]}) == 0
        assert await db.alert_stream.count_documents({"alert_id": kept_open["alert_id"]}) == 1
        after = {kind: await purged_total(client, kind) for kind in before}
        purged_now = {kind: after[kind] - before[kind] for kind in before}
        assert purged_now.pop("expired_dedupe_claims") >= 2  # the two alerts' (and any standard rule's)
        assert purged_now == {"alerts_event_log": 1, "acknowledged_alerts": 1, "settled_absences": 1}
