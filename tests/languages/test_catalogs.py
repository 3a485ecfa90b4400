"""Translations of the taxonomy: complete in six languages, outside the version's hash, and
every missing or stray translation named by `incidents taxonomy check`."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from incidents.cli import main
from incidents.languages import LANGUAGES
from incidents.languages.catalogs import check_translations, read_translations
from incidents.paths import taxonomy_dir
from incidents.taxonomy.files import read_directory
from incidents.taxonomy.service import Taxonomy, content_hash
from tests.taxonomy.helpers import copy_shipped, edit

SCRIPTS = {
    "ar": re.compile("[\u0600-\u06ff]"),
    "zh": re.compile("[\u4e00-\u9fff]"),
    "ru": re.compile("[\u0400-\u04ff]"),
}


def test_every_label_and_definition_is_present_in_the_six_languages() -> None:
    document = read_directory(taxonomy_dir())
    translations, problems = read_translations(taxonomy_dir())
    assert problems == []
    assert check_translations(taxonomy_dir(), document) == []
    assert set(translations.manifest.catalogs) == set(LANGUAGES)
    for language in set(LANGUAGES) - {"en"}:
        for dimension in document.dimensions:
            for entry in dimension.codes:
                label = translations.label(dimension.name, entry.code, language)
                definition = translations.definition(dimension.name, entry.code, language)
                assert label, (language, dimension.name, entry.code)
                assert definition, (language, dimension.name, entry.code)
                if language in SCRIPTS:
                    # Not English pasted in: Arabic, Chinese and Russian text is in its script.
                    assert SCRIPTS[language].search(label), (language, entry.code, label)
                    assert SCRIPTS[language].search(definition), (language, entry.code)


def test_every_catalog_states_it_awaits_native_review() -> None:
    translations, _ = read_translations(taxonomy_dir())
    for state in translations.manifest.catalogs.values():
        assert state.complete
        assert not state.reviewed_by_native_speaker
        assert state.review == "awaiting native review"


def test_check_names_the_languages_and_their_review_state() -> None:
    result = CliRunner().invoke(main, ["taxonomy", "check"])
    assert result.exit_code == 0, result.output
    assert "every label and definition present in 6 languages (ar, zh, en, fr, ru, es)" in (
        result.output
    )
    assert "awaiting native review: ar, zh, en, fr, ru, es" in result.output


def test_a_translation_does_not_make_a_new_taxonomy_version(tmp_path: Path) -> None:
    directory = copy_shipped(tmp_path / "taxonomy")
    before = content_hash(read_directory(directory))
    edit(directory / "translations/fr.toml", 'severity = "Gravité"', 'severity = "Sévérité"')
    assert content_hash(read_directory(directory)) == before


def test_check_names_each_missing_and_stray_translation_and_exits_1(tmp_path: Path) -> None:
    directory = copy_shipped(tmp_path / "taxonomy")
    edit(directory / "translations/ar.toml", 'disaster = "كارثة ذكاء اصطناعي"\n', "")
    edit(directory / "translations/zh.toml", '"7.6" = "多智能体风险"\n', '"7.9" = "多智能体风险"\n')
    edit(
        directory / "translations/ru.toml",
        'human = "Человек"\n',
        'human = "Человек"\nrobot = "Робот"\n',
    )
    result = CliRunner().invoke(main, ["taxonomy", "check", str(directory)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "translations/ar.toml  severity:disaster  label missing in 'ar'" in lines
    assert "translations/zh.toml  harm_domain:7.6  label missing in 'zh'" in lines
    assert "translations/zh.toml  harm_domain:7.9  labels: no such code in the taxonomy" in lines
    assert "translations/ru.toml  causal_entity:robot  labels: no such code in the taxonomy" in (
        lines
    )
    assert len([line for line in lines if line.startswith("translations/")]) == 4


def test_a_new_code_without_translations_is_a_defect_in_every_language(tmp_path: Path) -> None:
    directory = copy_shipped(tmp_path / "taxonomy")
    with (directory / "dimensions/ai_task.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            '\n[[codes]]\ncode = "anomaly_detection"\norder = 10\n'
            'label = { en = "Anomaly detection" }\n'
            'definition = { en = "Finding unusual patterns in data." }\n'
        )
    problems = check_translations(directory, read_directory(directory))
    found = {(p.file, p.code, p.reason) for p in problems}
    for language in ("ar", "zh", "fr", "ru", "es"):
        for kind in ("label", "definition"):
            assert (
                f"translations/{language}.toml",
                "ai_task:anomaly_detection",
                f"{kind} missing in {language!r}",
            ) in found
    assert len(problems) == 10


def test_the_manifest_is_held_to_its_statements(tmp_path: Path) -> None:
    directory = copy_shipped(tmp_path / "taxonomy")
    manifest = directory / "translations/manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    french = text.index("[catalogs.fr]")
    edited = text[:french] + text[french:].replace("complete = true", "complete = false", 1)
    edited = edited.replace("[catalogs.es]", "[catalogs.xx]")
    manifest.write_text(edited, encoding="utf-8")
    problems = check_translations(directory, read_directory(directory))
    reasons = {(p.file, p.code, p.reason) for p in problems}
    assert (
        "translations/manifest.toml",
        "fr",
        "every entry is translated: state complete = true",
    ) in reasons
    assert ("translations/manifest.toml", "es", "no catalog stated for this language") in reasons
    assert ("translations/xx.toml", None, "file is missing") in reasons


def test_labels_fall_back_to_english_where_a_catalog_lacks_them(tmp_path: Path) -> None:
    directory = copy_shipped(tmp_path / "taxonomy")
    edit(directory / "translations/fr.toml", 'disaster = "Catastrophe d\'IA"\n', "")
    translations, _ = read_translations(directory)
    taxonomy = Taxonomy(read_directory(directory), translations=translations)
    severity = taxonomy.dimension("severity")
    assert severity.label("incident", "fr") == "Incident d'IA"
    assert severity.label("disaster", "fr") == "AI disaster"
    assert severity.label("incident", "de") == "AI incident"
