"""Start the browser tests' consumer groups at the end of their topics.

Earlier tests of the session published thousands of events to the shared topics; a new consumer group reads
from the earliest offset, and working through that backlog took minutes on a loaded machine before the
first customer of a browser test was replicated. The browser tests only need what they publish
themselves, so each group of their services gets its committed offsets at the topics' current end before
the services start. The group names and topics come from the services' own wiring (the apps are built,
not started: nothing connects).
"""

from __future__ import annotations

import importlib

from icsuite_chassis.settings import ServiceSettings
from icsuite_chassis.testing import commit_group_at_end


def consumer_groups(service: str, prefix: str) -> dict[str, tuple[str, ...]]:
    """group id -> topics, for every consumer of ``service`` with the consumer-group ``prefix``."""
    module = importlib.import_module(f"icsuite_{service}.settings")
    (settings_class,) = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, ServiceSettings)
                         and v is not ServiceSettings]
    settings = settings_class(environment="test", consumer_group_prefix=prefix)
    app = importlib.import_module(f"icsuite_{service}.bootstrap").build_app(settings)
    return {c.spec.name: tuple(c.spec.topics) for c in app.state.runtime.consumers}


async def start_at_the_end(bootstrap: str, groups: dict[str, tuple[str, ...]]) -> int:
    """Commit every group's offsets at the current end of its topics; returns the partitions set."""
    return sum([await commit_group_at_end(bootstrap, group, topics) for group, topics in groups.items()])
