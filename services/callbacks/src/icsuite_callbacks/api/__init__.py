"""The HTTP gateway: one module per resource, thin routes that parse, call a handler and answer."""

from . import callbacks, inbox, profiles, reports, subject_data

ROUTERS = [inbox.router, callbacks.router, profiles.router, reports.router, subject_data.router]

__all__ = ["ROUTERS"]
