"""WSGI entry point for production servers (gunicorn runs `perfplat.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplat.settings")
application = get_wsgi_application()
