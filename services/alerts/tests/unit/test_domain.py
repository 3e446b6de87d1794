"""Facts and contact projections, templates, rule validation, evaluation with de-duplication, backtest."""

from datetime import UTC, datetime, timedelta

import pytest

from icsuite_alerts.domain.backtest import run_backtest
from icsuite_alerts.domain.contacts import ContactState, apply_to_contact, resolve
from icsuite_alerts.domain.evaluation import DedupeRecord, RuleBook, dedupe_allows, evaluate
from icsuite_alerts.domain.expressions import Symbols, compile_expression
from icsuite_alerts.domain.facts import FACT_TYPES, AccountState, apply_to_account, derive_facts
from icsuite_alerts.domain.observations import observe
from icsuite_alerts.domain.rules import STANDARD_RULES, Rule, RuleInvalid, RuleSpec, compile_rule
from icsuite_alerts.domain.templates import parse_template

pytestmark = [pytest.mark.unit]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
_seq = iter(range(10**6))


def obs(ce_type: str, time: datetime = T0, **data):
    return observe(event_id=f"e-{next(_seq)}", ce_type=ce_type, time=time, data=data)


def project(*observations) -> AccountState:
    state = AccountState()
    for o in observations:
        state = apply_to_account(state, o) or state
    return state


def identified(contact: str, account: str | None = "acc-1", time: datetime = T0, **extra):
    data = {"contact_id": contact, "account_id": account, "method": "auto_number", "confirmed": False, **extra}
    return obs("ic.identity.contact-identified.v1", time, **data)


def test_facts_follow_master_data_versions_callbacks_followups_and_outcomes() -> None:
    agreement = "ic.masterdata.business-agreement-upserted.v1"
    state = project(
        obs(agreement, business_agreement_id="ba-1", source_version=2, balance=300.0, dunning_level=2),
        obs(agreement, business_agreement_id="ba-1", source_version=1, balance=9999.0, dunning_level=9),
        obs(agreement, business_agreement_id="ba-2", source_version=1, balance=250.5, dunning_level=1),
        obs("ic.masterdata.account-upserted.v1", source_version=3, flags=["vip"]),
        obs("ic.masterdata.account-upserted.v1", source_version=2, flags=["old"]),
        obs("ic.callback.queued.v1", callback_id="cb-1"), obs("ic.callback.claimed.v1", callback_id="cb-2"),
        obs("ic.callback.attempt-failed.v1", callback_id="cb-2", final=True),
        obs("ic.followup.overdue.v1", followup_id="fu-1"), obs("ic.followup.overdue.v1", followup_id="fu-2"),
        obs("ic.followup.status-changed.v1", followup_id="fu-2", new_status="cancelled"),
        obs("ic.interaction.closed.v1", T0, outcome="resolved"),
        obs("ic.interaction.closed.v1", T0 - timedelta(hours=1), outcome="older"),
    )
    facts = derive_facts(state, T0)
    assert facts == {"balance": 550.5, "dunning_level": 2, "flags": ["vip"], "open_callbacks": 1,
                     "overdue_followups": 1, "contacts_last_7d": 0, "contacts_last_30d": 0,
                     "last_interaction_outcome": "resolved", "credit_status": None, "overdue_bills": 0,
                     "overdue_amount": 0.0}


def test_contacts_are_counted_once_each_within_7_and_30_days() -> None:
    state = project(identified("c-1", time=T0 - timedelta(days=20)), identified("c-2", time=T0 - timedelta(days=3)),
                    identified("c-2", time=T0 - timedelta(days=2)),
                    obs("ic.interaction.opened.v1", T0, interaction_id="i-1", contact_id="c-3", account_id="acc-1"),
                    obs("ic.interaction.opened.v1", T0, interaction_id="i-2", contact_id=None, account_id="acc-1"))
    facts = derive_facts(state, T0)
    assert (facts["contacts_last_7d"], facts["contacts_last_30d"]) == (3, 4)
    assert derive_facts(state, T0 + timedelta(days=40))["contacts_last_30d"] == 0


def test_the_contact_projection_prefers_confirmed_accounts_and_tracks_the_agent() -> None:
    state = ContactState()
    for o in (obs("ic.contact.started.v1", contact_id="c-1", account_hint="acc-hint"),
              identified("c-1", "acc-confirmed", confirmed=True),
              obs("ic.contact.started.v1", contact_id="c-1", account_hint="acc-late-hint"),
              obs("ic.contact.segment.v1", contact_id="c-1", kind="queue", agent_id=None),
              obs("ic.contact.segment.v1", contact_id="c-1", kind="agent", agent_id="a-9")):
        state = apply_to_contact(state, o) or state
    assert (state.account_id, state.agent_id) == ("acc-confirmed", "a-9")
    assert resolve(obs("ic.contact.ended.v1", contact_id="c-1"), state) == ("acc-confirmed", "a-9")
    assert apply_to_contact(state, obs("ic.contact.segment.v1", contact_id="c-1", kind="agent", agent_id="a-9")) is None


def test_templates_render_placeholders_and_refuse_unknown_ones() -> None:
    template = parse_template("Level {facts.dunning_level} for {event.contact_id} {{literal}} {facts.balance}",
                              fact_names={"dunning_level", "balance"}, event_fields=frozenset({"contact_id"}))
    assert template.render({"facts": {"dunning_level": 2, "balance": 12.5}, "event": {"contact_id": "c-1"}}) == \
        "Level 2 for c-1 {literal} 12.50"
    for bad in ("{facts.nope}", "{event.nope}", "{account_id}", "{ facts }", "unclosed {", "stray }"):
        with pytest.raises(Exception) as caught:
            parse_template(bad, fact_names={"dunning_level"}, event_fields=frozenset({"contact_id"}))
        assert caught.value.position is not None  # type: ignore[attr-defined]


def spec(**overrides) -> RuleSpec:
    values = dict(name="r", triggers=("ic.identity.contact-identified.v1",), condition="facts.dunning_level >= 2",
                  severity="warning", message="Level {facts.dunning_level}", target="agent", dedupe_window_s=60)
    return RuleSpec(**{**values, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize("overrides, field", [
    ({"triggers": ("ic.unknown.v1",)}, "triggers"), ({"triggers": ()}, "triggers"),
    ({"triggers": ("ic.alert.raised.v1",)}, "triggers"), ({"condition": "facts.x"}, "condition"),
    ({"message": "{facts.x}"}, "message"), ({"dedupe_window_s": -1}, "dedupe_window_s"), ({"name": " "}, "name"),
])
def test_invalid_rules_name_the_field(overrides: dict, field: str) -> None:
    with pytest.raises(RuleInvalid) as caught:
        compile_rule(Rule("r-1", 1, spec(**overrides)))
    assert caught.value.field == field


def test_standard_rules_compile_and_fire_on_their_facts() -> None:
    book = RuleBook(STANDARD_RULES)
    assert book.count == len(STANDARD_RULES) == 7 and not book.broken
    facts = {"balance": 900.0, "dunning_level": 2, "flags": [], "open_callbacks": 1, "overdue_followups": 1,
             "contacts_last_7d": 3, "contacts_last_30d": 3, "last_interaction_outcome": None}
    o = identified("c-1")
    fired = evaluate(book.rules_for(o.type), event=o.activation_event(), facts=facts, event_id=o.event_id,
                     event_type=o.type, time=o.time, account_id="acc-1", contact_id="c-1", agent_id="a-1")
    assert {m.rule.rule_id for m in fired} == {r.rule_id for r in STANDARD_RULES if r.spec.after is None}
    assert [r.rule_id for r in book.unless["ic.callback.claimed.v1"]] == ["std-callback-unclaimed"]
    quiet = {**facts, "balance": 500.0, "dunning_level": 1, "open_callbacks": 0, "overdue_followups": 0,
             "contacts_last_7d": 2}
    assert evaluate(book.rules_for(o.type), event=o.activation_event(), facts=quiet, event_id=o.event_id,
                    event_type=o.type, time=o.time, account_id="acc-1", contact_id="c-1", agent_id="a-1") == []
    assert book.rules_for("ic.contact.ended.v1") == []


def test_dedupe_allows_once_per_window_and_the_same_alert_again() -> None:
    [match] = evaluate([compile_rule(Rule("r-1", 1, spec(condition="true")))], event={}, facts={}, event_id="e-1",
                       event_type="t", time=T0, account_id="a", contact_id="c", agent_id=None)
    assert dedupe_allows(None, match)
    assert dedupe_allows(DedupeRecord(T0, match.alert_id), match)
    assert not dedupe_allows(DedupeRecord(T0 - timedelta(seconds=59), "other"), match)
    assert dedupe_allows(DedupeRecord(T0 - timedelta(seconds=60), "other"), match)
    [no_window] = evaluate([compile_rule(Rule("r-2", 1, spec(condition="true", dedupe_window_s=0)))], event={},
                           facts={}, event_id="e-1", event_type="t", time=T0, account_id="a", contact_id="c",
                           agent_id=None)
    assert dedupe_allows(DedupeRecord(T0, "other"), no_window)
    assert dedupe_allows(DedupeRecord(T0 + timedelta(seconds=5), "other"), no_window)  # an older trigger too


def test_backtest_replays_projections_and_reports_only_the_period() -> None:
    rule = compile_rule(Rule("draft", 0, spec(condition="facts.contacts_last_7d >= 2", dedupe_window_s=3600)))
    events = [identified("c-1", time=T0), identified("c-2", time=T0 + timedelta(minutes=1)),
              identified("c-2", time=T0 + timedelta(minutes=2), agent_id="a-2"),
              identified("c-3", time=T0 + timedelta(days=1)), identified("c-4", None, time=T0 + timedelta(days=1))]
    result = run_backtest(rule, events, start=T0, end=T0 + timedelta(hours=1))
    assert [(m.contact_id, m.trigger_event_id) for m in result.matches] == [("c-2", events[1].event_id)]
    assert (result.events_replayed, result.triggers_evaluated) == (5, 3)
    later = run_backtest(rule, events, start=T0 + timedelta(hours=2), end=T0 + timedelta(days=2))
    assert [m.contact_id for m in later.matches] == ["c-3"]


def test_backtest_counts_erased_events_but_neither_projects_nor_triggers_on_them() -> None:
    from icsuite_alerts.domain.erasure import erased_observation

    rule = compile_rule(Rule("draft", 0, spec(condition="true", dedupe_window_s=0)))
    account = obs("ic.masterdata.account-upserted.v1", T0, account_id="acc-1", source_version=3, flags=["vip"])
    agreement = obs("ic.masterdata.business-agreement-upserted.v1", T0, account_id="acc-1",
                    business_agreement_id="ba-1", source_version=1, dunning_level=2)
    events = [erased_observation(account), erased_observation(agreement), erased_observation(identified("c-1")),
              identified("c-2", time=T0 + timedelta(minutes=1))]
    result = run_backtest(rule, events, start=T0, end=T0 + timedelta(hours=1))  # raised KeyError before
    assert (result.events_replayed, result.triggers_evaluated) == (4, 1)
    assert [m.contact_id for m in result.matches] == ["c-2"]


def test_credit_status_and_overdue_bills_come_from_the_agreements() -> None:
    def agreement(ba: str, version: int, credit: str, bills: list, time: datetime = T0):
        return obs("ic.masterdata.business-agreement-upserted.v1", time, business_agreement_id=ba, account_id="acc-1",
                   source_version=version, balance=10, currency="EUR", dunning_level=0, credit_status=credit,
                   open_bills=[{"bill_id": f"b-{i}", "amount": a, "due_date": d} for i, (a, d) in enumerate(bills)])

    state = project(agreement("ba-1", 1, "good", [(84.5, "2025-02-01"), (20, "2025-03-15")]),
                    agreement("ba-2", 1, "watch", [(10.25, "2025-01-10")], T0 + timedelta(minutes=1)))
    facts = derive_facts(state, T0)  # 2025-03-01: two bills are past due, one is not yet
    assert (facts["credit_status"], facts["overdue_bills"], facts["overdue_amount"]) == ("watch", 2, 94.75)
    later = derive_facts(state, T0 + timedelta(days=30))
    assert (later["overdue_bills"], later["overdue_amount"]) == (3, 114.75)
    paid = apply_to_account(state, agreement("ba-1", 2, "good", [], T0 + timedelta(minutes=2)))
    assert derive_facts(paid, T0)["overdue_bills"] == 1 and derive_facts(paid, T0)["credit_status"] == "good"
    assert apply_to_account(paid, agreement("ba-1", 1, "bad", [(5, "2020-01-01")])) is None  # older snapshot
    none = derive_facts(AccountState(), T0)
    assert (none["credit_status"], none["overdue_bills"], none["overdue_amount"]) == (None, 0, 0.0)


def test_has_says_whether_the_event_names_a_field_and_a_null_field_is_unset() -> None:
    symbols = Symbols(event_fields=None, fact_types=FACT_TYPES)
    with_account, without = identified("c-1").activation_event(), identified("c-2", account=None).activation_event()
    assert "account_id" not in without and "ce_subject" not in without and without["contact_id"] == "c-2"
    has_account = compile_expression("has(event.account_id) && !has(event.ce_subject)", symbols)
    assert has_account.matches({"event": with_account, "facts": {}})
    assert not has_account.matches({"event": without, "facts": {}})
    # inside a field, a map is CEL's map: a key with a null value is there
    assert compile_expression("has(event.attrs.k)", symbols).matches({"event": {"attrs": {"k": None}}, "facts": {}})


def callback_obs(model, callback_id: str, time: datetime):
    from icsuite_contracts.testing import sample_event

    data = sample_event(model).model_copy(update={"callback_id": callback_id, "account_id": None,
                                                  "scheduled_for": None} if "scheduled_for" in model.model_fields
                                          else {"callback_id": callback_id, "account_id": None})
    return observe(event_id=f"e-{next(_seq)}", ce_type=model.ce_type, time=time, data=data.model_dump(mode="json"),
                   correlation_id=f"req-{callback_id}")


def test_backtest_evaluates_absence_rules_with_their_deadlines_as_the_live_path() -> None:
    """Issue 17: an absence rule's match is raised at its due time unless an ``unless`` event of its
    aggregate came at or before it; one due after what the replay knows is undecided, not raised."""
    from icsuite_contracts.callbacks_v1 import CallbackClaimed, CallbackQueued

    from icsuite_alerts.domain.rules import Absence

    rule = compile_rule(Rule("draft", 0, spec(triggers=("ic.callback.queued.v1",), condition="true",
                                              dedupe_window_s=0, target="supervisors",
                                              after=Absence(60, ("ic.callback.claimed.v1",)))))
    minute = timedelta(minutes=1)
    events = [callback_obs(CallbackQueued, "cb-late", T0), callback_obs(CallbackQueued, "cb-in-time", T0),
              callback_obs(CallbackQueued, "cb-never", T0), callback_obs(CallbackQueued, "cb-edge", T0),
              callback_obs(CallbackClaimed, "cb-in-time", T0 + 0.5 * minute),
              callback_obs(CallbackClaimed, "cb-edge", T0 + minute),  # at the due time: still in time
              callback_obs(CallbackClaimed, "cb-other", T0 + 0.5 * minute),  # another aggregate
              callback_obs(CallbackClaimed, "cb-late", T0 + 2 * minute),  # after the due time: too late
              callback_obs(CallbackQueued, "cb-open", T0 + 10 * minute)]  # due after what is known
    result = run_backtest(rule, events, start=T0, end=T0 + timedelta(hours=1), decided_until=T0 + 10.5 * minute)
    raised = [(m.aggregate, m.raised_at, m.trigger_event_id) for m in result.matches]
    assert raised == [("cb-late", T0 + minute, events[0].event_id), ("cb-never", T0 + minute, events[2].event_id)]
    assert result.absences_undecided == 1 and result.triggers_evaluated == 5
    later = run_backtest(rule, events, start=T0, end=T0 + timedelta(hours=1), decided_until=T0 + 11 * minute)
    assert [m.aggregate for m in later.matches] == ["cb-late", "cb-never", "cb-open"]
    assert later.absences_undecided == 0
    # the live path's alert id: one per trigger event and rule
    from icsuite_alerts.domain.evaluation import alert_id_for

    assert later.matches[0].alert_id == alert_id_for(events[0].event_id, "draft")
