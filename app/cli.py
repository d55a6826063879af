"""The management CLI: `python -m app.cli COMMAND` (the justfile recipes call it).

It talks to the database and the key files directly, never to the HTTP API, so it works while
the service is down or in maintenance.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from adapters.auth.keys import DevKeys
from adapters.auth.minting import mint_dev_token
from adapters.clock import SystemClock
from adapters.db.engine import make_engine
from adapters.db.lifecycle import close_database, migrate, open_database
from adapters.db.service_context import PiccoloServiceContextRepository
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from app.settings import Settings, SettingsError
from app.settings_layers import redacted
from app.startup_settings import load_startup_settings
from domain.errors import DependencyUnavailable
from domain.service_context import ServiceContext
from domain.use_cases.service_context import GetServiceContext, SetMaintenance


async def _with_database(settings: Settings, work):  # type: ignore[no-untyped-def]
    engine = make_engine(settings.database_url, statement_timeout_ms=settings.db_statement_timeout_ms)
    await open_database(
        engine,
        pool_min=1,
        pool_max=2,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        acquire_timeout_ms=settings.db_acquire_timeout_ms,
        request_timeout_ms=settings.db_request_timeout_ms,
    )
    try:
        return await work(engine)
    finally:
        await close_database(engine)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    applied = asyncio.run(_with_database(settings, migrate))
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else "; up to date"))
    return 0


# region: blog
def cmd_recount(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.db.row_counts import recount

    counts = asyncio.run(_with_database(settings, recount))
    if not counts:
        print("SQLite counts rows as it lists them: nothing to recount")
    else:
        print("recounted: " + ", ".join(f"{relation} {count:,}" for relation, count in counts.items()))
    return 0


# endregion


# region: openfga
def cmd_relay(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.openfga_enabled:
        print("OPENFGA_API_URL is not set: permissions are built in, there is no outbox to relay", file=sys.stderr)
        return 2
    # Imported here: the OpenFGA SDK and the container are heavy, and the other commands need neither.
    from adapters.authz.openfga import OpenFga
    from app.factories import make_relay, openfga_config

    async def drain(engine):  # type: ignore[no-untyped-def]
        fga = OpenFga(openfga_config(settings))
        await fga.open()
        try:
            relay = make_relay(settings, engine, fga, SystemClock())
            result = await relay.drain()
            return result, (await relay.report())["outbox"]
        finally:
            await fga.close()

    result, backlog = asyncio.run(_with_database(settings, drain))
    print(
        f"delivered {result.delivered} relationship change(s), {result.failed} failed (retried later); "
        f"{backlog['pending']} pending"
    )
    return 0 if result.failed == 0 else 1


def cmd_backfill_permissions(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.openfga_enabled:
        print("OPENFGA_API_URL is not set: permissions are built in, there is nothing to backfill", file=sys.stderr)
        return 2
    from adapters.db.outbox import OutboxStore

    async def enqueue(engine):  # type: ignore[no-untyped-def]
        return await OutboxStore(engine).enqueue_owners(SystemClock().now())

    counts = asyncio.run(_with_database(settings, enqueue))
    # One count per kind of relationship in the backfill's list (adapters/db/outbox.py), generated ones too.
    queued = ", ".join(f"{kind} {count:,}" for kind, count in counts.items()) or "nothing"
    print(
        f"queued the tuples the database holds: {queued}; the running service's relay delivers them (or run `just relay`)"
    )
    return 0


# endregion


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.dev_auth:
        print("OIDC_ISSUER is set: get tokens from the identity provider, not from `just token`", file=sys.stderr)
        return 2
    token = mint_dev_token(
        DevKeys(Path(settings.var_dir)),
        args.username,
        list(args.roles),
        audience=settings.oidc_audience,
        ttl_seconds=args.ttl,
    )
    print(token)
    return 0


def cmd_maintenance(settings: Settings, args: argparse.Namespace) -> int:
    """Same effect as PATCH /v1/service-context, recorded with ``updated_by`` null (the operator)."""

    async def work(engine) -> ServiceContext:  # type: ignore[no-untyped-def]
        contexts = PiccoloServiceContextRepository(engine)
        if args.state == "status":
            return await GetServiceContext(contexts)()
        return await SetMaintenance(PiccoloUnitOfWorkFactory(engine), contexts, SystemClock()).by_operator(
            args.state == "on"
        )

    try:
        context = asyncio.run(_with_database(settings, work))
    except (DependencyUnavailable, OSError, TimeoutError) as exc:
        print(f"the database is unavailable: {exc}", file=sys.stderr)
        return 1
    by = "an operator (CLI)" if context.updated_by is None else f"user {context.updated_by}"
    changed = (
        "never changed" if context == ServiceContext.initial() else f"since {context.updated_at.isoformat()} by {by}"
    )
    print(f"maintenance {'on' if context.maintenance else 'off'} ({changed})")
    if args.state != "status":
        print(f"every instance follows within MAINTENANCE_CACHE_SECONDS ({settings.maintenance_cache_seconds:g} s)")
    return 0


def cmd_openapi(settings: Settings, args: argparse.Namespace) -> int:
    """Write the OpenAPI document the app serves at /docs/openapi.json, built without serving (no
    database, no network): for Spectral and openapi-python-client in `just lint`, or a client's build."""
    import msgspec

    from app.container import build_container
    from app.main import create_app

    # The document does not depend on the database; an in-memory one keeps any file or server out of it.
    offline = msgspec.structs.replace(settings, database_url="sqlite:///:memory:")
    document = create_app(build_container(offline)).openapi_schema.to_schema()
    Path(args.output).write_bytes(msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n")
    return 0


def cmd_config(settings: Settings, args: argparse.Namespace, loaded_sources: Mapping[str, tuple[str, str]]) -> int:
    width = max(map(len, loaded_sources))
    for name, (value, source) in loaded_sources.items():
        print(f"{name:<{width}}  {value or '-':<40}  ({source})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="app.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply pending database migrations").set_defaults(run=cmd_migrate)
    token = commands.add_parser("token", help="print a development bearer token")
    token.add_argument("username")
    token.add_argument("roles", nargs="*", help="realm roles, e.g. admin")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    token.set_defaults(run=cmd_token)
    # region: openfga
    commands.add_parser("relay", help="deliver the pending outbox entries to OpenFGA once, then exit").set_defaults(
        run=cmd_relay
    )
    commands.add_parser(
        "backfill-permissions",
        help="queue every relationship tuple the database holds (owners, comments' posts, shares, memberships) for OpenFGA",
    ).set_defaults(run=cmd_backfill_permissions)
    # endregion
    # region: blog
    commands.add_parser(
        "recount", help="reset the unfiltered listings' row counts from the tables (PostgreSQL)"
    ).set_defaults(run=cmd_recount)
    # endregion
    maintenance = commands.add_parser("maintenance", help="turn maintenance mode on or off, or show it")
    maintenance.add_argument("state", choices=["on", "off", "status"])
    maintenance.set_defaults(run=cmd_maintenance)
    commands.add_parser(
        "config", help="print the effective settings and where each came from; secrets redacted"
    ).set_defaults(run=cmd_config)
    openapi = commands.add_parser("openapi", help="write the OpenAPI document the app serves, without serving")
    openapi.add_argument("output", help="the file to write (JSON)")
    openapi.set_defaults(run=cmd_openapi)
    args = parser.parse_args(argv)
    try:
        loaded = load_startup_settings()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    run: Callable[..., int] = args.run
    if run is cmd_config:  # it shows where each value came from, not just the values
        return cmd_config(loaded.settings, args, redacted(loaded))
    return run(loaded.settings, args)


if __name__ == "__main__":
    sys.exit(main())
