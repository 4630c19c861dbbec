"""Floor 5 — supervision: the workflows of the supervision loop.

Owns the 督办 ledger, the 12388 monthly cycle (its settings and its complaint import), the repeat-matters
campaign (越级重复举报专项治理) and the register of issued documents (文号). Each is a state machine:
who may take which step, one transaction per step with a check of the current state, an audit row and a
new data version. May use imports, identity, store and reference.
"""
