"""Tools around the suite: demo data, the channel simulator and the ``icsuite`` command-line client."""
