"""`make cluster`: perfplat's production topology on this machine, in a temporary directory.

    scripts/cluster start [--dir DIR] [--demo]   # prints the address; stays up until stopped
    scripts/cluster status
    scripts/cluster stop

What runs (docs/deploying.md shows every file it writes, from the templates in deploy/):
  - PostgreSQL: a primary and one streaming replica (pg_basebackup -R, with a replication
    slot), password authentication (pg_hba.conf), run as an unprivileged user when root;
  - Redis, the shared cache, on loopback;
  - two app servers (`perfplat serve`, each as its systemd unit perfplat-web@PORT would run
    it: the unit's ExecStart and Environment lines with the env file);
  - two workers (perfplat-worker@N);
  - nginx in front: TLS with a generated self-signed certificate, the static files from
    `perfplat collectstatic`, gzip, and failover between the app servers.

Only Debian's packages (postgresql, redis-server, nginx, openssl) and the project's own code
are used. Everything listens on 127.0.0.1 at free ports, recorded in DIR/cluster.json.
Deviations from a real deployment, all for a throwaway cluster: PostgreSQL without fsync,
and `extra_env` (the tests' shorter lag bound and check interval), which stands in for a
systemd drop-in file.
"""

import argparse
import getpass
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "deploy"
POINTER = ROOT / ".cluster"  # the directory of the cluster `make cluster` started
PLACEHOLDER = re.compile(r"\{\{ ([A-Z0-9_]+) \}\}")


class ClusterError(Exception):
    """Something the cluster needs is missing or did not start: printed, exit code 2."""


def render(template: str, values: dict) -> str:
    """A template of deploy/ with its {{ NAME }} placeholders filled in."""
    text = (TEMPLATES / template).read_text()
    missing = sorted(set(PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise ClusterError(f"{template}: no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), text)


def unit_command(unit_text: str, instance: str) -> tuple[list[str], dict]:
    """What systemd runs for an instance of a unit: ExecStart's argv and the Environment=
    lines, with %i replaced (the EnvironmentFile is read by the caller)."""
    argv, env = None, {}
    for line in unit_text.splitlines():
        line = line.replace("%i", instance)
        if line.startswith("ExecStart="):
            argv = shlex.split(line.removeprefix("ExecStart="))
        elif line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            env[name] = value
    if argv is None:
        raise ClusterError("the unit has no ExecStart")
    return argv, env


def read_env_file(text: str) -> dict:
    """KEY=value lines, as systemd's EnvironmentFile reads them (no quoting used here)."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) is not alive.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def wait_for(what: str, ready, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise ClusterError(f"{what} did not start within {seconds:g} s")


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parent)
    if not found:
        raise ClusterError("PostgreSQL is not installed (apt-get install -y postgresql)")
    return found[-1].parent


def check_installed() -> None:
    postgres_bin()
    for program, package in (
        ("nginx", "nginx"),
        ("redis-server", "redis-server"),
        ("openssl", "openssl"),
    ):
        if shutil.which(program) is None and not Path("/usr/sbin", program).exists():
            raise ClusterError(f"{program} is not installed (apt-get install -y {package})")


def program(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


class Cluster:
    """A cluster in `directory`: its ports, secrets and processes are in cluster.json."""

    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self.state_file = self.dir / "cluster.json"
        self.state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {}
        self.pg_bin = postgres_bin()

    # state

    def save(self) -> None:
        self.state_file.write_text(json.dumps(self.state, indent=2))

    @property
    def ports(self) -> dict:
        return self.state["ports"]

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.ports['https']}"

    def app_url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.ports[f'app_{number}']}"

    def database_url(self, replica: bool = False) -> str:
        port = self.ports["replica" if replica else "primary"]
        return f"postgres://perfplat:{self.state['db_password']}@127.0.0.1:{port}/perfplat"

    @property
    def env(self) -> dict:
        """The environment of perfplat's processes: the env file, then the extra settings."""
        values = read_env_file((self.dir / "etc" / "perfplat.env").read_text())
        return {**os.environ, **values, **self.state.get("extra_env", {})}

    # running things

    def as_owner(self) -> list[str]:
        """PostgreSQL refuses to run as root: its servers belong to an unprivileged user."""
        owner = self.state.get("pg_owner")
        return ["runuser", "-u", owner, "--"] if owner else []

    def run(self, argv: list[str], env: dict | None = None, quiet: bool = True) -> str:
        result = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=self.dir)
        if result.returncode != 0:
            raise ClusterError(
                f"{' '.join(argv[:4])} failed ({result.returncode}):\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def spawn(self, name: str, argv: list[str], env: dict | None = None) -> int:
        """Start a long-running process in a session of its own (so killing the session kills
        its children: gunicorn's workers, nginx's); its output goes to logs/NAME.log."""
        log = open(self.dir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.state.setdefault("pids", {})[name] = process.pid
        self.save()
        return process.pid

    def kill(self, name: str, sig: int = signal.SIGTERM, wait: float = 15) -> None:
        """Signal a process and everything in its session, and wait until it has gone."""
        pid = self.state.get("pids", {}).get(name)
        if not alive(pid):
            return
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            os.killpg(pid, signal.SIGKILL)

    # PostgreSQL

    def pg_ctl(self, data: str, action: str, *options: str) -> None:
        self.run(
            [
                *(*self.as_owner(), str(self.pg_bin / "pg_ctl"), "-D", str(self.dir / data)),
                *("-l", str(self.dir / "logs" / f"{data}.log"), *options, action),
            ]
        )

    def start_postgres(self, data: str) -> None:
        # A throwaway cluster needs no durability; nothing here depends on it.
        options = f"-k {self.dir / 'pg-socket'} -c fsync=off -c full_page_writes=off"
        self.pg_ctl(data, "start", "-w", "-t", "60", "-o", options)

    def stop_replica(self) -> None:
        self.pg_ctl("pg-replica", "stop", "-m", "immediate")

    def start_replica(self) -> None:
        self.start_postgres("pg-replica")

    def sql(self, statement: str, replica: bool = False, database: str = "perfplat") -> str:
        """Run SQL with psql as the superuser (the servers' owner, over the local socket);
        returns its unaligned output."""
        port = self.ports["replica" if replica else "primary"]
        return self.run(
            [
                *(*self.as_owner(), str(self.pg_bin / "psql"), "-XqAt", "-v", "ON_ERROR_STOP=1"),
                *("-h", str(self.dir / "pg-socket"), "-p", str(port)),
                *("-U", self.state["pg_admin"], "-d", database, "-c", statement),
            ]
        ).strip()

    def init_primary(self) -> None:
        data = self.dir / "pg-primary"
        self.run(
            [
                *(*self.as_owner(), str(self.pg_bin / "initdb"), "-D", str(data)),
                *("-U", self.state["pg_admin"], "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
            ]
        )
        self.write_owned(data / "perfplat-primary.conf", self.render("postgresql-primary.conf"))
        self.write_owned(data / "pg_hba.conf", self.render("pg_hba.conf"))
        with open(data / "postgresql.conf", "a") as conf:
            conf.write("include 'perfplat-primary.conf'\n")
        self.start_postgres("pg-primary")
        self.sql(
            f"CREATE ROLE perfplat LOGIN PASSWORD '{self.state['db_password']}';"
            f"CREATE ROLE replicator REPLICATION LOGIN PASSWORD "
            f"'{self.state['replication_password']}';",
            database="postgres",
        )
        self.sql("CREATE DATABASE perfplat OWNER perfplat", database="postgres")

    def init_replica(self) -> None:
        data = self.dir / "pg-replica"
        self.run(
            [
                *(*self.as_owner(), "env", f"PGPASSWORD={self.state['replication_password']}"),
                str(self.pg_bin / "pg_basebackup"),
                *("-h", "127.0.0.1", "-p", str(self.ports["primary"]), "-U", "replicator"),
                *("-D", str(data), "-R", "-C", "-S", "perfplat_replica_1", "-X", "stream"),
                # Start copying now rather than after a spread-out checkpoint.
                *("--checkpoint=fast", "--no-sync"),
            ]
        )
        self.write_owned(data / "perfplat-replica.conf", self.render("postgresql-replica.conf"))
        with open(data / "postgresql.conf", "a") as conf:
            conf.write("include 'perfplat-replica.conf'\n")
        self.start_replica()

    def write_owned(self, path: Path, text: str) -> None:
        path.write_text(text)
        if self.state.get("pg_owner"):
            shutil.chown(path, self.state["pg_owner"])

    # templates

    def values(self) -> dict:
        ports, d = self.ports, self.dir
        return {
            "SECRET_KEY": self.state["secret_key"],
            "HOST_NAMES": "127.0.0.1,localhost",
            "ORIGIN": self.origin,
            "DATABASE_URL": self.database_url(),
            "DATABASE_REPLICA_URLS": self.database_url(replica=True),
            "REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
            "STATIC_ROOT": d / "static",
            "APP_DIR": ROOT,
            "ENV_FILE": d / "etc" / "perfplat.env",
            "APP_HOST": "127.0.0.1",
            "WEB_WORKERS": self.state.get("web_workers", 2),
            "APP_SERVER_1": f"127.0.0.1:{ports['app_1']}",
            "APP_SERVER_2": f"127.0.0.1:{ports['app_2']}",
            "HTTP_LISTEN": f"127.0.0.1:{ports['http']}",
            "HTTPS_LISTEN": f"127.0.0.1:{ports['https']}",
            "SERVER_NAME": "127.0.0.1 localhost",
            "TLS_CERTIFICATE": d / "tls" / "certificate.pem",
            "TLS_KEY": d / "tls" / "key.pem",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": ports["redis"],
            "REDIS_MAX_MEMORY": "256mb",
            "PRIMARY_LISTEN": "127.0.0.1",
            "PRIMARY_PORT": ports["primary"],
            "REPLICA_LISTEN": "127.0.0.1",
            "REPLICA_PORT": ports["replica"],
            "APP_NETWORK": "127.0.0.1/32",
            "REPLICA_NETWORK": "127.0.0.1/32",
        }

    def render(self, template: str) -> str:
        return render(template, self.values())

    def nginx_main_conf(self) -> str:
        """The stand-in for Debian's /etc/nginx/nginx.conf: paths inside the cluster."""
        d = self.dir / "nginx"
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        temp_paths = "".join(
            f"    {kind}_temp_path {d / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return (
            f"{user}daemon off;\nworker_processes 1;\npid {d / 'nginx.pid'};\n"
            f"error_log {self.dir / 'logs' / 'nginx-error.log'} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n    include /etc/nginx/mime.types;\n"
            "    default_type application/octet-stream;\n    sendfile on;\n"
            f"    access_log {self.dir / 'logs' / 'nginx-access.log'};\n{temp_paths}"
            f"    include {d / 'perfplat.conf'};\n}}\n"
        )

    # perfplat's processes

    def perfplat(self, *args: str) -> str:
        return self.run([str(ROOT / ".venv" / "bin" / "perfplat"), *args], env=self.env)

    def start_unit(self, unit: str, name: str, instance: str) -> int:
        argv, unit_env = unit_command(self.render(unit), instance)
        return self.spawn(name, argv, env={**self.env, **unit_env})

    def start_app(self, number: int) -> None:
        self.start_unit("perfplat-web@.service", f"app_{number}", str(self.ports[f"app_{number}"]))

    def wait_for_app(self, number: int) -> None:
        wait_for(f"app server {number}", lambda: self.status_of(self.app_url(number)) == 200)

    def kill_app(self, number: int, sig: int = signal.SIGKILL) -> None:
        self.kill(f"app_{number}", sig)

    def start_worker(self, number: int) -> None:
        self.start_unit("perfplat-worker@.service", f"worker_{number}", str(number))

    def kill_worker(self, number: int, sig: int = signal.SIGKILL) -> None:
        self.kill(f"worker_{number}", sig)

    def status_of(self, url: str) -> int | None:
        context = ssl.create_default_context(cafile=str(self.dir / "tls" / "certificate.pem"))
        try:
            with urllib.request.urlopen(f"{url}/_status", timeout=2, context=context) as answer:  # noqa: S310
                return answer.status
        except OSError:
            return None

    # the whole cluster

    def start(self, extra_env: dict | None = None, demo: bool = False, say=None) -> None:
        """Start everything; `say` (such as print) is told each step and when it began."""
        check_installed()
        started = time.monotonic()

        def step(text):
            if say:
                say(f"[{time.monotonic() - started:5.1f} s] {text}")

        self.dir.mkdir(parents=True, exist_ok=True)
        # nginx's workers and PostgreSQL's user read files in here.
        self.dir.chmod(0o755)
        for sub in ("logs", "etc", "tls", "nginx", "static", "pg-socket"):
            (self.dir / sub).mkdir(exist_ok=True)
        names = ("primary", "replica", "redis", "app_1", "app_2", "http", "https")
        self.state = {
            "ports": {name: free_port() for name in names},
            "secret_key": secrets.token_urlsafe(50),
            "db_password": secrets.token_urlsafe(18),
            "replication_password": secrets.token_urlsafe(18),
            "extra_env": extra_env or {},
            "pids": {},
        }
        # The servers' superuser is the user they run as, reached over the local socket
        # (pg_hba.conf: peer); perfplat connects over TCP with a password.
        self.state["pg_admin"] = getpass.getuser()
        if os.geteuid() == 0:
            owner = "postgres"
            if subprocess.run(["id", owner], capture_output=True).returncode != 0:
                owner = "nobody"
            self.state["pg_owner"] = self.state["pg_admin"] = owner
            for path in (self.dir, self.dir / "pg-socket", self.dir / "logs"):
                shutil.chown(path, owner)
        self.save()
        (self.dir / "etc" / "perfplat.env").write_text(self.render("perfplat.env"))
        self.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7"),
                *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
                *("-keyout", str(self.dir / "tls" / "key.pem")),
                *("-out", str(self.dir / "tls" / "certificate.pem")),
            ]
        )
        step("PostgreSQL primary")
        self.init_primary()
        step("perfplat migrate, Redis, the replica (pg_basebackup), collectstatic")
        # The tables are made while the replica is copied and Redis starts.
        migrate = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "perfplat"), "migrate", "--verbosity", "0"],
            env=self.env,
            cwd=self.dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        (self.dir / "etc" / "redis.conf").write_text(self.render("redis.conf"))
        self.spawn("redis", [program("redis-server"), str(self.dir / "etc" / "redis.conf")])
        self.init_replica()
        self.perfplat("collectstatic", "--verbosity", "0")
        output, _ = migrate.communicate()
        if migrate.returncode != 0:
            raise ClusterError(f"perfplat migrate failed:\n{output.decode()[-3000:]}")
        if demo:
            step("perfplat demo")
            self.perfplat("demo")
        step("two app servers, two workers, nginx")
        wait_for("Redis", lambda: answers(self.ports["redis"]))
        for number in (1, 2):
            self.start_app(number)
            self.start_worker(number)
        (self.dir / "nginx" / "perfplat.conf").write_text(self.render("nginx-perfplat.conf"))
        (self.dir / "nginx" / "nginx.conf").write_text(self.nginx_main_conf())
        self.spawn("nginx", [program("nginx"), "-c", str(self.dir / "nginx" / "nginx.conf")])
        for number in (1, 2):
            self.wait_for_app(number)
        wait_for("nginx", lambda: self.status_of(self.origin) == 200)
        step("up")
        self.state["started_in_seconds"] = round(time.monotonic() - started, 1)
        self.save()

    def stop(self) -> None:
        for name in list(self.state.get("pids", {})):
            self.kill(name, signal.SIGTERM, wait=10)
        for data in ("pg-replica", "pg-primary"):
            if (self.dir / data / "postmaster.pid").exists():
                try:
                    self.pg_ctl(data, "stop", "-m", "immediate")
                except ClusterError:
                    pass  # already gone
        shutil.rmtree(self.dir, ignore_errors=True)

    def status(self) -> list[tuple[str, str]]:
        """Each piece and whether it answers."""
        ports, rows = self.ports, []
        for name, port in (("PostgreSQL primary", "primary"), ("PostgreSQL replica", "replica")):
            rows.append((name, f"127.0.0.1:{ports[port]}", answers(ports[port])))
        rows.append(("Redis", f"127.0.0.1:{ports['redis']}", answers(ports["redis"])))
        for number in (1, 2):
            url = self.app_url(number)
            rows.append((f"app server {number}", url, self.status_of(url) == 200))
        for number in (1, 2):
            pid = self.state["pids"].get(f"worker_{number}")
            rows.append((f"worker {number}", f"pid {pid}", alive(pid)))
        rows.append(("nginx (TLS)", self.origin, self.status_of(self.origin) == 200))
        return [(name, f"{where:<32} {'up' if up else 'DOWN'}") for name, where, up in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="perfplat's production topology, locally")
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--dir", help="the cluster's directory (start: a new temporary one)")
    parser.add_argument("--demo", action="store_true", help="load the demo data")
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            if POINTER.exists() and Path(POINTER.read_text().strip()).exists():
                raise ClusterError(
                    f"a cluster is running in {POINTER.read_text().strip()}: "
                    "scripts/cluster stop first"
                )
            directory = Path(args.dir or tempfile.mkdtemp(prefix="perfplat-cluster."))
            cluster = Cluster(directory)
            POINTER.write_text(f"{directory}\n")
            try:
                cluster.start(demo=args.demo, say=print)
            except BaseException:
                cluster.stop()
                POINTER.unlink(missing_ok=True)
                raise
            print(
                f"perfplat cluster in {directory} (started in "
                f"{cluster.state['started_in_seconds']} s):"
            )
            for name, line in cluster.status():
                print(f"  {name:<20} {line}")
            print(
                f"Open {cluster.origin}/ (a self-signed certificate: "
                f"{directory / 'tls' / 'certificate.pem'})."
            )
            print(f"Settings: {directory / 'etc' / 'perfplat.env'}. Stop: scripts/cluster stop")
            return 0
        directory = args.dir or (POINTER.read_text().strip() if POINTER.exists() else "")
        if not directory or not Path(directory, "cluster.json").exists():
            raise ClusterError("no cluster is running (scripts/cluster start)")
        cluster = Cluster(Path(directory))
        if args.action == "status":
            for name, line in cluster.status():
                print(f"{name:<20} {line}")
            return 0
        cluster.stop()
        if not args.dir:
            POINTER.unlink(missing_ok=True)
        print(f"stopped the cluster in {directory}")
        return 0
    except ClusterError as error:
        print(f"cluster: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
