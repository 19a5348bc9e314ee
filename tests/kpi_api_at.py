"""Print the KPI API's answer for a service as the platform would give it at a chosen moment:

    DATABASE_URL=... python tests/kpi_api_at.py SLUG EPOCH_SECONDS [PERIOD]

For tests that run the real server on a database of their own and need a period the data
covers to be complete (the KPI API only gives complete periods). Goes through the whole API
stack (Django's test client), with only the clock (kpis.services.current_time) set."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplat.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from perfplat.kpis import services  # noqa: E402

slug, moment = sys.argv[1], int(sys.argv[2])
period = sys.argv[3] if len(sys.argv) > 3 else "month"
services.current_time = lambda: moment
response = Client().get(f"/api/services/{slug}/kpis?period={period}")
if response.status_code != 200:
    sys.exit(f"{response.status_code}: {response.content.decode()}")
sys.stdout.write(response.content.decode())
