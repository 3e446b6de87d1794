"""The identity domain: pure and synchronous. Normalization, lookup keys, ranking, the business object
context and the rules for new accounts. No I/O; time and ids are passed in."""
