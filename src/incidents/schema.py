"""Imports every domain's tables, so that Alembic and the tests see one complete metadata."""

from __future__ import annotations

from incidents import idempotency
from incidents.audit import models as audit_models
from incidents.briefs import models as briefs_models
from incidents.db import metadata
from incidents.incidents import models as incidents_models
from incidents.members import models as members_models
from incidents.reports import models as reports_models
from incidents.taxonomy import models as taxonomy_models
from incidents.web import models as web_models

__all__ = [
    "audit_models",
    "briefs_models",
    "idempotency",
    "incidents_models",
    "members_models",
    "metadata",
    "reports_models",
    "taxonomy_models",
    "web_models",
]
