"""Reading registers as published: dates in every form, countries as people write them,
spreadsheets with banners and two-row headers, and mappings checked with their lines."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

from incidents.cli import main
from incidents.importers.countries import Countries
from incidents.importers.dates import DateError, parse_date
from incidents.importers.mapping import MappingError, parse_mapping
from incidents.importers.tables import Layout, TableError, read_table
from incidents.paths import taxonomy_dir
from incidents.taxonomy.files import read_directory
from incidents.taxonomy.service import Taxonomy


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy(read_directory(taxonomy_dir()))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2019", "2019"),
        ("Mar 2021", "2021-03"),
        ("mars 2021", "2021-03"),
        ("2021-03", "2021-03"),
        ("2018-2024", "2018"),
        ("2018 – 2024", "2018"),
        ("2020-", "2020"),
        ("2021-03-14", "2021-03-14"),
        ("2021-03-14T09:30:00", "2021-03-14"),
        ("14 March 2021", "2021-03-14"),
        ("March 14, 2021", "2021-03-14"),
        ("14 de marzo de 2021", "2021-03-14"),
        ("14/03/2021", "2021-03-14"),
        ("03/14/2021", "2021-03-14"),
    ],
)
def test_dates_keep_the_precision_they_are_given(cell: str, expected: str) -> None:
    assert parse_date(cell) == expected


def test_ambiguous_or_impossible_dates_are_refused_with_the_reason() -> None:
    with pytest.raises(DateError, match="day-first or month-first"):
        parse_date("03/04/2021")
    assert parse_date("03/04/2021", order="day-first") == "2021-04-03"
    assert parse_date("03/04/2021", order="month-first") == "2021-03-04"
    with pytest.raises(DateError, match="day is out of range"):
        parse_date("31/02/2021")
    with pytest.raises(DateError, match="is not a date"):
        parse_date("last spring")


def test_a_year_format_is_a_year_not_the_first_of_january() -> None:
    assert parse_date("2019", pattern="%Y") == "2019"
    assert parse_date("03.2019", pattern="%m.%Y") == "2019-03"
    assert parse_date("14.03.2019", pattern="%d.%m.%Y") == "2019-03-14"


def test_country_names_in_many_forms_and_languages(taxonomy: Taxonomy) -> None:
    countries = Countries(taxonomy)
    names = {
        "USA": "US", "United States": "US", "Estados Unidos": "US", "États-Unis": "US",
        "U.S.": "US", "Türkiye": "TR", "Turkey": "TR", "Côte d'Ivoire": "CI",
        "Ivory Coast": "CI", "South Korea": "KR", "Corée du Sud": "KR", "Allemagne": "DE",
        "Alemania": "DE", "Deutschland": "DE", "Royaume-Uni": "GB", "UK": "GB", "KEN": "KE",
        "ke": "KE", "Sénégal": "SN", "Sudáfrica": "ZA", "DR Congo": "CD", "Brasil": "BR",
    }  # fmt: skip
    assert {name: countries.code(name) for name in names} == names
    assert countries.codes(["Kenya", "Atlantis", "kenya", "Uganda"]) == (["KE", "UG"], ["Atlantis"])


def _xlsx(sheets: dict[str, list[list[str | int]]]) -> bytes:
    """A minimal Office Open XML workbook (inline strings), as a spreadsheet program writes."""

    def cell(value: str | int) -> str:
        if isinstance(value, int):
            return f"<c><v>{value}</v></c>"
        return f'<c t="inlineStr"><is><t>{escape(value)}</t></is></c>'

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for n in range(1, len(sheets) + 1)
        )
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
            'formats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
            'formats.org/officeDocument/2006/relationships/officeDocument" Target='
            '"xl/workbook.xml"/></Relationships>',
        )
        entries = "".join(
            f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>'
            for n, name in enumerate(sheets, 1)
        )
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships"><sheets>{entries}</sheets></workbook>',
        )
        links = "".join(
            f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, len(sheets) + 1)
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{links}</Relationships>',
        )
        for n, rows in enumerate(sheets.values(), 1):
            body = "".join(f"<row>{''.join(cell(value) for value in row)}</row>" for row in rows)
            archive.writestr(
                f"xl/worksheets/sheet{n}.xml",
                '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                f'spreadsheetml/2006/main"><sheetData>{body}</sheetData></worksheet>',
            )
    return buffer.getvalue()


def test_a_spreadsheet_sheet_with_a_banner_and_a_two_row_header() -> None:
    data = _xlsx(
        {
            "Notes": [["Read me first"]],
            "Register": [
                ["Register of AI incidents, 2026"],
                ["Incident", "", "Impact"],
                ["Title", "Date", "Deaths"],
                ["Gates misidentify", "Mar 2021", 2],
                ["", "", ""],
                ["Chatbot leak", "2020-", 0],
            ],
        }
    )
    layout = Layout(header_row=2, header_rows=2, sheet="Register")
    table = read_table(data, "register.xlsx", layout)
    assert table.columns == ["Incident / Title", "Incident / Date", "Impact / Deaths"]
    assert table.rows == [
        (4, ["Gates misidentify", "Mar 2021", "2"]),
        (6, ["Chatbot leak", "2020-", "0"]),
    ], "rows keep the sheet's row numbers; blank rows are skipped"
    with pytest.raises(TableError, match="No sheet 'Summary'; sheets: Notes, Register"):
        read_table(data, "register.xlsx", Layout(sheet="Summary"))
    with pytest.raises(TableError, match="Not a readable spreadsheet"):
        read_table(b"not a workbook", "register.ods", Layout())


def _ods(rows: list[list[str]]) -> bytes:
    """A minimal OpenDocument spreadsheet, one sheet."""
    body = "".join(
        "<table:table-row>"
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{escape(cell)}</text:p>'
            "</table:table-cell>"
            for cell in row
        )
        + "</table:table-row>"
        for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Register">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "mimetype",
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
    return buffer.getvalue()


def test_an_ods_sheet_reads_like_the_csv_it_would_export() -> None:
    rows = [["Banner"], ["Title", "Countries"], ["Gates", "Kenya; Uganda"]]
    table = read_table(_ods(rows), "register.ods", Layout(header_row=2))
    assert table.columns == ["Title", "Countries"]
    assert table.rows == [(3, ["Gates", "Kenya; Uganda"])]


def test_csv_rows_are_named_by_their_file_line_even_across_quoted_line_breaks() -> None:
    data = b'Title,Summary\nOne,"two\nlines"\nThree,four\n'
    table = read_table(data, "register.csv", Layout())
    assert table.rows == [(2, ["One", "two\nlines"]), (4, ["Three", "four"])]


def test_every_mapping_problem_is_named_with_its_line(taxonomy: Taxonomy, tmp_path: Path) -> None:
    text = "\n".join(
        [
            'organization = "Kenya Data Commission"',  # 1
            "colour = 1",  # 2
            "[defaults]",  # 3
            'sharing = "TLP:AMBER"',  # 4
            'severity = "incident"',  # 5
            "[fields]",  # 6
            'title = "Title"',  # 7
            'summary = "Summary"',  # 8
            'occurred_on = { column = "Date", dates = "whenever" }',  # 9
            'severity = { column = "Gravity", values = { low = "hazard", high = "" } }',  # 10
            'sector = { column = "Sector", rules = [{ contains = "bank", code = "ZZ" }] }',  # 11
            'harm_domain = { column = "Issue", rules = [{ regex = "(unclosed", code = "1.1" }] }',
            'event_type = { column = "Type", split = ";" }',  # 13
            'mood = "Mood"',  # 14
        ]
    )
    with pytest.raises(MappingError) as shape:
        parse_mapping(text, taxonomy)
    assert [str(problem) for problem in shape.value.problems] == [
        "line 2: colour: Object contains unknown field `colour`",
        "line 9: fields.occurred_on.dates: Invalid enum value 'whenever'",
    ]
    fixed = text.replace("colour = 1", "").replace('"whenever"', '"day-first"')
    with pytest.raises(MappingError) as meaning:
        parse_mapping(fixed, taxonomy)
    assert [str(problem) for problem in meaning.value.problems] == [
        "line 5: severity is mapped under [fields]: a default would silently fill its empty "
        "cells; remove one of them",
        "line 10: severity: 'high' has no code yet (fill it in)",
        "line 11: sector: 'ZZ' is not a sector code",
        "line 12: harm_domain: rule 1: bad regex: missing ), unterminated subpattern at position 0",
        "line 13: event_type takes one value; split is for lists",
        "line 14: Unknown field 'mood'; known: " + ", ".join(sorted(_fields())),
    ]
    assert meaning.value.status == 422


def _fields() -> set[str]:
    from incidents.importers.records import FIELDS

    return set(FIELDS)


def test_the_suggest_command_writes_a_mapping_for_a_spreadsheet(tmp_path: Path) -> None:
    rows: list[list[str | int]] = [
        ["Register of AI incidents"],
        ["Title", "Pays", "Date", "Secteur"],
        ["Gates", "Sénégal", "2021", "Transport"],
        ["Chatbot", "Allemagne", "Mar 2022", "Transport"],
        ["Scoring", "Brasil", "2018-2024", "Finance"],
    ]
    (tmp_path / "register.xlsx").write_bytes(_xlsx({"Register": rows}))
    result = CliRunner(env={"INCIDENTS_DATA_DIR": str(tmp_path)}).invoke(
        main,
        [
            "import",
            "suggest",
            str(tmp_path / "register.xlsx"),
            "--output",
            str(tmp_path / "m.toml"),
        ],
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "m.toml").read_text()
    assert "header_row = 2" in text
    assert "delimiter" not in text, "a spreadsheet has none"
    assert '[fields.affected_jurisdiction]\ncolumn = "Pays"' in text
    assert '[fields.occurred_on]\ncolumn = "Date"' in text
    assert '"Transport" = ""   # 2 rows' in text
    assert '"Finance" = ""   # 1 row' in text


def test_rules_have_explicit_limits(taxonomy: Taxonomy) -> None:
    rules = ", ".join(f'{{ contains = "word{n}", code = "K" }}' for n in range(501))
    text = (
        'organization = "Kenya Data Commission"\n[defaults]\nseverity = "incident"\n'
        'event_type = "incident"\n[fields]\ntitle = "T"\nsummary = "S"\noccurred_on = "D"\n'
        f'sector = {{ column = "Sector", rules = [{rules}] }}\n'
    )
    with pytest.raises(
        MappingError, match=r"line 9: fields\.sector\.rules: Expected `array` of length <= 500"
    ):
        parse_mapping(text, taxonomy)
    long = text.replace(rules, '{ regex = "' + "a" * 301 + '", code = "K" }')
    with pytest.raises(
        MappingError,
        match=r"line 9: fields\.sector\.rules\.0\.regex: Expected `str` of length <= 300",
    ):
        parse_mapping(long, taxonomy)
