"""The scenario generator: valid events, deterministic, the mix and the known ratio honoured."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from itertools import pairwise

import pytest
from icsuite_contracts.cloudevents import from_kafka, to_kafka
from icsuite_contracts.registry import model_for_type
from icsuite_tools.demo import demo_dataset
from icsuite_tools.scenarios import DEFAULT_MIX, ScenarioGenerator, parse_mix

pytestmark = pytest.mark.unit
NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def generator(seed: int = 7, **kw: object) -> ScenarioGenerator:
    data = demo_dataset()
    return ScenarioGenerator(seed=seed, known_numbers=data.known_numbers, known_emails=data.known_emails,
                             run_id="t", **kw)  # type: ignore[arg-type]


def test_every_event_validates_against_its_contract_model() -> None:
    for scenario in generator().take(400, NOW):
        for envelope in scenario.envelopes:
            model = model_for_type(envelope.type)
            body = envelope.data.model_dump(mode="json")
            assert model.model_validate(body) == envelope.data  # producer side: extra="forbid"
            record = to_kafka(envelope)
            assert record.key.decode() == scenario.aggregate_id
            assert from_kafka(record.headers, record.value).data == envelope.data


def test_deterministic_for_a_seed_and_different_for_another() -> None:
    def dump(g: ScenarioGenerator) -> list[str]:
        return [json.dumps([e.data.model_dump(mode="json") for e in s.envelopes]) + s.envelopes[0].id
                for s in g.take(50, NOW)]

    assert dump(generator(3)) == dump(generator(3))
    assert dump(generator(3)) != dump(generator(4))


def test_known_ratio_and_mix_are_roughly_honoured() -> None:
    scenarios = generator(known_ratio=0.7).take(2000, NOW)
    known = sum(s.known for s in scenarios) / len(scenarios)
    assert 0.66 <= known <= 0.74
    kinds = Counter(s.kind for s in scenarios)
    for kind, share in DEFAULT_MIX.items():
        assert abs(kinds[kind] / len(scenarios) - share) < 0.04, kinds
    known_set = set(demo_dataset().known_numbers) | set(demo_dataset().known_emails)
    assert all((s.address in known_set) == s.known for s in scenarios)


def test_all_unknown_and_all_known() -> None:
    assert not any(s.known for s in generator(known_ratio=0.0).take(200, NOW))
    assert all(s.known for s in generator(known_ratio=1.0).take(200, NOW))


def test_calls_have_the_lifecycle_in_order() -> None:
    calls = [s for s in generator(mix={"call": 1}).take(300, NOW)]
    transfers = 0
    for call in calls:
        types = [e.type for e in call.envelopes]
        assert types[0] == "ic.contact.started.v1" and types[-1] == "ic.contact.ended.v1"
        segments = [e.data for e in call.envelopes[1:-1]]
        kinds = [s.kind for s in segments]  # type: ignore[attr-defined]
        assert kinds[:2] == ["ivr", "queue"]
        if call.envelopes[-1].data.reason == "abandoned":  # type: ignore[attr-defined]
            assert kinds == ["ivr", "queue"]
            continue
        assert kinds[2] == "agent" and kinds[-1] == "wrap_up"
        agents = {s.agent_id for s in segments if s.kind == "agent"}  # type: ignore[attr-defined]
        if "transfer" in kinds:
            transfers += 1
            assert len(agents) == 2
        for before, after in pairwise(segments):
            assert before.ended_at == after.started_at  # type: ignore[attr-defined]
        assert segments[-1].ended_at == NOW  # type: ignore[attr-defined]
        assert re.fullmatch(r"\+[1-9]\d{6,14}", call.address)
    holds = [c for c in calls if "hold" in [e.data.kind for e in c.envelopes[1:-1]]]  # type: ignore[attr-defined]
    assert transfers > 20 and len(holds) > 20


def test_self_service_calls_never_reach_an_agent_and_emails_are_started_and_ended() -> None:
    ivr = generator(mix={"ivr": 1}).take(100, NOW)
    assert all([e.data.kind for e in s.envelopes[1:-1]] == ["ivr"] for s in ivr)  # type: ignore[attr-defined]
    emails = generator(mix={"email": 1}).take(100, NOW)
    assert all([e.type for e in s.envelopes] == ["ic.contact.started.v1", "ic.contact.ended.v1"] for s in emails)
    assert all("@" in s.address for s in emails)
    assert {s.envelopes[0].data.channel for s in emails} == {"email"}  # type: ignore[attr-defined]


def test_callback_requests_have_sensible_windows() -> None:
    requests = [s.envelopes[0].data for s in generator(mix={"callback": 1}).take(300, NOW)]
    windows = [r for r in requests if r.preferred_from is not None]  # type: ignore[attr-defined]
    assert 0 < len(windows) < len(requests)
    assert all(r.preferred_from < r.preferred_to for r in windows)  # type: ignore[attr-defined]
    assert any(r.preferred_from <= NOW for r in windows)  # some are open at once
    assert {r.channel for r in requests} == {"web", "ivr"}  # type: ignore[attr-defined]


def test_parse_mix() -> None:
    assert parse_mix("call=5, email=1") == {"call": 5.0, "email": 1.0}
    with pytest.raises(ValueError, match="unknown scenario kind"):
        parse_mix("chat=1")
    with pytest.raises(ValueError):
        parse_mix("call=0")


def test_calls_go_to_the_given_agents_only() -> None:
    calls = generator(mix={"call": 1}, agents=["a-1"]).take(100, NOW)
    agents = {e.data.agent_id for c in calls for e in c.envelopes[1:-1]} - {None}  # type: ignore[attr-defined]
    assert agents == {"a-1"}  # and so no transfers: there is no second agent
    assert not any("transfer" in [e.data.kind for e in c.envelopes[1:-1]] for c in calls)  # type: ignore[attr-defined]
