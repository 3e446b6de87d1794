"""The HTTP gateway: one module per resource; routes parse, call a use case and shape the answer."""

from . import accounts, business_agreements, contacts, erasures, merges, premises

ROUTERS = (merges.router, accounts.router, contacts.router, premises.router, business_agreements.router, erasures.router)
