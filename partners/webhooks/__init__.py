"""Signed webhooks to partners' own systems (the Standard Webhooks scheme).

Events about the partner and its current members are recorded with their
deliveries in the transaction of the change that caused them, sent after
commit by django-q2 (`tasks`), retried with back-off, swept when overdue.
See `services` for the contract and `transport` for the SSRF rules.
"""
