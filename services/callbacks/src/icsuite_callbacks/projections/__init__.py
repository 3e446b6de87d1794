"""Read models fed from topics."""

from .accounts import ACCOUNT_PHONES, AccountNumbers
from .identifications import Identifications

__all__ = ["ACCOUNT_PHONES", "AccountNumbers", "Identifications"]
