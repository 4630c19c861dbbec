"""Floor 2 — store: where the data lives.

Owns the settings file (config), engines and their dialect quirks, the table declarations (schema), the
bulk path that stages Arrow tables, creating the database and loading the reference data into it
(database: init, migrations, the case table's data version and its write hooks, shared reads such as
the region frame), and the app's data version (changes). May use reference only.
"""
