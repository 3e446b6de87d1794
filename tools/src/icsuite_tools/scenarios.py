"""Contact scenarios as envelopes: what the CTI and web channels would publish.

Pure and deterministic: a :class:`ScenarioGenerator` with the same ``seed``, ``run_id`` and inputs gives
the same scenarios for the same ``now``. Each scenario is one contact (its ``ic.contacts.v1`` events in
order, timestamps ending at ``now``) or one callback request (``ic.callback-requests.v1``).

Kinds: ``call`` (started, IVR, queue, agent segments with hold and transfers to a second agent, wrap-up,
ended; a few callers give up in the queue), ``ivr`` (self-service: the IVR and nothing else), ``email``
(started and ended on the e-mail channel) and ``callback`` (a web or IVR callback request with a
preferred window: open now, later, or none).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icsuite_contracts.base import Event
from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope
from icsuite_contracts.contacts_v1 import ContactEnded, ContactSegmentRecorded, ContactStarted

from .demo import UNKNOWN_PREFIX

KINDS = ("call", "ivr", "email", "callback")
DEFAULT_MIX: dict[str, float] = {"call": 0.55, "ivr": 0.15, "email": 0.15, "callback": 0.15}
QUEUES = {"billing": "+498001234501", "payments": "+498001234502", "outage": "+498001234503",
          "moves": "+498001234504", "general": "+498001234500"}
REASONS = ["billing_question", "payment_arrangement", "outage", "move_in_out", "meter_reading", None]
FIRST = ["jan", "eva", "tom", "ida", "kai", "lea", "ole", "pia", "tim", "uwe"]
LAST = ["meier", "fischer", "weber", "keller", "vogel", "berger", "frank", "roth"]
CTI_SOURCE = "/simulator/cti"
WEB_SOURCE = "/simulator/web"


@dataclass(frozen=True)
class Scenario:
    """One simulated contact or callback request and the envelopes that report it, in order."""

    kind: str
    aggregate_id: str
    """The ``contact_id`` (call, ivr, email) or ``request_id`` (callback)."""
    known: bool
    """Whether the caller's number or e-mail address is in the known list."""
    address: str
    envelopes: tuple[Envelope, ...]


def parse_mix(text: str) -> dict[str, float]:
    """``"call=5,ivr=1,email=2,callback=2"`` as weights; unknown kinds are refused."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, weight = part.partition("=")
        if kind not in KINDS:
            raise ValueError(f"unknown scenario kind {kind!r}; use {', '.join(KINDS)}")
        mix[kind] = float(weight or 1)
    if not mix or sum(mix.values()) <= 0 or min(mix.values()) < 0:
        raise ValueError("the mix needs at least one positive weight")
    return mix


class ScenarioGenerator:
    """Draws scenarios from a seeded random generator."""

    def __init__(self, *, seed: int = 1, mix: Mapping[str, float] | None = None,
                 known_numbers: Sequence[str] = (), known_emails: Sequence[str] = (),
                 known_ratio: float = 0.7, run_id: str | None = None,
                 accounts_by_number: Mapping[str, str] | None = None,
                 agents: Sequence[str] | int = 20) -> None:
        if not 0.0 <= known_ratio <= 1.0:
            raise ValueError("known_ratio must be between 0 and 1")
        self.rng = random.Random(seed)
        self.mix = dict(mix or DEFAULT_MIX)
        unknown = set(self.mix) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown scenario kinds: {sorted(unknown)}")
        self.known_numbers = list(known_numbers)
        self.known_emails = list(known_emails)
        self._known_set = set(self.known_numbers)
        self.known_ratio = known_ratio
        self.run_id = run_id or f"s{seed}"
        self.accounts_by_number = dict(accounts_by_number or {})
        self.agents = [f"a-{n}" for n in range(1, agents + 1)] if isinstance(agents, int) else list(agents)
        if not self.agents:
            raise ValueError("at least one agent is needed")
        self.count = 0

    def next(self, now: datetime) -> Scenario:
        """The next scenario; a contact's events end at ``now``, a callback is requested at ``now``."""
        self.count += 1
        kind = self.rng.choices(list(self.mix), weights=list(self.mix.values()))[0]
        if kind == "callback":
            return self._callback(now)
        contact_id = f"sim-{self.run_id}-{self.count:06d}"
        if kind == "email":
            return self._email(contact_id, now)
        return self._call(contact_id, now, self_service=kind == "ivr")

    def take(self, n: int, now: datetime) -> list[Scenario]:
        return [self.next(now) for _ in range(n)]

    def __iter__(self) -> Iterator[Scenario]:
        while True:
            yield self.next(datetime.now(UTC))

    # --- callers --------------------------------------------------------------------------------
    def _caller_number(self) -> tuple[str, bool]:
        if self.known_numbers and self.rng.random() < self.known_ratio:
            return self.rng.choice(self.known_numbers), True
        while True:
            number = UNKNOWN_PREFIX + "".join(str(self.rng.randint(0, 9)) for _ in range(7))
            if number not in self._known_set:
                return number, False

    def _caller_email(self) -> tuple[str, bool]:
        if self.known_emails and self.rng.random() < self.known_ratio:
            return self.rng.choice(self.known_emails), True
        name = f"{self.rng.choice(FIRST)}.{self.rng.choice(LAST)}{self.rng.randint(1, 999)}"
        return f"{name}@mail.example.net", False

    # --- scenarios --------------------------------------------------------------------------------
    def _call(self, contact_id: str, now: datetime, *, self_service: bool) -> Scenario:
        number, known = self._caller_number()
        rng = self.rng
        queue = rng.choice(list(QUEUES))
        steps: list[tuple[str, str | None, str | None, int]] = [("ivr", None, None, rng.randint(20, 90))]
        reason = "self_service_completed" if rng.random() < 0.7 else "caller_hangup"
        if not self_service:
            steps.append(("queue", None, queue, rng.randint(5, 240)))
            reason = "abandoned" if rng.random() < 0.05 else rng.choice(["caller_hangup", "agent_hangup"])
        if not self_service and reason != "abandoned":
            agent = rng.choice(self.agents)
            steps.append(("agent", agent, queue, rng.randint(45, 420)))
            if rng.random() < 0.25:
                steps += [("hold", agent, queue, rng.randint(15, 120)),
                          ("agent", agent, queue, rng.randint(20, 180))]
            others = [a for a in self.agents if a != agent]
            if rng.random() < 0.2 and others:  # a transfer to a second agent in another queue
                second = rng.choice(others)
                target = rng.choice([q for q in QUEUES if q != queue])
                steps += [("transfer", agent, target, rng.randint(5, 40)),
                          ("agent", second, target, rng.randint(45, 300))]
                agent = second
            steps.append(("wrap_up", agent, None, rng.randint(15, 120)))
        start = now - timedelta(seconds=sum(s[3] for s in steps))
        started = ContactStarted(contact_id=contact_id, channel="phone", direction="inbound",
                                 from_address=number, to_address=QUEUES[queue],
                                 queue=None if self_service else queue, started_at=start)
        events: list[Event] = [started]
        at = start
        for n, (kind, agent_id, seg_queue, seconds) in enumerate(steps, start=1):
            end = at + timedelta(seconds=seconds)
            events.append(ContactSegmentRecorded(
                contact_id=contact_id, segment_id=f"seg-{n}", kind=kind,  # type: ignore[arg-type]
                agent_id=agent_id, queue=seg_queue, started_at=at, ended_at=end))
            at = end
        events.append(ContactEnded(contact_id=contact_id, ended_at=now, reason=reason))
        kind = "ivr" if self_service else "call"
        return Scenario(kind, contact_id, known, number, self._wrap(contact_id, events, CTI_SOURCE))

    def _email(self, contact_id: str, now: datetime) -> Scenario:
        address, known = self._caller_email()
        start = now - timedelta(seconds=self.rng.randint(60, 3600))
        events: list[Event] = [
            ContactStarted(contact_id=contact_id, channel="email", direction="inbound",
                           from_address=address, to_address="service@stadtwerke.example.org",
                           queue="email", started_at=start),
            ContactEnded(contact_id=contact_id, ended_at=now, reason="processed"),
        ]
        return Scenario("email", contact_id, known, address, self._wrap(contact_id, events, CTI_SOURCE))

    def _callback(self, now: datetime) -> Scenario:
        rng = self.rng
        request_id = f"cbr-{self.run_id}-{self.count:06d}"
        number, known = self._caller_number()
        window = rng.random()
        if window < 0.5:  # open now: the work item lands in the general inbox at once
            begin: datetime | None = now.replace(second=0, microsecond=0)
        elif window < 0.85:  # tomorrow, some time between 08:00 and 17:00 UTC
            day = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
            begin = day.replace(hour=rng.randint(8, 17))
        else:
            begin = None
        account_id = self.accounts_by_number.get(number) if known and rng.random() < 0.4 else None
        request = CallbackRequested(
            request_id=request_id, callback_number=number, account_id=account_id,
            reason_code=rng.choice(REASONS), preferred_from=begin,
            preferred_to=begin + timedelta(hours=2) if begin else None, time_zone="Europe/Berlin",
            language="de" if rng.random() < 0.8 else "en", channel="web" if rng.random() < 0.8 else "ivr",
            attributes={"source": "simulator", "run_id": self.run_id},
        )
        envelopes = self._wrap(request_id, [request], WEB_SOURCE, now)
        return Scenario("callback", request_id, known, number, envelopes)

    def _wrap(self, correlation_id: str, events: list[Event], source: str,
              at: datetime | None = None) -> tuple[Envelope, ...]:
        return tuple(
            new_envelope(event, source=source, correlation_id=correlation_id,
                         id=derive_event_id(correlation_id, f"sim-{n}"), time=at or _event_time(event))
            for n, event in enumerate(events)
        )


def _event_time(event: Event) -> datetime:
    for name in ("ended_at", "started_at"):
        value = getattr(event, name, None)
        if value is not None:
            return value  # type: ignore[no-any-return]
    raise ValueError(f"no time in {event!r}")


def random_run_id() -> str:
    return uuid.uuid4().hex[:8]
