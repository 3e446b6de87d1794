"""``python -m icsuite_devstack``: see :mod:`icsuite_devstack.cli`."""

from .cli import main

raise SystemExit(main())
