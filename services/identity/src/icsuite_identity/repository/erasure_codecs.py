"""Codecs of the erasure requests and the accounts' erasure claims."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..domain.erasures import Confirmation, Erasure, ErasureClaim


class ErasureCodec:
    def encode(self, state: Erasure) -> dict[str, Any]:
        return {"erasure_id": state.erasure_id, "account_id": state.account_id, "requested_by": state.requested_by,
                "requested_at": state.requested_at, "completed_at": state.completed_at,
                "confirmations": {service: {"erased": dict(c.erased), "erased_at": c.erased_at}
                                  for service, c in state.confirmations.items()}}

    def decode(self, doc: Mapping[str, Any]) -> Erasure:
        confirmations = {service: Confirmation(dict(c.get("erased") or {}), c["erased_at"])
                         for service, c in (doc.get("confirmations") or {}).items()}
        return Erasure(doc["erasure_id"], doc["account_id"], doc["requested_by"], doc["requested_at"],
                       MappingProxyType(confirmations), doc.get("completed_at"))


class ErasureClaimCodec:
    def encode(self, state: ErasureClaim) -> dict[str, Any]:
        return {"account_id": state.account_id, "erasure_id": state.erasure_id}

    def decode(self, doc: Mapping[str, Any]) -> ErasureClaim:
        return ErasureClaim(doc["account_id"], doc["erasure_id"])
