"""Running perfplat in production: read replicas (replicas.py) and the settings a deployment
must not leave at their development defaults (checks.py). docs/deploying.md shows the
topology; scripts/cluster starts it on one machine."""
