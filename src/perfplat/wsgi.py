"""WSGI entry point for production servers (gunicorn runs `perfplat.wsgi:application`).

The journey beacon's requests are answered before Django's request handling
(perfplat.beacon.middleware.beacon_first)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplat.settings")
django_application = get_wsgi_application()

from perfplat.beacon.middleware import beacon_first  # noqa: E402 - needs Django set up

application = beacon_first(django_application)
