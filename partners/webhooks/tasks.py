"""Webhook jobs (django-q2). Idempotent: a delivery is claimed before it is sent,
so a job run twice (a broker redelivery, the sweep) sends nothing twice at once."""

from . import services


def deliver(delivery_id: int) -> str:
    return services.delivery_attempt(delivery_id=delivery_id)


def sweep_deliveries() -> int:
    """Every minute: queue deliveries that are overdue (see services.deliveries_sweep)."""
    return services.deliveries_sweep()
