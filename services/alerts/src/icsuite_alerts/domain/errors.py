"""The alerts domain's errors, as kinds of the chassis's one error table (no mapping in the routes)."""

from __future__ import annotations

from icsuite_chassis.errors import ConflictError, InvalidError, NotFoundError


class RuleNotFound(NotFoundError):
    def __init__(self, rule_id: str):
        super().__init__(f"no rule {rule_id!r}")


class AlertNotFound(NotFoundError):
    def __init__(self, alert_id: str):
        super().__init__(f"no alert {alert_id!r}")


class AlertNotOpen(ConflictError):
    def __init__(self, alert_id: str):
        super().__init__(f"alert {alert_id!r} is already acknowledged")


class InvalidPeriod(InvalidError):
    pass


class FactsNotFound(NotFoundError):
    def __init__(self, account_id: str):
        super().__init__(f"no facts known for account {account_id!r}")
