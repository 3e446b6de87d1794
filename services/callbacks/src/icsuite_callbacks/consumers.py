"""Subscribers: callback requests from the IVR topic, and identity's caller-identified."""

from __future__ import annotations

from icsuite_chassis.consumer import Reject
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_contracts.callback_requests_v1 import TOPIC as REQUESTS_TOPIC
from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.identity_v1 import TOPIC as IDENTITY_TOPIC
from icsuite_contracts.identity_v1 import CallerIdentified

from . import handlers
from .domain import CallbackError, CallbackRequest, CallerIdentity
from .handlers import Deps


def register_consumers(runtime: ServiceRuntime, deps: Deps) -> None:
    async def on_callback_requested(envelope: Envelope) -> None:
        event = envelope.data
        assert isinstance(event, CallbackRequested)
        request = CallbackRequest(
            request_id=event.request_id, callback_number=event.callback_number, channel=event.channel,
            account_id=event.account_id, reason_code=event.reason_code, preferred_from=event.preferred_from,
            preferred_to=event.preferred_to, time_zone=event.time_zone, language=event.language,
            attributes=dict(event.attributes))
        try:
            await handlers.submit_request(deps, request, cause=envelope)
        except CallbackError as exc:  # the same rules as the gateway: a refused request goes to the DLQ
            raise Reject(f"{type(exc).__name__}: {exc}") from None

    async def on_caller_identified(envelope: Envelope) -> None:
        event = envelope.data
        assert isinstance(event, CallerIdentified)
        identity = CallerIdentity(account_id=event.account_id, candidates=tuple(event.candidates),
                                  looked_up_number=event.callback_number)
        await handlers.caller_identified(deps, event.request_id, identity, envelope)

    runtime.add_consumer("requests", [REQUESTS_TOPIC], {CallbackRequested.ce_type: on_callback_requested})
    runtime.add_consumer("identity", [IDENTITY_TOPIC], {CallerIdentified.ce_type: on_caller_identified})
