"""Seed data for `make loadtest`, run with the cluster's settings: the demo, more public
services (as the page benchmark makes them), and data sets for the writers, with their
tokens. Prints what the load test needs as JSON."""

import os
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def seed(services: int, writers: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplat.settings")
    import django

    django.setup()
    from bench_pages import _generate_services

    from perfplat.datasets.services import DataSetSettings, create_data_set
    from perfplat.demo import load_demo
    from perfplat.registry.services import public_services

    now = int(time.time())
    list(load_demo(now))
    _generate_services(max(0, services - public_services().count()), now)
    tokens = []
    for number in range(writers):
        _, token = create_data_set(
            f"loadtest-writes-{number}", "events", settings=DataSetSettings(published=True)
        )
        tokens.append({"path": f"/data/loadtest-writes-{number}/events", "token": token})
    listed = public_services().select_related("organisation").prefetch_related("data_sets")
    return {
        "services": [service.slug for service in listed],
        "organisations": sorted({service.organisation.slug for service in listed}),
        "read_paths": [
            f"/data/{data_set.data_group}/{data_set.data_type}"
            for service in listed
            for data_set in service.data_sets.all()
            if data_set.published and data_set.data_type == "transactions-by-channel"
        ],
        "writers": tokens,
    }


if __name__ == "__main__":
    print(orjson.dumps(seed(int(sys.argv[1]), int(sys.argv[2]))).decode())
