"""The HTTP gateway: one module per resource; routes parse, call a use case and shape the answer."""

from . import accounts, contacts

ROUTERS = (accounts.router, contacts.router)
