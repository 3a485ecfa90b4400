"""Oversight of the audit log: the secretariat reads it (events.py, controllers.py) and verifies it
— the hash chain, then every live table against the state the log implies (replay.py, compare.py,
statements.py, tables.py, verify.py). Writing the log is audit/'s alone."""
