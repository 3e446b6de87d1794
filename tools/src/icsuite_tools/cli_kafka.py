"""The commands that publish to Kafka: ``icsuite demo load|show`` and ``icsuite simulate``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

from . import output
from .demo import demo_dataset
from .scenarios import parse_mix
from .seeding import load_demo
from .simulator import Summary, simulate


def demo_load(args: argparse.Namespace) -> int:
    report = asyncio.run(load_demo(None if args.no_masterdata else args.bootstrap, args.gateway_base,
                                   token=args.token, profiles=not args.no_profiles))
    if args.json:
        print(output.to_json(report.as_dict()))
        return 0 if report.ok else 1
    if report.events:
        total = sum(report.events.values())
        print(f"Published {total} master-data snapshots to {args.bootstrap}:")
        print(output.table([{"event type": t, "count": n} for t, n in sorted(report.events.items())]))
    if report.profiles:
        print("\nReason profiles (callbacks):")
        print(output.table([{"reason_code": c, "result": r.splitlines()[0]}
                            for c, r in report.profiles.items()]))
    print("\nFollow-up customizing and the standard alert rules are seeded by the followups and alerts "
          "services themselves.")
    for error in report.errors:
        print(f"!! {error}", file=sys.stderr)
    return 0 if report.ok else 1


def demo_show(args: argparse.Namespace) -> int:
    data = demo_dataset()
    if args.numbers:
        rows: list[dict[str, Any]] = [{"phone": p, "account_id": a}
                                      for a, phones in data.phones_by_account.items() for p in phones]
        print(output.to_json(rows) if args.json else "\n".join(r["phone"] for r in rows))
        return 0
    agreements: dict[str, list[Any]] = {}
    for ba in data.agreements:
        agreements.setdefault(ba.account_id, []).append(ba)
    rows = []
    for account in data.accounts:
        own = agreements.get(account.account_id, [])
        rows.append({"account_id": account.account_id, "kind": account.kind, "name": account.name,
                     "phones": account.phones, "emails": account.emails,
                     "city": account.address.city if account.address else None,
                     "agreements": [ba.business_agreement_id for ba in own],
                     "dunning": max((ba.dunning_level for ba in own), default=0),
                     "balance": f"{sum(ba.balance for ba in own):.2f} {own[0].currency if own else ''}".strip(),
                     "flags": account.flags})
    print(output.to_json(rows) if args.json else output.table(rows))
    return 0


def parse_rate(text: str) -> float | None:
    if text.lower() in ("max", "inf", "unlimited"):
        return None
    rate = float(text)
    if rate <= 0:
        raise argparse.ArgumentTypeError("the rate must be positive, or 'max'")
    return rate


def _progress_printer(tty: bool) -> Any:
    def show(summary: Summary) -> None:
        line = (f"{summary.elapsed_s:6.1f} s  published {summary.events} events  {summary.contacts} contacts  "
                f"{summary.callbacks} callbacks  {summary.achieved_rate:.1f}/s ({summary.events_per_s:.0f} ev/s)")
        print(("\r" + line + "   ") if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

    return show


def render_summary(summary: Summary) -> str:
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(summary.per_kind.items()) if k != "callback")
    asked = f"{summary.rate:g}/s" if summary.rate else "max"
    rate = summary.events_per_s
    lines = [
        f"Simulation {summary.run_id} finished in {summary.elapsed_s:.1f} s",
        f"  contacts   {summary.contacts} ({kinds or 'none'})",
        f"  callbacks  {summary.callbacks}",
        f"  callers    {summary.known} known, {summary.unknown} unknown",
        f"  events     {summary.events} acknowledged, {summary.failed} failed",
        f"  rate       {summary.achieved_rate:.1f} contacts+callbacks/s (asked {asked}), {rate:.0f} events/s",
        "",
        output.table([{"event type": t, "count": n} for t, n in sorted(summary.per_type.items())]),
    ]
    if summary.contact_ids or summary.request_ids:
        lines.append("")
    if summary.contact_ids:
        lines.append(f"first contacts: {', '.join(summary.contact_ids[:3])}")
    if summary.request_ids:
        lines.append(f"first callback requests: {', '.join(summary.request_ids[:3])}")
    return "\n".join(lines)


async def _run_simulation(args: argparse.Namespace) -> Summary:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    numbers = list(args.known_number) if args.known_number else None
    progress = None if args.quiet or args.json else _progress_printer(sys.stderr.isatty())
    return await simulate(args.bootstrap, rate=args.rate, duration_s=args.duration, count=args.count,
                          mix=args.mix, known_numbers=numbers, known_ratio=args.known_ratio, seed=args.seed,
                          run_id=args.run_id, agents=args.agent, on_progress=progress, stop=stop)


def simulate_cmd(args: argparse.Namespace) -> int:
    if args.mix is not None:
        try:
            args.mix = parse_mix(args.mix)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.duration is None and args.count is None and not args.quiet:
        print("No --duration or --count: publishing until Ctrl-C.", file=sys.stderr)
    summary = asyncio.run(_run_simulation(args))
    if sys.stderr.isatty() and not (args.quiet or args.json):
        print(file=sys.stderr)
    print(output.to_json(summary.as_dict()) if args.json else render_summary(summary))
    return 0 if summary.failed == 0 else 1
