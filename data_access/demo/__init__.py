"""Floor 6 — demo: the demo province, generated and loaded.

Owns the generators of demo cases, their repeat matters and the demo's 12388 complaints, and loading
and removing them (loading). May use every floor below it.
"""
