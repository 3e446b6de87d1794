"""The gateway commands of ``icsuite``: each calls exactly one path of CONTRACT.md.

A handler takes the parsed arguments and a :class:`Context` and returns ``(data, text)``: the JSON answer
(printed with ``--json``) and its readable form.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from . import output
from .gateway import Gateway, default_base_url, development_token

Result = tuple[Any, str]
Handler = Callable[[argparse.Namespace, "Context"], Result]

ACCOUNT_COLUMNS = ["account_id", "name", "kind", "score", "rank", "matched_by", "method", "phones", "emails",
                   "address"]
INTERACTION_COLUMNS = ["interaction_id", "status", "channel", "direction", "agent_ids", "agent_id", "opened_at",
                       "started_at", "outcome", "result", "reason_code", "contact_id"]
CALLBACK_COLUMNS = ["callback_id", "status", "priority", "reason_code", "callback_number", "account_id",
                    "agent_id", "preferred_from", "preferred_to", "due_at"]
ALERT_COLUMNS = ["alert_id", "severity", "status", "message", "account_id", "contact_id", "agent_id",
                 "raised_at"]
FOLLOWUP_COLUMNS = ["followup_id", "type", "status", "account_id", "due_at", "owner_id", "reason_code"]


@dataclass
class Context:
    """What every gateway command needs besides its own arguments."""

    transport: httpx.BaseTransport | None = None

    def gateway(self, service: str, args: argparse.Namespace, default_roles: list[str]) -> Gateway:
        token = args.token or os.environ.get("IC_TOKEN") or development_token(
            args.sub, args.role or default_roles, skills=args.skill, languages=args.language)
        return Gateway(service, args.base_url or default_base_url(service), token,
                       transport=self.transport, timeout=args.timeout)


def _call(ctx: Context, args: argparse.Namespace, service: str, method: str, path: str, *,
          params: dict[str, Any] | None = None, body: Any = None, roles: list[str] | None = None) -> Any:
    with ctx.gateway(service, args, roles or ["agent"]) as gateway:
        return gateway.call(method, path, params=params, json=body)


def _seg(value: str) -> str:
    return quote(value, safe="")


def _paging(args: argparse.Namespace) -> dict[str, Any]:
    return {"limit": args.limit, "cursor": args.cursor}


# --- identity -------------------------------------------------------------------------------------
def accounts_search(args: argparse.Namespace, ctx: Context) -> Result:
    params = {"phone": args.phone, "email": args.email, "name": args.name, "postcode": args.postcode,
              "account_id": args.account_id, "business_agreement_id": args.business_agreement_id,
              "street": args.street}
    if not any(params.values()):
        raise SystemExit("error: give --phone, --email, --account-id, --business-agreement-id, "
                         "--name with --postcode, or --street with --postcode")
    data = _call(ctx, args, "identity", "GET", "/v1/accounts/search", params={**params, **_paging(args)})
    return data, output.page(data, ACCOUNT_COLUMNS)


def accounts_show(args: argparse.Namespace, ctx: Context) -> Result:
    data = _call(ctx, args, "identity", "GET", f"/v1/accounts/{_seg(args.account_id)}")
    return data, output.record(data)


def accounts_timeline(args: argparse.Namespace, ctx: Context) -> Result:
    params = {"channel": args.channel, "agent_id": args.agent, "outcome": args.outcome, "status": args.status,
              "from": args.since, "to": args.until, **_paging(args)}
    data = _call(ctx, args, "interactions", "GET", f"/v1/accounts/{_seg(args.account_id)}/interactions",
                 params=params)
    return data, output.page(data, INTERACTION_COLUMNS)


def contacts_context(args: argparse.Namespace, ctx: Context) -> Result:
    data = _call(ctx, args, "identity", "GET", f"/v1/contacts/{_seg(args.contact_id)}/context")
    return data, output.record(data)


def contacts_confirm(args: argparse.Namespace, ctx: Context) -> Result:
    body = {"account_id": args.account, "business_agreement_id": args.business_agreement,
            "premise_id": args.premise}
    data = _call(ctx, args, "identity", "PUT", f"/v1/contacts/{_seg(args.contact_id)}/context",
                 body={k: v for k, v in body.items() if v is not None})
    return data, output.record(data or {"confirmed": True})


# --- interactions ---------------------------------------------------------------------------------
def interactions_list(args: argparse.Namespace, ctx: Context) -> Result:
    params = {"agent_id": args.agent, "contact_id": args.contact, "status": args.status, **_paging(args)}
    data = _call(ctx, args, "interactions", "GET", "/v1/interactions", params=params)
    return data, output.page(data, INTERACTION_COLUMNS)


def interactions_show(args: argparse.Namespace, ctx: Context) -> Result:
    data = _call(ctx, args, "interactions", "GET", f"/v1/interactions/{_seg(args.interaction_id)}")
    return data, output.record(data)


def interactions_complete(args: argparse.Namespace, ctx: Context) -> Result:
    body = {"outcome": args.outcome, "result": args.result, "reason_code": args.reason_code}
    data = _call(ctx, args, "interactions", "POST", f"/v1/interactions/{_seg(args.interaction_id)}/complete",
                 body={k: v for k, v in body.items() if v is not None})
    return data, output.record(data or {"interaction_id": args.interaction_id, "status": "closed"})


def interactions_note(args: argparse.Namespace, ctx: Context) -> Result:
    body = {"type": args.type, "language": args.language, "text": args.text}
    data = _call(ctx, args, "interactions", "POST", f"/v1/interactions/{_seg(args.interaction_id)}/notes",
                 body=body)
    return data, output.record(data or body)


# --- callbacks ------------------------------------------------------------------------------------
def callbacks_inbox(args: argparse.Namespace, ctx: Context) -> Result:
    path = f"/v1/agents/{_seg(args.agent)}/inbox" if args.agent else "/v1/inbox"
    data = _call(ctx, args, "callbacks", "GET", path, params=_paging(args))
    return data, output.page(data, CALLBACK_COLUMNS)


def callbacks_show(args: argparse.Namespace, ctx: Context) -> Result:
    data = _call(ctx, args, "callbacks", "GET", f"/v1/callbacks/{_seg(args.callback_id)}")
    return data, output.record(data)


def callbacks_claim_next(args: argparse.Namespace, ctx: Context) -> Result:
    data = _call(ctx, args, "callbacks", "POST", "/v1/callbacks/claim-next")
    return data, output.record(data) if data else "Nothing to claim: the general inbox is empty."


def _callback_action(action: str, body_of: Callable[[argparse.Namespace], dict[str, Any] | None]) -> Handler:
    def handler(args: argparse.Namespace, ctx: Context) -> Result:
        body = body_of(args)
        data = _call(ctx, args, "callbacks", "POST", f"/v1/callbacks/{_seg(args.callback_id)}/{action}",
                     body=None if body is None else {k: v for k, v in body.items() if v is not None})
        return data, output.record(data or {"callback_id": args.callback_id, "action": action})

    return handler


callbacks_claim = _callback_action("claim", lambda a: None)
callbacks_start = _callback_action("start", lambda a: {"dial": a.dial})
callbacks_complete = _callback_action("complete", lambda a: {"outcome": a.outcome})
callbacks_fail = _callback_action("fail", lambda a: {"retain": a.retain, "reason": a.reason})


# --- alerts and follow-ups ------------------------------------------------------------------------
def alerts_list(args: argparse.Namespace, ctx: Context) -> Result:
    params = {"agent_id": args.agent, "contact_id": args.contact, "account_id": args.account,
              "status": args.status, **_paging(args)}
    data = _call(ctx, args, "alerts", "GET", "/v1/alerts", params=params)
    return data, output.page(data, ALERT_COLUMNS)


def alerts_ack(args: argparse.Namespace, ctx: Context) -> Result:
    data = _call(ctx, args, "alerts", "POST", f"/v1/alerts/{_seg(args.alert_id)}/ack")
    return data, output.record(data or {"alert_id": args.alert_id, "status": "acknowledged"})


def followups_list(args: argparse.Namespace, ctx: Context) -> Result:
    data = _call(ctx, args, "followups", "GET", f"/v1/accounts/{_seg(args.account_id)}/followups",
                 params={"status": args.status, **_paging(args)})
    return data, output.page(data, FOLLOWUP_COLUMNS)
