"""API root (placeholder until the API work lands)."""

from ninja import NinjaAPI

api = NinjaAPI(title="Partner Academy API", version="1", urls_namespace="api")
