"""The HTTP gateway: one module per resource; routes parse, call a use case and shape the answer."""

from . import accounts, business_agreements, contacts, erasures, exports, merges, premises, subject_data

ROUTERS = (merges.router, accounts.router, contacts.router, premises.router, business_agreements.router, erasures.router,
           exports.router, subject_data.router)
