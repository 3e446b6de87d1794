pytest_plugins = ["icsuite_devstack.pytest_plugin"]
