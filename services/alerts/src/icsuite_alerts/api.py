"""HTTP gateway of the alerts service: rules (admin writes, staff reads), backtest, alerts, the SSE stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from icsuite_chassis.auth import Admin, AnyStaff, Principal, require_roles
from icsuite_chassis.pagination import CursorParam, Limit, Page, decode_cursor, encode_cursor
from icsuite_chassis.problems import Conflict, Forbidden, NotFound, Unprocessable

from . import handlers as h
from .domain.evaluation import Match
from .domain.rules import RuleInvalid
from .schemas import AlertOut, BacktestBody, BacktestOut, RuleBody, RuleOut
from .stream import alert_events, audience

router = APIRouter(prefix="/v1")
SupervisorOrAdmin = Annotated[Principal, Depends(require_roles("supervisor", "admin"))]


def service(request: Request) -> h.AlertsService:
    return request.app.state.service  # type: ignore[no-any-return]


Service = Annotated[h.AlertsService, Depends(service)]


def invalid_rule(exc: RuleInvalid) -> Unprocessable:
    error = {"field": exc.field, "error": exc.message, "kind": exc.kind,
             "position": exc.position.as_dict() if exc.position else None}
    return Unprocessable(f"{exc.field}: {exc.message}", slug="invalid-rule", title="Invalid rule", **error,
                         errors=[error])


def is_supervisor(principal: Principal) -> bool:
    return principal.has_any("supervisor", "admin")


def require_own(principal: Principal, agent_id: str | None) -> None:
    if not is_supervisor(principal) and agent_id != principal.sub:
        raise Forbidden("agents may only read their own alerts", agent_id=agent_id)


# ---- rules --------------------------------------------------------------------------------------------
@router.get("/rules", response_model=Page[RuleOut], tags=["rules"], summary="List the rules")
async def list_rules(svc: Service, _: AnyStaff, limit: Limit = 50, cursor: CursorParam = None) -> Page[RuleOut]:
    after = (decode_cursor(cursor, required_keys=("id",)) or {}).get("id")
    docs = [d for d in await svc.rules.all() if after is None or d["_id"] > str(after)]
    page = docs[:limit]
    next_cursor = encode_cursor({"id": page[-1]["_id"]}) if len(docs) > limit else None
    return Page[RuleOut](items=[RuleOut.of(d) for d in page], next_cursor=next_cursor)


@router.post("/rules", response_model=RuleOut, status_code=201, tags=["rules"], summary="Create a rule",
             responses={422: {"description": "the rule does not compile; the problem names field and position"}})
async def create_rule(body: RuleBody, svc: Service, principal: Admin, response: Response) -> RuleOut:
    try:
        doc = await svc.create_rule(body.to_spec(), by=principal.sub)
    except RuleInvalid as exc:
        raise invalid_rule(exc) from None
    response.headers["Location"] = f"/v1/rules/{doc['_id']}"
    return RuleOut.of(doc)


@router.post("/rules/backtest", response_model=BacktestOut, tags=["rules"],
             summary="Run a draft rule over the kept events of a past period, raising nothing")
async def backtest(body: BacktestBody, svc: Service, _: SupervisorOrAdmin, request: Request) -> BacktestOut:
    max_days = request.app.state.settings.backtest_max_period_days
    if body.end < body.start or body.end - body.start > timedelta(days=max_days):
        raise Unprocessable(f"'to' must follow 'from' by at most {max_days} days", slug="invalid-period")
    try:
        result = await svc.backtest(body.rule.to_spec(), start=body.start, end=body.end)
    except RuleInvalid as exc:
        raise invalid_rule(exc) from None
    alerts = [AlertOut(**_would_raise(m)) for m in result.matches]
    return BacktestOut(start=body.start, end=body.end, count=len(alerts), alerts=alerts,
                       events_replayed=result.events_replayed, triggers_evaluated=result.triggers_evaluated,
                       truncated=result.events_replayed >= svc.backtest_max_events)


def _would_raise(match: Match) -> dict[str, Any]:
    return {**h.alert_fields(match), "trigger_type": match.trigger_type}


@router.get("/rules/{rule_id}", response_model=RuleOut, tags=["rules"], summary="One rule")
async def get_rule(rule_id: str, svc: Service, _: AnyStaff) -> RuleOut:
    doc = await svc.rules.get(rule_id)
    if doc is None:
        raise NotFound(f"no rule {rule_id!r}")
    return RuleOut.of(doc)


@router.get("/rules/{rule_id}/versions", tags=["rules"], summary="The saved versions of a rule, oldest first")
async def rule_versions(rule_id: str, svc: Service, _: AnyStaff) -> dict[str, Any]:
    doc = await svc.rules.get(rule_id, history=True)
    if doc is None:
        raise NotFound(f"no rule {rule_id!r}")
    return {"items": doc.get("history", []), "next_cursor": None}


@router.put("/rules/{rule_id}", response_model=RuleOut, tags=["rules"], summary="Save a new version of a rule")
async def replace_rule(rule_id: str, body: RuleBody, svc: Service, principal: Admin) -> RuleOut:
    try:
        return RuleOut.of(await svc.replace_rule(rule_id, body.to_spec(), by=principal.sub))
    except RuleInvalid as exc:
        raise invalid_rule(exc) from None
    except h.RuleNotFound:
        raise NotFound(f"no rule {rule_id!r}") from None
    except h.RuleChanged:
        raise Conflict("the rule was changed meanwhile; read it again and retry") from None


@router.delete("/rules/{rule_id}", status_code=204, tags=["rules"], summary="Delete a rule")
async def delete_rule(rule_id: str, svc: Service, _: Admin) -> Response:
    try:
        await svc.delete_rule(rule_id)
    except h.RuleNotFound:
        raise NotFound(f"no rule {rule_id!r}") from None
    return Response(status_code=204)


# ---- alerts -------------------------------------------------------------------------------------------
@router.get("/alerts", response_model=Page[AlertOut], tags=["alerts"], summary="Raised alerts, newest first")
async def list_alerts(svc: Service, principal: AnyStaff, agent_id: str | None = None, contact_id: str | None = None,
                      account_id: str | None = None, status: Annotated[str | None, Query(pattern="^(open|acknowledged)$")] = None,
                      limit: Limit = 50, cursor: CursorParam = None) -> Page[AlertOut]:
    if not is_supervisor(principal):
        require_own(principal, agent_id or principal.sub)
        agent_id = principal.sub
    filters = {k: v for k, v in {"agent_id": agent_id, "contact_id": contact_id, "account_id": account_id,
                                 "status": status}.items() if v is not None}
    position = decode_cursor(cursor, required_keys=("p",))
    before = int(position["p"]) if position and str(position["p"]).isdigit() else None
    docs = await svc.alerts.page(filters, before=before, limit=limit + 1)
    page = docs[:limit]
    next_cursor = encode_cursor({"p": page[-1]["position"]}) if len(docs) > limit else None
    return Page[AlertOut](items=[AlertOut(**d) for d in page], next_cursor=next_cursor)


@router.get("/alerts/{alert_id}", response_model=AlertOut, tags=["alerts"], summary="One alert")
async def get_alert(alert_id: str, svc: Service, principal: AnyStaff) -> AlertOut:
    doc = await svc.alerts.get(alert_id)
    if doc is None:
        raise NotFound(f"no alert {alert_id!r}")
    require_own(principal, doc.get("agent_id"))
    return AlertOut(**doc)


@router.post("/alerts/{alert_id}/ack", response_model=AlertOut, tags=["alerts"], summary="Acknowledge an alert")
async def acknowledge(alert_id: str, svc: Service, principal: AnyStaff) -> AlertOut:
    doc = await svc.alerts.get(alert_id)
    if doc is None:
        raise NotFound(f"no alert {alert_id!r}")
    require_own(principal, doc.get("agent_id"))
    try:
        return AlertOut(**await svc.acknowledge(alert_id, by=principal.sub))
    except h.AlertNotOpen:
        raise Conflict(f"alert {alert_id!r} is already acknowledged") from None


@router.get("/agents/{agent_id}/alerts/stream", tags=["alerts"], response_class=StreamingResponse,
            summary="Server-sent events: `id: <position>`, `event: alert`, `data: <alert>`; resumes after Last-Event-ID")
async def alert_stream(agent_id: str, request: Request, principal: AnyStaff,
                       last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                       last_event_id: Annotated[str | None, Query(max_length=20)] = None,
                       max_events: Annotated[int | None, Query(ge=1, le=10_000)] = None,
                       timeout_s: Annotated[float | None, Query(gt=0, le=3600)] = None) -> StreamingResponse:
    require_own(principal, agent_id)
    raw = last_event_id_header if last_event_id_header is not None else last_event_id
    if raw is not None and not raw.strip().isdigit():
        raise Unprocessable("Last-Event-ID must be a stream position (a non-negative integer)",
                            slug="invalid-last-event-id")
    state = request.app.state
    events = alert_events(state.service.alerts, state.horizon,
                          audience_filter=audience(agent_id, include_supervisor_alerts=(
                              principal.sub == agent_id and is_supervisor(principal))),
                          after=int(raw) if raw is not None else None, keepalive_s=state.settings.stream_keepalive_s,
                          max_events=max_events, max_duration_s=timeout_s,
                          open_since=datetime.now(UTC) - timedelta(seconds=state.settings.stream_open_window_s))
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# ---- facts --------------------------------------------------------------------------------------------
@router.get("/accounts/{account_id}/facts", tags=["facts"], summary="The facts of an account as rules see them now")
async def account_facts(account_id: str, svc: Service, _: AnyStaff) -> dict[str, Any]:
    facts = await svc.facts_now(account_id)
    if facts is None:
        raise NotFound(f"no facts known for account {account_id!r}")
    return {"account_id": account_id, "facts": facts}
