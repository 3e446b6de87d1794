"""JSON Schema snapshots of every event model, and the check that keeps them honest.

``contracts/schemas/<ce_type>.json`` is the schema of the current model; ``contracts/schemas/published/``
holds the schemas as last published. ``check`` fails when a snapshot differs from its model or when a
model breaks compatibility with its published schema, so a breaking edit is caught even if someone
regenerates the plain snapshots.

    uv run python -m icsuite_contracts.schemas write             # regenerate the snapshots
    uv run python -m icsuite_contracts.schemas write --publish   # ...and publish (refused if breaking)
    uv run python -m icsuite_contracts.schemas check             # non-zero exit on any problem
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .compatibility import compatibility
from .registry import all_event_types

__all__ = ["SCHEMA_DIR", "check", "compatibility", "current_schemas", "main", "render", "write"]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
"""``contracts/schemas`` of the source checkout."""
PUBLISHED = "published"


def current_schemas() -> dict[str, dict[str, Any]]:
    """The producer-side JSON Schema of every event model, by ``ce_type``."""
    return {model.ce_type: model.model_json_schema() for model in all_event_types()}


def render(schema: dict[str, Any]) -> str:
    """The committed text of a schema."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _load_dir(directory: Path) -> dict[str, dict[str, Any]]:
    if not directory.is_dir():
        return {}
    return {p.name.removesuffix(".json"): json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


def write(directory: Path = SCHEMA_DIR, *, publish: bool = False) -> list[str]:
    """Regenerate the snapshots (dropping those without a model); with ``publish``, also publish.

    Publishing is refused, and nothing is published, if any model breaks its published schema.
    Returns the problems (empty on success).
    """
    schemas = current_schemas()
    directory.mkdir(parents=True, exist_ok=True)
    for stale in set(_load_dir(directory)) - set(schemas):
        (directory / f"{stale}.json").unlink()
    for ce_type, schema in schemas.items():
        (directory / f"{ce_type}.json").write_text(render(schema))
    if not publish:
        return []
    published_dir = directory / PUBLISHED
    problems = _compatibility_problems(schemas, _load_dir(published_dir))
    if problems:
        return [*problems, "nothing published: add a new version (.v2) beside the old one instead"]
    published_dir.mkdir(exist_ok=True)
    for ce_type, schema in schemas.items():
        (published_dir / f"{ce_type}.json").write_text(render(schema))
    return []


def _compatibility_problems(
    schemas: dict[str, dict[str, Any]], published: dict[str, dict[str, Any]]
) -> list[str]:
    problems: list[str] = []
    for ce_type, old in published.items():
        if ce_type not in schemas:
            problems.append(f"{ce_type}: published event type has no model any more")
            continue
        problems += [f"{ce_type}: {issue}" for issue in compatibility(old, schemas[ce_type])]
    return problems


def check(directory: Path = SCHEMA_DIR) -> list[str]:
    """Every problem with the snapshots: differences from the models and breaking changes."""
    schemas = current_schemas()
    snapshots = _load_dir(directory)
    published = _load_dir(directory / PUBLISHED)
    problems: list[str] = []
    for ce_type, schema in schemas.items():
        if ce_type not in snapshots:
            problems.append(f"{ce_type}: no snapshot (run write)")
        elif snapshots[ce_type] != schema:
            problems.append(f"{ce_type}: snapshot differs from the model (run write)")
        if ce_type not in published:
            problems.append(f"{ce_type}: not published (run write --publish)")
    problems += [f"{t}: snapshot without a model (run write)" for t in sorted(set(snapshots) - set(schemas))]
    problems += _compatibility_problems(schemas, published)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m icsuite_contracts.schemas", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument("--publish", action="store_true", help="with write: also publish the schemas")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="the snapshot directory")
    args = parser.parse_args(argv)
    if args.command == "write":
        problems = write(args.dir, publish=args.publish)
    else:
        problems = check(args.dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{args.command}: {len(current_schemas())} event schemas OK ({args.dir})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
