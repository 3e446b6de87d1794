"""The HTTP gateway: one module per resource, thin routes that parse, call a handler and answer."""

from . import callbacks, inbox, profiles

ROUTERS = [inbox.router, callbacks.router, profiles.router]

__all__ = ["ROUTERS"]
