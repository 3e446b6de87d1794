"""The ``icsuite`` command (placeholder while the commands are written)."""


def main(argv: list[str] | None = None) -> int:
    return 0
