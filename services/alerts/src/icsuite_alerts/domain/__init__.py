"""The alerts domain: rules and their condition language, per-account facts, evaluation. Pure and synchronous."""
