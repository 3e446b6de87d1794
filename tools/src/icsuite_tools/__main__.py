"""``python -m icsuite_tools`` is the ``icsuite`` command."""

from .cli import main

raise SystemExit(main())
