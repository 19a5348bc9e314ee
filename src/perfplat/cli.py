"""The `perfplat` command: run, administer and fill the platform.

Bad arguments and domain errors print a clear message and exit with code 2; nothing prints a
traceback. Commands that create a secret print it as the last line of stdout, so scripts can
take it with `tail -n 1`.
"""

import argparse
import os
import sys


class UsageError(Exception):
    """A problem with what the user asked for: printed, exit code 2."""


def _setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplat.settings")
    import django

    django.setup()


def _seconds(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds, got {text!r}")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"expected a port number (1-65535), got {text!r}")
    return int(text)


# commands


def cmd_migrate(args):
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=args.verbosity)
    # The cache table, when PERFPLAT_CACHE=database (a no-op for the memory cache).
    call_command("createcachetable", verbosity=args.verbosity)


def refuse_unsafe_settings():
    """Stop before serving with development secrets (perfplat.deployment.checks)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplat.settings")
    from django.conf import settings

    from perfplat.deployment.checks import unsafe_settings

    problems = unsafe_settings(settings)
    if problems:
        lines = [message for _, message in problems]
        lines.append("For local development only, DEBUG=true allows the development defaults.")
        raise UsageError("refusing to serve with DEBUG off:\n  " + "\n  ".join(lines))


def cmd_serve(args):
    """Run the production server (gunicorn) in this process."""
    refuse_unsafe_settings()
    bind = f"{args.host}:{args.port}"
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "perfplat.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(args.workers),
        *(
            ["--worker-class", "gthread", "--threads", str(args.threads)]
            if args.threads > 1
            else []
        ),
        "--timeout",
        "120",
        "--access-logfile",
        "-" if args.access_log else "/dev/null",
    ]
    threads = f", {args.threads} threads each" if args.threads > 1 else ""
    print(f"perfplat serving on http://{bind}/ with {args.workers} workers{threads}", flush=True)
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn


def cmd_check(args):
    """Django's system checks; with --deploy, also those for a production deployment."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=args.deploy, fail_level="WARNING")
    except SystemCheckError as error:
        raise UsageError(str(error).removeprefix("SystemCheckError: ").strip())


def cmd_collectstatic(args):
    """Copy the static files to STATIC_ROOT, for a web server (nginx) to serve them."""
    from django.conf import settings
    from django.core.management import call_command

    if not settings.STATIC_ROOT:
        raise UsageError("set STATIC_ROOT to the folder the static files should go to")
    call_command("collectstatic", interactive=False, verbosity=args.verbosity)


def _data_set(group: str, data_type: str):
    from perfplat.datasets.access import find_data_set

    return find_data_set(group, data_type)


def cmd_datasets_create(args):
    from perfplat.datasets.services import DataSetSettings, create_data_set
    from perfplat.datasets.types import TYPES

    if args.type in TYPES and args.standard_type is None and not args.free_form:
        # A data set only feeds the KPIs through its standard type, never its name: ask which
        # was meant rather than guess (nothing is created).
        raise UsageError(
            f"{args.type!r} is the name of a standard type. For a data set the KPIs use, whose "
            f"records are checked as {args.type} records, add --standard-type {args.type}; for "
            "a free-form data set of that name (not used by the KPIs), add --free-form"
        )
    auto_ids = (
        tuple(f.strip() for f in args.auto_ids.split(",") if f.strip()) if args.auto_ids else ()
    )
    settings = DataSetSettings(
        auto_ids=auto_ids,
        raw_queries_allowed=args.raw_queries,
        max_age_expected=args.max_age,
        published=args.published,
        cache_max_age=args.cache_max_age,
        standard_type=args.standard_type or "",
    )
    from perfplat.registry.models import Service

    service = Service.objects.filter(slug=args.service or args.group).first()
    if args.service and service is None:
        raise UsageError(f"There is no service {args.service!r}")
    data_set, token = create_data_set(
        args.group, args.type, name=args.name, settings=settings, service=service
    )
    state = "published" if data_set.published else "unpublished"
    kind = f"standard type {data_set.standard_type}" if data_set.standard_type else "free-form"
    print(f"Created data set {data_set} (name {data_set.name}, {kind}, {state}).")
    print("Its bearer token follows. It is shown only now: store it safely.")
    print(token)


def cmd_datasets_list(args):
    from perfplat.datasets.services import data_sets_with_counts

    header = ("DATA SET", "NAME", "PUBLISHED", "RAW QUERIES", "MAX AGE", "RECORDS", "LAST WRITE")
    rows = [header]
    for data_set in data_sets_with_counts():
        rows.append(
            (
                str(data_set),
                data_set.name,
                "yes" if data_set.published else "no",
                "yes" if data_set.raw_queries_allowed else "no",
                "-" if data_set.max_age_expected is None else f"{data_set.max_age_expected}s",
                str(data_set.record_count),
                data_set.last_write_at.strftime("%Y-%m-%d %H:%M:%S UTC")
                if data_set.last_write_at
                else "never",
            )
        )
    if len(rows) == 1:
        print("No data sets yet. Create one with: perfplat datasets create GROUP TYPE")
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def cmd_datasets_rotate(args):
    from perfplat.datasets.services import rotate_token

    data_set = _data_set(args.group, args.type)
    token = rotate_token(data_set)
    print(f"Issued a new token for {data_set}; the old one no longer works.")
    print("The new bearer token follows. It is shown only now: store it safely.")
    print(token)


def cmd_datasets_empty(args):
    from perfplat.datasets.services import empty

    data_set = _data_set(args.group, args.type)
    empty(data_set, reason=args.reason)
    print(f"{data_set.name} now contains 0 records")


def cmd_datasets_convert_fields(args):
    from perfplat.datasets.stored_values import convert_stored_values

    data_set = _data_set(args.group, args.type)
    report = convert_stored_values(data_set, dry_run=args.dry_run)
    if report.problem_count:
        for problem in report.problems:
            print(problem.text)
        more = report.problem_count - len(report.problems)
        if more:
            print(f"... and {more:,} more")
        raise UsageError(f"{data_set}: {report.summary}")
    print(f"{data_set}: {report.summary}.")
    if args.dry_run and report.changed_records:
        print("Dry run: nothing was changed.")


def cmd_users_create(args):
    from perfplat.accounts.services import create_user

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise UsageError("--password-stdin: no password on standard input")
    user = create_user(
        None,
        args.email,
        args.role,
        organisation=args.organisation,
        name=args.name,
        password=password,
    )
    where = f" in {user.organisation}" if user.organisation else ""
    print(f"Created {user.get_role_display().lower()} {user.email}{where}.")
    if password is None:
        print("No password set: they can choose one with 'Forgotten your password?' at sign-in.")


def cmd_users_token(args):
    from perfplat.accounts.models import User
    from perfplat.accounts.services import issue_personal_token

    user = User.objects.filter(email=args.email.strip().lower()).first()
    if user is None:
        raise UsageError(f"There is no user with the email address {args.email}")
    _, token = issue_personal_token(None, user, name=args.name)
    print(f"Issued a personal API token for {user.email}.")
    print("It follows, and is shown only now: store it safely.")
    print(token)


def cmd_worker(args):
    """Run background tasks (uploads, collectors, notifications) until stopped, and the
    scheduler that enqueues the periodic ones (perfplat.collectors.scheduler)."""
    from django.core.management import call_command

    from perfplat.collectors import scheduler

    worker_id = scheduler.new_worker_id()
    scheduler.ensure_system_jobs()
    scheduler.beat(worker_id)
    scheduler.recover_abandoned_tasks()
    options = ["--interval", str(args.interval), "--no-startup-delay", "--no-reload"]
    options += ["--worker-id", worker_id]
    if args.once:
        # What is due now, then every task queued, then exit (for cron, or a one-off run);
        # still beating, so that other workers know its tasks are running.
        scheduler.enqueue_due_jobs()
        options.append("--batch")
    thread = scheduler.start_scheduler(
        interval=args.schedule_interval, worker=worker_id, schedule=not args.once
    )
    try:
        call_command("db_worker", *options, verbosity=0 if args.quiet else 1)
    finally:
        thread.stop()
        thread.join(timeout=10)


def cmd_demo_source(args):
    """Serve the demo collector's CSV (perfplat.collectors.demo) until interrupted."""
    from perfplat.collectors.demo import serve_demo_source

    serve_demo_source(args.host, args.port)


def cmd_upload(args):
    """Upload a spreadsheet to a data set (perfplat.uploads)."""
    from perfplat.uploads.cli import upload_command

    upload_command(args)


def cmd_demo(args):
    from perfplat.demo import load_demo

    for line in load_demo():
        print(line)


def cmd_demo_code(args):
    """The code the demo admins' authenticator app shows now (their key is public)."""
    from perfplat.demo import demo_code

    print(demo_code())


# parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perfplat", description="perfplat: an open Performance Platform for public services"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    migrate = commands.add_parser("migrate", help="create or update the database tables")
    migrate.add_argument("-v", "--verbosity", type=int, default=1, choices=[0, 1, 2, 3])
    migrate.set_defaults(func=cmd_migrate, django=True)

    serve = commands.add_parser("serve", help="serve the platform with gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--workers", type=_positive, default=min(4, 2 * (os.cpu_count() or 1)))
    serve.add_argument(
        "--threads",
        type=_positive,
        default=1,
        help="threads per worker; more than 1 runs gunicorn's gthread workers, which also keep "
        "connections open for the next request (worth it behind a proxy that reuses them)",
    )
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(func=cmd_serve, django=False)

    check = commands.add_parser("check", help="check the settings (--deploy: for production)")
    check.add_argument(
        "--deploy", action="store_true", help="also the checks of a production deployment"
    )
    check.set_defaults(func=cmd_check, django=True)

    collectstatic = commands.add_parser(
        "collectstatic", help="copy the static files to STATIC_ROOT for a web server"
    )
    collectstatic.add_argument("-v", "--verbosity", type=int, default=1, choices=[0, 1, 2, 3])
    collectstatic.set_defaults(func=cmd_collectstatic, django=True)

    datasets = commands.add_parser("datasets", help="create and administer data sets")
    actions = datasets.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="create a data set and print its token")
    create.add_argument("group", metavar="GROUP")
    create.add_argument("type", metavar="TYPE")
    create.add_argument("--name")
    create.add_argument(
        "--service", metavar="SLUG", help="the service it belongs to (default: the one named GROUP)"
    )
    typing = create.add_mutually_exclusive_group()
    typing.add_argument(
        "--standard-type",
        metavar="SLUG",
        help="a standard type (transactions-by-channel, cost, user-satisfaction, completion): "
        "its records are checked as that type's, and it feeds the service's KPIs",
    )
    typing.add_argument(
        "--free-form",
        action="store_true",
        help="no standard type, even when TYPE is a standard type's name",
    )
    create.add_argument("--auto-ids", metavar="f1,f2", help="fields whose values make the _id")
    create.add_argument("--raw-queries", action="store_true", help="allow raw (ungrouped) reads")
    create.add_argument("--max-age", type=_seconds, metavar="SECONDS", help="freshness limit")
    visibility = create.add_mutually_exclusive_group()
    visibility.add_argument("--published", dest="published", action="store_true")
    visibility.add_argument("--unpublished", dest="published", action="store_false")
    create.add_argument("--cache-max-age", type=_seconds, metavar="SECONDS")
    create.set_defaults(func=cmd_datasets_create, django=True, published=False)

    listing = actions.add_parser("list", help="list the data sets")
    listing.set_defaults(func=cmd_datasets_list, django=True)

    for name, func, text in (
        ("rotate-token", cmd_datasets_rotate, "revoke the token and print a new one"),
        ("empty", cmd_datasets_empty, "delete every record of a data set"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("group", metavar="GROUP")
        action.add_argument("type", metavar="TYPE")
        if name == "empty":
            action.add_argument(
                "--reason", default="", help="why, for the corrections log of a published data set"
            )
        action.set_defaults(func=func, django=True)

    convert = actions.add_parser(
        "convert-fields",
        help='convert stored values to the declared field types ("1,200" -> 1200), all or none',
    )
    convert.add_argument("group", metavar="GROUP")
    convert.add_argument("type", metavar="TYPE")
    convert.add_argument(
        "--dry-run", action="store_true", help="say what would change; change nothing"
    )
    convert.set_defaults(func=cmd_datasets_convert_fields, django=True)

    users = commands.add_parser("users", help="create users and personal API tokens")
    user_actions = users.add_subparsers(dest="action", metavar="ACTION", required=True)
    create_user = user_actions.add_parser("create", help="create a user")
    create_user.add_argument("email", metavar="EMAIL")
    create_user.add_argument(
        "--role", required=True, choices=["platform-admin", "org-admin", "editor"]
    )
    create_user.add_argument("--organisation", metavar="SLUG")
    create_user.add_argument("--name", default="")
    create_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create_user.set_defaults(func=cmd_users_create, django=True)
    token = user_actions.add_parser("token", help="issue a personal API token")
    token.add_argument("email", metavar="EMAIL")
    token.add_argument("--name", default="command line", help="what the token is for")
    token.set_defaults(func=cmd_users_token, django=True)

    worker = commands.add_parser("worker", help="run background tasks")
    worker.add_argument(
        "--interval", type=float, default=1.0, help="seconds between checks for new tasks"
    )
    worker.add_argument(
        "--schedule-interval",
        type=float,
        default=5.0,
        help="seconds between looks for due scheduled jobs (collectors, freshness checks)",
    )
    worker.add_argument(
        "--once", action="store_true", help="enqueue due jobs, run what is queued, then exit"
    )
    worker.add_argument(
        "--quiet", action="store_true", help="log problems only, not every task that runs"
    )
    worker.set_defaults(func=cmd_worker, django=True)

    demo_source = commands.add_parser(
        "demo-source", help="serve the always-current CSV that the demo collector pulls"
    )
    demo_source.add_argument("--host", default="127.0.0.1")
    demo_source.add_argument("--port", type=_port, default=8001)
    demo_source.set_defaults(func=cmd_demo_source, django=True)

    upload = commands.add_parser(
        "upload", help="upload a spreadsheet (CSV, XLSX, XLS or ODS) to a data set"
    )
    upload.add_argument("file", metavar="FILE")
    upload.add_argument("--data-set", required=True, metavar="GROUP/TYPE")
    upload.add_argument("--sheet", metavar="NAME", help="the sheet to read (default: the first)")
    upload.add_argument(
        "--dry-run", action="store_true", help="check the file and show the rows; store nothing"
    )
    upload.add_argument(
        "--replace", action="store_true", help="replace all the data set's records (default: add)"
    )
    upload.add_argument(
        "--reason",
        default="",
        help="why, should it correct records of a published data set (the corrections log)",
    )
    upload.set_defaults(func=cmd_upload, django=True)

    demo = commands.add_parser("demo", help="load realistic demo data (safe to repeat)")
    demo.set_defaults(func=cmd_demo, django=True)
    demo_code = commands.add_parser(
        "demo-code", help="the demo admins' two-factor code now (local demo only)"
    )
    demo_code.set_defaults(func=cmd_demo_code, django=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.django:
        _setup_django()
    from perfplat.errors import PerfplatError

    try:
        args.func(args)
    except (PerfplatError, UsageError) as error:
        print(f"perfplat: error: {getattr(error, 'message', error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and friends: stop quietly.
        sys.stderr.close()
        return 0
    except Exception as error:  # noqa: BLE001 - the CLI promises a message, not a traceback
        print(f"perfplat: error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
