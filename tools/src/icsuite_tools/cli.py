"""``icsuite``: demo data, the channel simulator and a client of the five gateways.

Every command has ``--help``; gateway commands print a table (``--json`` for scripts) and exit non-zero
with the problem details when a gateway refuses. ``icsuite --help`` lists the commands.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from . import cli_gateway as gw
from . import output
from .cli_kafka import demo_load, demo_show, parse_rate, simulate_cmd
from .gateway import GatewayError, development_token
from .privacy_export import privacy_export

DESCRIPTION = ("Demo data, the channel simulator and a client of the five gateways. "
               "Every command has --help; gateway commands take --json.")
ROLES = ["agent", "supervisor", "admin", "channel"]
EXIT_PROBLEM = 1
EXIT_UNREACHABLE = 3


def _bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def _common(json_only: bool = False) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON for scripts instead of a table")
    if json_only:
        return common
    common.add_argument("--field", metavar="NAME",
                        help="print only this field of the answer (of each item, for a list)")
    common.add_argument("--base-url", help="the service's gateway (default: IC_<SERVICE>_URL, else "
                                           "http://127.0.0.1:<port of CONTRACT.md>)")
    common.add_argument("--token", help="a bearer token (default: IC_TOKEN, else one minted from "
                                        "IC_JWT_SECRET or the development secret)")
    common.add_argument("--role", action="append", choices=ROLES,
                        help="role of the minted token; repeat for several (default: agent)")
    common.add_argument("--sub", default="a-1", help="subject of the minted token: the agent (default a-1)")
    _agent_claims(common, prefix="--token-")
    common.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    return common


def _agent_claims(parser: argparse.ArgumentParser, prefix: str = "--") -> None:
    parser.add_argument(f"{prefix}skill", dest="skill", action="append",
                        help="a skill of the minted token's agent (claim skills); repeat for several. Without any "
                             "the agent has none and is offered only callbacks that need no skill")
    parser.add_argument(f"{prefix}language", dest="language", action="append",
                        help="a language of the minted token's agent (claim languages); repeat for several")


def _paging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, help="at most this many items")
    parser.add_argument("--cursor", help="continue after a previous page")


class _Builder:
    def __init__(self, root: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
        self.root = root
        self.common = _common()

    def group(self, name: str, help: str) -> argparse._SubParsersAction:  # type: ignore[type-arg]
        parser = self.root.add_parser(name, help=help, description=help)
        return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")

    def command(self, group: Any, name: str, handler: gw.Handler, help: str,
                paging: bool = False) -> argparse.ArgumentParser:
        parser = group.add_parser(name, help=help, description=help, parents=[self.common])
        parser.set_defaults(gateway_handler=handler)
        if paging:
            _paging(parser)
        return parser


def _identity(b: _Builder) -> None:
    accounts = b.group("accounts", "search accounts, show one, show its interaction timeline")
    search = b.command(accounts, "search", gw.accounts_search,
                       "GET /v1/accounts/search: ranked candidates (identity)", paging=True)
    for flag in ("--phone", "--email", "--name", "--postcode", "--account-id", "--business-agreement-id",
                 "--street"):
        search.add_argument(flag)
    b.command(accounts, "show", gw.accounts_show, "GET /v1/accounts/{id}: the account summary (identity)"
              ).add_argument("account_id")
    timeline = b.command(accounts, "timeline", gw.accounts_timeline,
                         "GET /v1/accounts/{id}/interactions: newest first (interactions)", paging=True)
    timeline.add_argument("account_id")
    for flag in ("--channel", "--agent", "--outcome"):
        timeline.add_argument(flag)
    timeline.add_argument("--status", choices=["open", "closed"])
    timeline.add_argument("--since", help="opened at or after (RFC 3339 with offset)")
    timeline.add_argument("--until", help="opened before (RFC 3339 with offset)")
    contacts = b.group("contacts", "a contact's business object context")
    b.command(contacts, "context", gw.contacts_context,
              "GET /v1/contacts/{id}/context: identification result and candidates (identity)"
              ).add_argument("contact_id")
    confirm = b.command(contacts, "confirm", gw.contacts_confirm,
                        "PUT /v1/contacts/{id}/context: confirm account, agreement, premise (identity)")
    confirm.add_argument("contact_id")
    confirm.add_argument("--account", required=True)
    confirm.add_argument("--business-agreement")
    confirm.add_argument("--premise")


def _interactions(b: _Builder) -> None:
    group = b.group("interactions", "list, show, annotate and complete interaction records")
    listing = b.command(group, "list", gw.interactions_list, "GET /v1/interactions?agent_id=&status=",
                        paging=True)
    listing.add_argument("--agent", help="the agent (default: the token's --sub)")
    listing.add_argument("--contact", help="the record of this contact")
    listing.add_argument("--status", choices=["open", "closed"])
    b.command(group, "show", gw.interactions_show, "GET /v1/interactions/{id}").add_argument("interaction_id")
    complete = b.command(group, "complete", gw.interactions_complete, "POST /v1/interactions/{id}/complete")
    complete.add_argument("interaction_id")
    complete.add_argument("--outcome", required=True)
    complete.add_argument("--result")
    complete.add_argument("--reason-code")
    note = b.command(group, "note", gw.interactions_note, "POST /v1/interactions/{id}/notes")
    note.add_argument("interaction_id")
    note.add_argument("--text", required=True)
    note.add_argument("--type", default="internal")
    note.add_argument("--language", default="en")


def _callbacks(b: _Builder) -> None:
    group = b.group("callbacks", "callback work items: inboxes, claim, start, complete, fail")
    b.command(group, "inbox", gw.callbacks_inbox, "GET /v1/inbox, or /v1/agents/{id}/inbox with --agent",
              paging=True).add_argument("--agent")
    b.command(group, "show", gw.callbacks_show, "GET /v1/callbacks/{id}").add_argument("callback_id")
    b.command(group, "claim-next", gw.callbacks_claim_next,
              "POST /v1/callbacks/claim-next: the most urgent item for the token's agent (--sub)")
    b.command(group, "claim", gw.callbacks_claim, "POST /v1/callbacks/{id}/claim: this item, for --sub"
              ).add_argument("callback_id")
    start = b.command(group, "start", gw.callbacks_start, "POST /v1/callbacks/{id}/start")
    start.add_argument("callback_id")
    start.add_argument("--dial", choices=["requested", "account"])
    complete = b.command(group, "complete", gw.callbacks_complete, "POST /v1/callbacks/{id}/complete")
    complete.add_argument("callback_id")
    complete.add_argument("--outcome", required=True)
    fail = b.command(group, "fail", gw.callbacks_fail,
                     "POST /v1/callbacks/{id}/fail: retain in own inbox (--retain) or release")
    fail.add_argument("callback_id")
    fail.add_argument("--retain", action="store_true")
    fail.add_argument("--reason")


def _alerts_followups(b: _Builder) -> None:
    group = b.group("alerts", "raised alerts")
    listing = b.command(group, "list", gw.alerts_list, "GET /v1/alerts?agent_id=&contact_id=&status=",
                        paging=True)
    listing.add_argument("--agent", help="an agent's alerts (agents see only their own)")
    listing.add_argument("--contact")
    listing.add_argument("--account")
    listing.add_argument("--status", choices=["open", "acknowledged"])
    b.command(group, "ack", gw.alerts_ack, "POST /v1/alerts/{id}/ack").add_argument("alert_id")
    followups = b.group("followups", "follow-up transactions")
    listing = b.command(followups, "list", gw.followups_list, "GET /v1/accounts/{id}/followups", paging=True)
    listing.add_argument("account_id")
    listing.add_argument("--status")


def _privacy(b: _Builder) -> None:
    group = b.group("privacy", "the data subject's copy of an account (administrators)")
    export = b.command(group, "export", privacy_export,
                       "collect what the five services hold about an account into a zip (one JSON file per "
                       "service, the attachments, manifest.json); recorded in identity's audit log")
    export.add_argument("account_id")
    export.add_argument("--out", help="the zip to write (default export-<account>.zip)")


def _kafka_commands(root: Any) -> None:
    json_only = _common(json_only=True)
    token = root.add_parser("token", help="print a development token", parents=[json_only],
                            description="Print a HS256 token signed with IC_JWT_SECRET or the development "
                                        "secret, as the services verify it.")
    token.add_argument("--role", action="append", choices=ROLES, help="repeat for several (default agent)")
    token.add_argument("--sub", default="a-1", help="the agent's or system's id (default a-1)")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="seconds until it expires")
    _agent_claims(token)
    token.set_defaults(handler=_token)
    demo = root.add_parser("demo", help="the demo data set", description="The demo data set.")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True, metavar="COMMAND")
    load = demo_commands.add_parser(
        "load", parents=[json_only], help="publish the demo master data and seed reason profiles",
        description="Publish the demo master data to ic.masterdata.v1 (idempotent: fixed event ids, "
                    "source_version 1) and create the reason profiles the callbacks service lacks.")
    load.add_argument("--bootstrap", default=_bootstrap(), help="Kafka (default KAFKA_BOOTSTRAP_SERVERS "
                                                                "or 127.0.0.1:9092)")
    load.add_argument("--gateway-base", help="the callbacks gateway (default IC_CALLBACKS_URL or :8003)")
    load.add_argument("--token", help="an admin token (default: minted)")
    load.add_argument("--no-profiles", action="store_true", help="skip the reason profiles")
    load.add_argument("--no-masterdata", action="store_true", help="skip the master data")
    load.set_defaults(handler=demo_load)
    show = demo_commands.add_parser("show", parents=[json_only], help="list the demo accounts",
                                    description="List the demo accounts, or with --numbers their phones.")
    show.add_argument("--numbers", action="store_true", help="only the known phone numbers")
    show.set_defaults(handler=demo_show)
    sim = root.add_parser("simulate", parents=[json_only], help="publish simulated contact traffic",
                          description="Publish calls (IVR, queue, agents, transfers, hold, wrap-up), "
                                      "self-service IVR calls, e-mails and web callback requests.")
    sim.add_argument("--bootstrap", default=_bootstrap(), help="Kafka (default KAFKA_BOOTSTRAP_SERVERS)")
    sim.add_argument("--rate", type=parse_rate, default=10.0,
                     help="contacts and callback requests per second, or 'max' (default 10)")
    sim.add_argument("--duration", type=float, help="seconds to run")
    sim.add_argument("--count", type=int, help="stop after this many contacts and callback requests")
    sim.add_argument("--known-ratio", type=float, default=0.7, help="share of known callers (default 0.7)")
    sim.add_argument("--mix", help="weights, e.g. call=55,ivr=15,email=15,callback=15 (the default)")
    sim.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sim.add_argument("--run-id", help="id prefix (default: fresh per run, so runs never collide)")
    sim.add_argument("--known-number", action="append", help="a known number (default: the demo numbers)")
    sim.add_argument("--agent", action="append", help="an agent id to route calls to (default a-1 ... a-20)")
    sim.add_argument("--quiet", action="store_true", help="no progress line")
    sim.set_defaults(handler=simulate_cmd)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="icsuite", description=DESCRIPTION)
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _kafka_commands(commands)
    builder = _Builder(commands)
    for add in (_identity, _interactions, _callbacks, _alerts_followups, _privacy):
        add(builder)
    return root


def _token(args: argparse.Namespace) -> int:
    roles = args.role or ["agent"]
    token = development_token(args.sub, roles, args.ttl, skills=args.skill, languages=args.language)
    claims = {"sub": args.sub, "roles": roles, "skills": args.skill or [], "languages": args.language or []}
    print(output.to_json({"token": token, **claims}) if args.json else token)
    return 0


def main(argv: Sequence[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    """Run one command; ``transport`` lets tests put a fake gateway behind the HTTP client."""
    args = parser().parse_args(argv)
    handler: Callable[..., Any] | None = getattr(args, "gateway_handler", None)
    if handler is None:
        return int(args.handler(args))
    try:
        data, text = handler(args, gw.Context(transport=transport))
    except GatewayError as exc:
        print(output.to_json({"status": exc.status, "url": exc.url, **exc.problem}) if args.json
              else exc.describe(), file=sys.stderr)
        return EXIT_PROBLEM if exc.status is not None else EXIT_UNREACHABLE
    if args.field:
        print(output.field(data, args.field))
    else:
        print(output.to_json(data) if args.json else text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
