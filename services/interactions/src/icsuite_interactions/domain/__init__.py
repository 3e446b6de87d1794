"""The interaction record's rules: pure and synchronous (no I/O; time and ids are passed in)."""
