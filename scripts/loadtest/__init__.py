"""`make loadtest`: the cluster (nginx, web nodes, workers, PostgreSQL, Redis) under
locust, with killed nodes and database checks afterwards (README, "Load test")."""
