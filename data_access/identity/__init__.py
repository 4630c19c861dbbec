"""Floor 3 — identity: who is acting and what they may see.

Owns accounts and sign-in (auth), server sessions, the region a user may see (scope) and the audit
trail that every write lands in (audit). May use store and reference.
"""
