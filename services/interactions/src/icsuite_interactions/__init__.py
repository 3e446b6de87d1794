"""The interactions service."""
