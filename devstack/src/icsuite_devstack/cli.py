"""``python -m icsuite_devstack install | up | down | status | suite``."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from . import config, suite
from .provision import ProvisionError, ensure_all
from .stack import StackError, start_stack
from .state import read_state, stop_recorded, write_state


def install(args: argparse.Namespace) -> int:
    started = time.monotonic()
    kafka, mongo = ensure_all()
    print(f"Apache Kafka {kafka.version}: {kafka.libs}")
    print(f"mongo-java-server {mongo.version}: {mongo.libs}")
    print(f"Ready in {time.monotonic() - started:.1f} s.")
    return 0


def up(args: argparse.Namespace) -> int:
    directory = config.stack_dir()
    recorded = read_state(directory)
    if recorded is not None and recorded.is_running():
        print("The stack is already running.")
        _print_urls(recorded.kafka_bootstrap, recorded.mongodb_uri)
        return 0
    if recorded is not None:
        stop_recorded(directory)  # a half-dead stack: clear it before starting again
    started = time.monotonic()
    stack = start_stack(
        directory, kafka_port=args.kafka_port, mongo_port=args.mongo_port, detached=True
    )
    write_state(directory, stack)
    created = stack.create_topics()
    print(f"Started in {time.monotonic() - started:.1f} s; {len(created)} topics created.")
    _print_urls(stack.kafka_bootstrap, stack.mongodb_uri)
    print(f"Data and logs: {directory}. Stop with: uv run python -m icsuite_devstack down")
    return 0


def down(args: argparse.Namespace) -> int:
    lines = stop_recorded(config.stack_dir())
    print("\n".join(lines) if lines else "Nothing was started by `up`.")
    return 0


def status(args: argparse.Namespace) -> int:
    recorded = read_state(config.stack_dir())
    if recorded is None:
        print("Not running (no stack started by `up`).")
        return 1
    for component in recorded.components:
        print(component.describe())
    if recorded.is_running():
        _print_urls(recorded.kafka_bootstrap, recorded.mongodb_uri)
        return 0
    return 1


def _print_urls(bootstrap: str, uri: str) -> None:
    print(f"KAFKA_BOOTSTRAP_SERVERS={bootstrap}")
    print(f"MONGODB_URI={uri}")


def run_suite(args: argparse.Namespace) -> int:
    return suite.run()


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m icsuite_devstack",
        description="Local Kafka (KRaft) and MongoDB-wire server for the interaction-center suite.",
    )
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="download Kafka and mongo-java-server into the cache").set_defaults(
        handler=install
    )
    up_parser = commands.add_parser("up", help="start the stack in the background in .stack/")
    up_parser.add_argument("--kafka-port", type=int, default=config.CONTRACT_KAFKA_PORT)
    up_parser.add_argument("--mongo-port", type=int, default=config.CONTRACT_MONGO_PORT)
    up_parser.set_defaults(handler=up)
    commands.add_parser("down", help="stop the stack started by `up`").set_defaults(handler=down)
    commands.add_parser("status", help="show whether the stack of `up` runs").set_defaults(
        handler=status
    )
    commands.add_parser(
        "suite", help="run the stack and the five services in the foreground (make up)"
    ).set_defaults(handler=run_suite)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (ProvisionError, StackError) as exc:
        print(f"error: {exc}")
        return 1
