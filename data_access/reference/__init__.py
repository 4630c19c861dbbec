"""Floor 1 — reference: the fixed facts and vocabulary every other part shares.

Owns the closed sets (levels, channels, statuses: enums), the region tree and former names of each
province (the CSV files in the province folders beside these modules), county names to codes, the
working-day calendar, the problem reports that name a row, column and value, and the shapes of reporter
identity that are refused everywhere (privacy). Uses nothing else of data_access; no database access.
"""
