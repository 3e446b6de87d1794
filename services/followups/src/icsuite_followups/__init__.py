"""The followups service."""
