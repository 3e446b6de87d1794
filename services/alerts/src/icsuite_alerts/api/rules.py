"""Rules: administrators write them, every staff role reads them; supervisors backtest drafts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Response
from icsuite_chassis.auth import Admin, AnyStaff
from icsuite_chassis.pagination import CursorParam, Limit, Page, decode_cursor, encode_cursor

from ..domain.errors import InvalidPeriod
from ..domain.evaluation import Match
from ..alert_events import alert_fields
from ..schemas import AlertOut, BacktestBody, BacktestOut, RuleBody, RuleOut
from .deps import Service, SupervisorOrAdmin

router = APIRouter(tags=["rules"])


@router.get("/rules", response_model=Page[RuleOut], summary="List the rules")
async def list_rules(svc: Service, _: AnyStaff, limit: Limit = 50, cursor: CursorParam = None) -> Page[RuleOut]:
    after = (decode_cursor(cursor, required_keys=("id",)) or {}).get("id")
    records = [r for r in await svc.rule_queries.all() if after is None or r.rule.rule_id > str(after)]
    page = records[:limit]
    next_cursor = encode_cursor({"id": page[-1].rule.rule_id}) if len(records) > limit else None
    return Page[RuleOut](items=[RuleOut.of(r, svc.cache.failures.get(r.rule.rule_id)) for r in page],
                         next_cursor=next_cursor)


@router.post("/rules", response_model=RuleOut, status_code=201, summary="Create a rule",
             responses={422: {"description": "the rule does not compile; the problem names field and position"}})
async def create_rule(body: RuleBody, svc: Service, principal: Admin, response: Response) -> RuleOut:
    record = await svc.create_rule(body.to_spec(), by=principal.sub)
    response.headers["Location"] = f"/v1/rules/{record.rule.rule_id}"
    return RuleOut.of(record)


@router.post("/rules/backtest", response_model=BacktestOut,
             summary="Run a draft rule over the kept events of a past period, raising nothing")
async def backtest(body: BacktestBody, svc: Service, _: SupervisorOrAdmin) -> BacktestOut:
    max_days = svc.settings.backtest_max_period_days
    if body.end < body.start or body.end - body.start > timedelta(days=max_days):
        raise InvalidPeriod(f"'to' must follow 'from' by at most {max_days} days")
    result = await svc.backtest(body.rule.to_spec(), start=body.start, end=body.end)
    alerts = [AlertOut(**_would_raise(m)) for m in result.matches]
    stopped = result.stopped or ("max_events" if result.events_replayed >= svc.settings.backtest_max_events else None)
    return BacktestOut(start=body.start, end=body.end, count=len(alerts), alerts=alerts,
                       events_replayed=result.events_replayed, triggers_evaluated=result.triggers_evaluated,
                       truncated=stopped is not None, truncated_by=stopped, rule_errors=len(result.failures),
                       rule_error=result.failures[0].message if result.failures else None,
                       absences_undecided=result.absences_undecided)


def _would_raise(match: Match) -> dict[str, Any]:
    return {**alert_fields(match), "trigger_type": match.trigger_type}


@router.get("/rules/{rule_id}", response_model=RuleOut, summary="One rule")
async def get_rule(rule_id: str, svc: Service, _: AnyStaff) -> RuleOut:
    return RuleOut.of(await svc.rule(rule_id), svc.cache.failures.get(rule_id))


@router.get("/rules/{rule_id}/versions", summary="The saved versions of a rule, oldest first")
async def rule_versions(rule_id: str, svc: Service, _: AnyStaff) -> dict[str, Any]:
    return {"items": list((await svc.rule(rule_id, history=True)).history), "next_cursor": None}


@router.put("/rules/{rule_id}", response_model=RuleOut, summary="Save a new version of a rule")
async def replace_rule(rule_id: str, body: RuleBody, svc: Service, principal: Admin) -> RuleOut:
    return RuleOut.of(await svc.replace_rule(rule_id, body.to_spec(), by=principal.sub))


@router.delete("/rules/{rule_id}", status_code=204, summary="Delete a rule")
async def delete_rule(rule_id: str, svc: Service, principal: Admin) -> Response:
    await svc.delete_rule(rule_id, by=principal.sub)
    return Response(status_code=204)
