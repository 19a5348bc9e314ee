"""What each public page shows, as plain data: one function per page feeds its template, its
JSON twin and its CSV twin ("every page is also data"), so the three always agree.

Only public services (those with a published dashboard, `registry.services.public_services`)
appear, and of a service's dashboard only the published version's content. Numbers come from
the cache (figures.py, modules.py); what is cheap to read (the registry) is read every time, and
a fingerprint of it keys the cached results of pages that list many services.

One module per page: overview.py (the home page), service_list.py (/services),
dashboard.py (a service's dashboard and its modules' downloads), organisation.py (an
organisation's roll-up) and comparison.py (/compare); common.py holds what several of them
share (the period check, the KPI tiles, the registry fingerprint, organisation chains, CSV text).
"""
