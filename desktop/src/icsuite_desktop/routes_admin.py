"""Administration of alert rules: list, edit with compile errors inline, backtest a draft, enable, versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from .gateways import Gateways, GatewayProblem
from .routes_history import utc_moment
from .session import AdminUser
from .web import render

router = APIRouter(include_in_schema=False)
SEVERITIES = ("info", "warning", "critical")
TARGETS = ("agent", "supervisors")
RULE_FIELDS = ("name", "triggers", "condition", "severity", "message", "target", "dedupe_window_s", "enabled")


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


class RuleForm:
    """The editor's fields as typed, turned into the gateway's rule body."""

    def __init__(self, name: str, triggers: str, condition: str, severity: str, message: str, target: str,
                 dedupe_window_s: str, enabled: str | None):
        self.values = {"name": name, "triggers": triggers, "condition": condition, "severity": severity,
                       "message": message, "target": target, "dedupe_window_s": dedupe_window_s,
                       "enabled": enabled is not None}

    def body(self) -> dict[str, Any]:
        values = self.values
        try:
            window = int(values["dedupe_window_s"] or 0)
        except ValueError:
            raise GatewayProblem(422, "Invalid rule", "dedupe_window_s: a whole number of seconds", "desktop",
                                 {"field": "dedupe_window_s", "error": "a whole number of seconds"}) from None
        triggers = [t.strip() for t in values["triggers"].replace(",", "\n").splitlines() if t.strip()]
        return {"name": values["name"], "triggers": triggers, "condition": values["condition"],
                "severity": values["severity"], "message": values["message"], "target": values["target"],
                "dedupe_window_s": window, "enabled": values["enabled"]}

    @classmethod
    def of_rule(cls, rule: dict[str, Any]) -> RuleForm:
        return cls(rule["name"], "\n".join(rule["triggers"]), rule["condition"], rule["severity"], rule["message"],
                   rule["target"], str(rule["dedupe_window_s"]), "on" if rule["enabled"] else None)


async def rule_form(name: Annotated[str, Form(max_length=200)], triggers: Annotated[str, Form(max_length=4000)],
                    condition: Annotated[str, Form(max_length=20_000)], severity: Annotated[str, Form(max_length=16)],
                    message: Annotated[str, Form(max_length=4000)], target: Annotated[str, Form(max_length=16)],
                    dedupe_window_s: Annotated[str, Form(max_length=12)] = "3600",
                    enabled: Annotated[str | None, Form(max_length=8)] = None) -> RuleForm:
    return RuleForm(name, triggers, condition, severity, message, target, dedupe_window_s, enabled)


RuleFormDep = Annotated[RuleForm, Depends(rule_form)]


def field_errors(problem: GatewayProblem) -> dict[str, str]:
    """Where the gateway says the rule is wrong: its field, with the position of a compile error."""
    errors: dict[str, str] = {}
    for error in problem.extensions.get("errors") or [problem.extensions]:
        field = str(error.get("field") or "")
        if field not in RULE_FIELDS:
            field = next((f for f in RULE_FIELDS if f in str(error.get("loc", ""))), "")
        position = error.get("position") or {}
        where = f" (line {position.get('line')}, column {position.get('column')})" if position.get("line") else ""
        errors[field or "rule"] = f"{error.get('error') or error.get('msg') or problem.detail}{where}"
    return errors


def editor_context(form: RuleForm, rule: dict[str, Any] | None, *, problem: GatewayProblem | None = None,
                   message: str = "", versions: list | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"form": form.values, "rule": rule, "errors": field_errors(problem) if problem else {},
            "problem": problem, "message": message, "severities": SEVERITIES, "targets": TARGETS,
            "versions": versions or [], "backtest_from": (now - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
            "backtest_to": (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")}


def _editor(request: Request, form: RuleForm, rule: dict[str, Any] | None, *, status: int = 200,
            **options: Any) -> Response:
    return render(request, "partials/rule_editor.html", status=status, **editor_context(form, rule, **options))


@router.get("/admin/rules", response_class=HTMLResponse)
async def rules_page(request: Request, user: AdminUser) -> Response:
    page = await gateways(request).call("alerts", "GET", "/v1/rules", user.token, params={"limit": 200})
    return render(request, "rules.html", active="admin", rules=page.get("items") or [])


@router.get("/admin/rules/new", response_class=HTMLResponse)
async def new_rule(request: Request, user: AdminUser) -> Response:
    form = RuleForm("", "ic.identity.contact-identified.v1", "facts.dunning_level >= 3", "warning",
                    "Dunning level {facts.dunning_level}", "agent", "3600", None)
    return render(request, "rule.html", active="admin", **editor_context(form, None))


@router.get("/admin/rules/{rule_id}", response_class=HTMLResponse)
async def edit_rule(request: Request, rule_id: str, user: AdminUser) -> Response:
    gw = gateways(request)
    rule = await gw.call("alerts", "GET", f"/v1/rules/{rule_id[:128]}", user.token)
    versions = await gw.call("alerts", "GET", f"/v1/rules/{rule_id[:128]}/versions", user.token)
    return render(request, "rule.html", active="admin",
                  **editor_context(RuleForm.of_rule(rule), rule, versions=versions.get("items") or []))


async def _versions(gw: Gateways, token: str, rule_id: str) -> list[dict[str, Any]]:
    return (await gw.call("alerts", "GET", f"/v1/rules/{rule_id}/versions", token)).get("items") or []


@router.post("/admin/rules", response_class=HTMLResponse)
async def create_rule(request: Request, user: AdminUser, form: RuleFormDep) -> Response:
    try:
        rule = await gateways(request).call("alerts", "POST", "/v1/rules", user.token, json=form.body())
    except GatewayProblem as exc:
        if exc.status != 422:
            raise
        return _editor(request, form, None, status=422, problem=exc)
    return Response(status_code=201, headers={"HX-Redirect": f"/admin/rules/{rule['rule_id']}"})


@router.post("/admin/rules/{rule_id}", response_class=HTMLResponse)
async def save_rule(request: Request, rule_id: str, user: AdminUser, form: RuleFormDep) -> Response:
    gw, rule_id = gateways(request), rule_id[:128]
    try:
        rule = await gw.call("alerts", "PUT", f"/v1/rules/{rule_id}", user.token, json=form.body())
    except GatewayProblem as exc:
        if exc.status != 422:
            raise
        current = await gw.call("alerts", "GET", f"/v1/rules/{rule_id}", user.token)
        return _editor(request, form, current, status=422, problem=exc,
                       versions=await _versions(gw, user.token, rule_id))
    return _editor(request, RuleForm.of_rule(rule), rule, message=f"Saved as version {rule['version']}.",
                   versions=await _versions(gw, user.token, rule_id))


@router.post("/admin/rules/{rule_id}/enabled", response_class=HTMLResponse)
async def set_enabled(request: Request, rule_id: str, user: AdminUser,
                      enabled: Annotated[str, Form(pattern="^(true|false)$")]) -> Response:
    gw, rule_id = gateways(request), rule_id[:128]
    current = await gw.call("alerts", "GET", f"/v1/rules/{rule_id}", user.token)
    body = {**RuleForm.of_rule(current).body(), "enabled": enabled == "true"}
    rule = await gw.call("alerts", "PUT", f"/v1/rules/{rule_id}", user.token, json=body)
    state = "enabled" if rule["enabled"] else "disabled"
    return _editor(request, RuleForm.of_rule(rule), rule, message=f"The rule is {state} (version {rule['version']}).",
                   versions=await _versions(gw, user.token, rule_id))


@router.post("/admin/rules-backtest", response_class=HTMLResponse)
async def backtest(request: Request, user: AdminUser, form: RuleFormDep,
                   start: Annotated[str, Form(max_length=32)], end: Annotated[str, Form(max_length=32)]) -> Response:
    body = {"rule": form.body(), "from": utc_moment(start), "to": utc_moment(end)}
    try:
        result = await gateways(request).call("alerts", "POST", "/v1/rules/backtest", user.token, json=body)
    except GatewayProblem as exc:
        if exc.status != 422:
            raise
        return render(request, "partials/backtest.html", status=422, result=None, problem=exc,
                      errors=field_errors(exc))
    return render(request, "partials/backtest.html", result=result, problem=None, errors={})
