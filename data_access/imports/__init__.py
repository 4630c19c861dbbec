"""Floor 4 — imports: how a case file becomes rows of the case table.

Owns reading a file within its limits (reader, the parse worker, limits), checking it against the data
contract (validate, case_checks, mappings of a county's own headers), loading it all-or-nothing
(loading, importer), the app rows a replacement would leave without their case (orphans) and what has
been loaded (inventory). May use identity, store and reference.
"""
