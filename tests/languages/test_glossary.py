"""The glossary: every code's term in every language, the shipped docs/glossary.md current."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from incidents.cli import main
from incidents.languages.catalogs import read_translations
from incidents.languages.glossary import glossary
from incidents.paths import taxonomy_dir
from incidents.taxonomy.files import read_directory

ROOT = Path(__file__).resolve().parents[2]


def test_the_glossary_names_every_code_in_every_language() -> None:
    document = read_directory(taxonomy_dir())
    translations, _ = read_translations(taxonomy_dir())
    text = glossary(document, translations)
    assert "(missing)" not in text
    rows = [line for line in text.splitlines() if line.startswith("| `") and " | " in line]
    codes = sum(len(dimension.codes) for dimension in document.dimensions)
    assert len(rows) == codes + 6  # every code, and the six catalogs' states
    assert (
        "| `disaster` | كارثة ذكاء اصطناعي | 人工智能灾难 | AI disaster | Catastrophe d'IA |"
        in text
    )


def test_the_shipped_glossary_is_the_generated_one() -> None:
    result = CliRunner().invoke(main, ["taxonomy", "glossary"])
    assert result.exit_code == 0, result.output
    assert (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8") == result.output


def test_chosen_languages_with_definitions(tmp_path: Path) -> None:
    target = tmp_path / "glossary.md"
    result = CliRunner().invoke(
        main,
        [
            "taxonomy",
            "glossary",
            "--lang",
            "en",
            "--lang",
            "ru",
            "--definitions",
            "--write",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert "| code | English | Русский |" in text
    assert "### `severity:disaster`" in text
    assert "- **Русский**: Серьёзный инцидент, связанный с ИИ, который нарушает" in text
    assert "العربية" not in text


def test_an_unknown_language_is_refused() -> None:
    result = CliRunner().invoke(main, ["taxonomy", "glossary", "--lang", "de"])
    assert result.exit_code != 0
    assert "--lang 'de' is not one of: ar, zh, en, fr, ru, es" in result.output
