"""Loading the demo: master data through ``ic.masterdata.v1`` and reason profiles through the gateway.

What each service seeds itself, and so is not done here: the callbacks service stores its standard
reason profiles (``default``, ``billing_question``, ``payment_arrangement``, ``move_in_out``,
``outage``) at start, the followups service its customizing (permitted types, copying control), the
alerts service its standard alert rules. The loader makes sure the reason profiles the simulator uses
exist (it never overwrites one an admin has edited) and adds two demo profiles.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from .demo import DemoDataSet, demo_dataset
from .gateway import Gateway, GatewayError, development_token
from .publisher import KafkaPublisher, publish_all

# reason_code -> the profile body (CONTRACT.md: task, priority, SLA; the callbacks service's fields)
REASON_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"task_type": "callback", "priority": 1, "sla_minutes": 480, "queue": "general",
                "skill": None, "max_attempts": 3, "retry_delay_seconds": 900.0,
                "description": "used when the reason is missing or unknown"},
    "billing_question": {"task_type": "billing_callback", "priority": 3, "sla_minutes": 240,
                         "queue": "general", "skill": "billing", "max_attempts": 3, "retry_delay_seconds": 900.0,
                         "description": "questions about a bill or a payment"},
    "payment_arrangement": {"task_type": "collections_callback", "priority": 5, "sla_minutes": 120,
                            "queue": "collections", "skill": "collections", "max_attempts": 3,
                            "retry_delay_seconds": 600.0, "description": "instalment plans and payment deferrals"},
    "move_in_out": {"task_type": "move_callback", "priority": 2, "sla_minutes": 1440, "queue": "general",
                    "skill": "moves", "max_attempts": 3, "retry_delay_seconds": 1800.0,
                    "description": "moving in or out, meter readings at the move"},
    "outage": {"task_type": "technical_callback", "priority": 8, "sla_minutes": 60, "queue": "technical",
               "skill": "grid", "max_attempts": 5, "retry_delay_seconds": 300.0,
               "description": "supply interruptions and faults"},
    "meter_reading": {"task_type": "meter_callback", "priority": 2, "sla_minutes": 720, "queue": "general",
                      "skill": None, "max_attempts": 2, "retry_delay_seconds": 1800.0,
                      "description": "demo: a customer wants to report or query a meter reading"},
    "tariff_change": {"task_type": "sales_callback", "priority": 4, "sla_minutes": 480, "queue": "sales",
                      "skill": "sales", "max_attempts": 3, "retry_delay_seconds": 900.0,
                      "description": "demo: a customer asks for another tariff"},
}


@dataclass
class LoadReport:
    events: Counter[str] = field(default_factory=Counter)
    profiles: dict[str, str] = field(default_factory=dict)
    """reason_code -> ``present``, ``created`` or an error message."""
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"events": dict(self.events), "profiles": self.profiles, "errors": self.errors,
                "self_seeded": ["followup customizing (followups service)",
                                "standard alert rules (alerts service)"]}


async def publish_masterdata(bootstrap: str, dataset: DemoDataSet | None = None) -> Counter[str]:
    """Publish every demo snapshot (deterministic event ids) and wait for the broker's acknowledgement."""
    envelopes = (dataset or demo_dataset()).envelopes()
    async with KafkaPublisher(bootstrap) as publisher:
        await publish_all(publisher, envelopes)
    return Counter(envelope.type for envelope in envelopes)


def seed_reason_profiles(base_url: str | None, *, token: str | None = None,
                         transport: httpx.BaseTransport | None = None) -> dict[str, str]:
    """Create each demo reason profile the callbacks service does not have yet (admin token)."""
    token = token or development_token("demo-loader", ["admin"])
    results: dict[str, str] = {}
    with Gateway("callbacks", base_url, token, transport=transport) as gateway:
        for code, body in REASON_PROFILES.items():
            path = f"/v1/reason-profiles/{code}"
            try:
                try:
                    gateway.call("GET", path)
                    results[code] = "present"
                    continue
                except GatewayError as exc:
                    if exc.status != 404:
                        raise
                gateway.call("PUT", path, json=body)
                results[code] = "created"
            except GatewayError as exc:
                results[code] = exc.describe() if exc.status else str(exc)
                if exc.status is None:  # unreachable: no point in trying the others
                    break
    return results


async def load_demo(bootstrap: str | None, callbacks_url: str | None, *, token: str | None = None,
                    profiles: bool = True, transport: httpx.BaseTransport | None = None) -> LoadReport:
    """Publish the master data (unless ``bootstrap`` is None) and seed the reason profiles."""
    report = LoadReport()
    if bootstrap:
        try:
            report.events = await publish_masterdata(bootstrap)
        except Exception as exc:  # noqa: BLE001 - reported to the person running the command
            report.errors.append(f"master data not published to {bootstrap}: {exc!r}")
    if profiles:
        report.profiles = seed_reason_profiles(callbacks_url, token=token, transport=transport)
        report.errors += [f"reason profile {code}: {result}" for code, result in report.profiles.items()
                          if result not in ("present", "created")]
    return report
