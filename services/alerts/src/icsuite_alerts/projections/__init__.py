"""Read models fed from the consumed topics, each through the chassis's ProjectionWriter: the contacts,
the account facts and the kept copy of the consumed events (for backtests)."""

from .accounts import AccountCodec, AccountFacts, FactMembers, account_writer
from .contacts import ContactCodec, contact_writer
from .event_log import EventLog, event_log, observation_of

__all__ = ["AccountCodec", "AccountFacts", "FactMembers", "ContactCodec", "EventLog", "account_writer", "contact_writer",
           "event_log", "observation_of"]
