"""Local infrastructure of the interaction-center suite: Kafka (KRaft) and a MongoDB-wire server.

Provisioned from Maven Central into a cache, started on 127.0.0.1 without Docker; see README.md.
"""

from .processes import ServiceProcess, free_port
from .stack import Stack, StackError, stack_from_env, start_stack
from .topics import create_topics

__all__ = [
    "ServiceProcess",
    "Stack",
    "StackError",
    "create_topics",
    "free_port",
    "stack_from_env",
    "start_stack",
]
