"""Read models fed from topics."""

from .identifications import Identifications

__all__ = ["Identifications"]
