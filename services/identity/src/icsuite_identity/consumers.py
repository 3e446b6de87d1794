"""Subscribers: which event types of which topics reach which handler."""

from __future__ import annotations

from icsuite_chassis.runtime import ServiceRuntime
from icsuite_contracts.callback_requests_v1 import TOPIC as CALLBACK_REQUESTS
from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.contacts_v1 import TOPIC as CONTACTS
from icsuite_contracts.contacts_v1 import ContactStarted
from icsuite_contracts.masterdata_v1 import TOPIC as MASTERDATA
from icsuite_contracts.masterdata_v1 import AccountUpserted, BusinessAgreementUpserted, PremiseUpserted

from .handlers import IdentityHandlers

CONSUMED_TOPICS = (MASTERDATA, CONTACTS, CALLBACK_REQUESTS)


def register_consumers(runtime: ServiceRuntime, handlers: IdentityHandlers) -> None:
    runtime.add_consumer("masterdata", [MASTERDATA], {
        AccountUpserted.ce_type: handlers.on_account_upserted,
        BusinessAgreementUpserted.ce_type: handlers.on_agreement_upserted,
        PremiseUpserted.ce_type: handlers.on_premise_upserted,
    })
    runtime.add_consumer("contacts", [CONTACTS], {ContactStarted.ce_type: handlers.on_contact_started})
    runtime.add_consumer("callback-requests", [CALLBACK_REQUESTS],
                         {CallbackRequested.ce_type: handlers.on_callback_requested})
