"""The `incidents` command: a module per group of commands, what they share in shared.py."""

from __future__ import annotations

import click

from incidents.cli.audit import audit
from incidents.cli.brief import brief
from incidents.cli.db import db
from incidents.cli.generate import generate
from incidents.cli.imports import imports
from incidents.cli.members import members
from incidents.cli.serve import serve
from incidents.cli.shared import Commands
from incidents.cli.taxonomy import taxonomy
from incidents.cli.trends import trends


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="incidents")
def main() -> None:
    """The shared AI incident and risk registry.

    Configuration comes from INCIDENTS_* environment variables (see the README). Without
    INCIDENTS_DATABASE_URL every command starts, uses and stops an embedded PostgreSQL in
    INCIDENTS_DATA_DIR.
    """


for command in (serve, db, members, taxonomy, audit, imports, generate, brief, trends):
    main.add_command(command)
