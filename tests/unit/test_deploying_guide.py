"""docs/deploying.md shows the files `make cluster` writes: each of its config blocks is the
template in deploy/ that the cluster renders, and the settings it documents pass
`perfplat check --deploy`."""

import os
import re
import subprocess
import sys
from pathlib import Path

import cluster  # deploy/cluster.py (deploy/ is on the tests' path)

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "deploying.md"
DEPLOY = ROOT / "deploy"
BLOCK = re.compile(r"^```\w+ file=deploy/(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def shown_files() -> dict[str, list[str]]:
    shown: dict[str, list[str]] = {}
    for name, text in BLOCK.findall(GUIDE.read_text()):
        shown.setdefault(name, []).append(text)
    return shown


def templates() -> list[str]:
    return sorted(path.name for path in DEPLOY.iterdir() if path.suffix != ".py")


def test_the_guide_shows_every_template_once_as_it_is():
    shown = shown_files()
    assert sorted(shown) == templates()
    for name, texts in shown.items():
        assert texts == [(DEPLOY / name).read_text()], f"docs/deploying.md differs from {name}"


def test_every_placeholder_of_the_templates_is_explained_in_the_guide():
    guide = GUIDE.read_text()
    for name in templates():
        for placeholder in cluster.PLACEHOLDER.findall((DEPLOY / name).read_text()):
            assert f"`{placeholder}`" in guide, f"{placeholder} of {name} is not explained"


def test_the_documented_production_settings_pass_the_deploy_checks(tmp_path):
    settings = cluster.read_env_file(
        cluster.PLACEHOLDER.sub(
            lambda match: {
                "SECRET_KEY": "x7Vq2" * 10,
                "HOST_NAMES": "performance.example.gov.uk",
                "ORIGIN": "https://performance.example.gov.uk",
                "DATABASE_URL": "postgres://perfplat:secret@10.0.0.10:5432/perfplat",
                "DATABASE_REPLICA_URLS": "postgres://perfplat:secret@10.0.0.11:5432/perfplat",
                "REDIS_URL": "redis://10.0.0.12:6379/0",
                "STATIC_ROOT": str(tmp_path / "static"),
            }[match.group(1)],
            (DEPLOY / "perfplat.env").read_text(),
        )
    )
    # Only the documented settings: none of this process's (the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE, which a deployment must not).
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PERFPLAT_", "DATABASE_", "REDIS_", "DJANGO_"))
        and name not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    }
    checked = subprocess.run(
        [str(Path(sys.executable).parent / "perfplat"), "check", "--deploy"],
        env={**environment, **settings},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (checked.returncode, checked.stderr) == (0, "")
    assert checked.stdout.startswith("System check identified no issues")


def test_a_unit_runs_its_exec_start_with_its_environment():
    unit = (DEPLOY / "perfplat-web@.service").read_text()
    argv, environment = cluster.unit_command(
        unit.replace("{{ APP_DIR }}", "/opt/perfplat")
        .replace("{{ APP_HOST }}", "10.0.0.20")
        .replace("{{ WEB_WORKERS }}", "4"),
        "8001",
    )
    assert argv == [
        "/opt/perfplat/.venv/bin/perfplat",
        *("serve", "--host", "10.0.0.20", "--port", "8001", "--workers", "4"),
    ]
    assert environment == {"PGAPPNAME": "perfplat-web-8001"}
