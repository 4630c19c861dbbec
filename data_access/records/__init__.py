"""Floor 4 — records: the records only the app holds, kept safe.

Owns backup and restore of the app's own tables (ledger, 12388 cycle, campaign, documents, accounts,
audit). May use identity, store and reference.
"""
