"""`incidents members`: organizations and their API keys, from the command line."""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING, Any

import click
import msgspec

from incidents.cli.shared import cli_actor, fail, load_settings, print_json, run_with_database
from incidents.db import Database
from incidents.validation import collect_errors

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from incidents.members.schemas import Organization


@click.group()
def members() -> None:
    """Member organizations and their API keys."""


async def _find_organization(connection: AsyncConnection, reference: str) -> Organization:
    from incidents.members import service

    with contextlib.suppress(ValueError):
        return await service.get_organization(connection, uuid.UUID(reference))
    named = [o for o in await service.list_organizations(connection) if o.name == reference]
    if not named:
        fail(f"no organization with id or name {reference!r}")
    return named[0]


@members.command("add-org")
@click.option("--name", required=True, help="Unique display name.")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["regulator", "research", "secretariat", "source"]),
    help="regulator (needs --jurisdiction), research, secretariat, or source (an outside dataset).",
)
@click.option("--jurisdiction", default=None, help="ISO 3166-1 alpha-2 code, e.g. KE.")
def add_org(name: str, kind: str, jurisdiction: str | None) -> None:
    """Add a member organization."""
    from incidents.members import schemas, service
    from incidents.taxonomy.geography import known_country_codes

    raw = {
        "name": name,
        "kind": kind,
        "jurisdiction": jurisdiction.upper() if jurisdiction else None,
    }
    try:
        data = msgspec.convert(raw, schemas.OrganizationCreate)
    except msgspec.ValidationError:
        errors = collect_errors(raw, schemas.OrganizationCreate)
        fail("; ".join(f"--{error.field}: {error.message}" for error in errors))
    settings = load_settings()
    countries = known_country_codes(settings.taxonomy_dir)

    async def work(database: Database) -> Any:
        async with database.transaction() as connection:
            return await service.create_organization(connection, cli_actor(), data, countries)

    print_json(run_with_database(settings, work))


@members.command("list-orgs")
def list_orgs() -> None:
    """List member organizations."""
    from incidents.members import service

    async def work(database: Database) -> Any:
        async with database.connect() as connection:
            return await service.list_organizations(connection)

    for organization in run_with_database(load_settings(), work):
        click.echo(
            f"{organization.id}  {organization.kind:<11} {organization.jurisdiction or '--'}  "
            f"{'active  ' if organization.active else 'inactive'}  {organization.name}"
        )


@members.command("issue-key")
@click.argument("organization")
@click.option("--label", required=True, help="What the key is for, e.g. 'bulk upload'.")
def issue_key(organization: str, label: str) -> None:
    """Issue an API key to ORGANIZATION (id or name); the key is printed once."""
    from incidents.members import service

    async def work(database: Database) -> Any:
        async with database.transaction() as connection:
            found = await _find_organization(connection, organization)
            return await service.issue_key(connection, cli_actor(), found.id, label)

    issued = run_with_database(load_settings(), work)
    click.echo(f"key id:  {issued.id}\nprefix:  {issued.prefix}\nkey:     {issued.key}")
    click.echo("Store the key now: it is not kept and cannot be shown again.", err=True)


@members.command("revoke-key")
@click.argument("key")
def revoke_key(key: str) -> None:
    """Revoke KEY (its id or visible prefix); it stops working at once."""
    from incidents.members import service

    async def work(database: Database) -> Any:
        async with database.transaction() as connection:
            found = await service.get_key(connection, key)
            return await service.revoke_key(connection, cli_actor(), found.id)

    revoked = run_with_database(load_settings(), work)
    click.echo(f"revoked {revoked.prefix} ({revoked.label}) at {revoked.revoked_at}")


@members.command("list-keys")
@click.argument("organization", required=False)
def list_keys(organization: str | None) -> None:
    """List API keys (never secrets), of one ORGANIZATION or of all."""
    from incidents.members import service

    async def work(database: Database) -> list[tuple[str, Any]]:
        async with database.connect() as connection:
            if organization is not None:
                found = [await _find_organization(connection, organization)]
            else:
                found = await service.list_organizations(connection)
            return [
                (org.name, key)
                for org in found
                for key in await service.list_keys(connection, org.id)
            ]

    for name, key in run_with_database(load_settings(), work):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        click.echo(f"{key.id}  {key.prefix}  {state:<18} last used {used:<16} {name}: {key.label}")
