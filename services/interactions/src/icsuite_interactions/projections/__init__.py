"""Read models the service builds from topics (through the chassis's projection writer)."""
