"""Crosswalks resolve the outside vocabularies found in real published data."""

from __future__ import annotations

import csv

import pytest

from incidents.paths import taxonomy_dir
from incidents.taxonomy.files import read_directory
from incidents.taxonomy.service import Taxonomy
from tests.datasets import aiid_snapshot


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy(read_directory(taxonomy_dir()))


def _column(file: str, column: str) -> set[str]:
    path = aiid_snapshot() / file
    with path.open(encoding="utf-8", newline="") as handle:
        return {row[column].strip() for row in csv.DictReader(handle) if row[column].strip()}


@pytest.mark.parametrize(
    ("column", "crosswalk"),
    [
        ("Risk Domain", "mit_risk_domain"),
        ("Risk Subdomain", "mit_risk_domain"),
        ("Entity", "mit_causal_entity"),
        ("Intent", "mit_causal_intent"),
        ("Timing", "mit_causal_timing"),
    ],
)
def test_every_mit_label_in_the_aiid_snapshot_resolves(
    taxonomy: Taxonomy, column: str, crosswalk: str
) -> None:
    labels = _column("classifications_MIT.csv", column)
    assert labels
    unresolved = {label for label in labels if not taxonomy.crosswalks[crosswalk].lookup(label)}
    assert unresolved == set()


def test_mit_labels_resolve_to_their_own_number(taxonomy: Taxonomy) -> None:
    for label in _column("classifications_MIT.csv", "Risk Subdomain"):
        number = label.split(" ")[0].rstrip(".")
        assert taxonomy.crosswalks["mit_risk_domain"].lookup(label) == [number]


def test_spelling_variants_resolve_alike(taxonomy: Taxonomy) -> None:
    crosswalk = taxonomy.crosswalks["mit_risk_domain"]
    assert crosswalk.lookup("Discrimination & Toxicity") == ["1"]
    assert crosswalk.lookup("  discrimination AND toxicity ") == ["1"]
    assert crosswalk.lookup("7.6 Multi-agent risks") == ["7.6"]
    assert crosswalk.lookup("Not a real domain") is None


@pytest.mark.parametrize(
    ("column", "crosswalk"),
    [
        ("Sector of Deployment", "cset_v1_sector"),
        ("Harm Distribution Basis", "cset_v1_harm_basis"),
        ("Autonomy Level", "cset_v1_autonomy"),
    ],
)
def test_every_cset_cell_splits_into_known_labels(
    taxonomy: Taxonomy, column: str, crosswalk: str
) -> None:
    for cell in _column("classifications_CSETv1.csv", column):
        _, unknown = taxonomy.crosswalks[crosswalk].split(cell)
        assert unknown == [], cell


def test_labels_containing_commas_are_not_split_apart(taxonomy: Taxonomy) -> None:
    codes, unknown = taxonomy.crosswalks["cset_v1_sector"].split(
        "Arts, entertainment and recreation, information and communication"
    )
    assert codes == ["R", "J"]
    assert unknown == []
    codes, unknown = taxonomy.crosswalks["cset_v1_harm_basis"].split("race, astrology")
    assert codes == ["race_ethnicity"]
    assert unknown == ["astrology"]
