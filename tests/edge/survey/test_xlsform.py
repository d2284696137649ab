"""An XLSForm (groups, skip logic, constraints, three languages) becomes a survey that runs on
the phone, its answers under the form's field names; what a keypad cannot answer is refused
with its row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from edge.cli import main
from edge.export import export_csv
from edge.lines.simulated import CallerScript, SimulatedLine
from edge.privacy import Pseudonymiser
from edge.server import run_call
from edge.store import Store
from edge.survey import Survey, load_survey
from edge.survey.xlsform import XlsFormError, import_xlsform
from edge.survey.xlsform._expressions import ExpressionError, number_range, skip_logic

EN, FR, AR = "English (en)", "Français (fr)", "العربية (ar)"
SURVEY_HEADER = ["type", "name", f"label::{EN}", f"label::{FR}", f"label::{AR}",
                 f"hint::{EN}", "required", "relevant", "constraint",
                 f"constraint_message::{EN}", f"audio::{EN}"]
SURVEY_ROWS: list[list[Any]] = [
    ["start", "start"],
    ["note", "intro", "Welcome to the needs survey.", "Bienvenue.", "مرحبًا."],
    ["select_one yes_no", "consent", "May we ask you some questions?",
     "Pouvons-nous vous poser des questions?", "هل نستطيع أن نسألك؟", None, "yes"],
    ["begin group", "household", "About your household.", "Votre foyer.", "أسرتك.", None, None,
     "${consent} = 'yes'"],
    ["integer", "members", "How many people live with you?", "Combien de personnes?",
     "كم شخصًا؟", "Type the number, then hash.", "yes", None, ". >= 1 and . <= 30",
     "Between 1 and 30, please.", "members.wav"],
    ["integer", "children", "How many of them are children?", "Combien d'enfants?",
     "كم طفلًا؟", None, "no", "${members} > 1", ". >= 0 and . < 30"],
    ["select_multiple needs", "needs", "What do you need? Press each, then hash.",
     "De quoi avez-vous besoin?", "ماذا تحتاج؟", None, "yes"],
    ["select_one yes_no", "water_safe", "Is your water safe to drink?", "L'eau est-elle sûre?",
     "هل الماء آمن؟", None, "yes", "selected(${needs}, 'water')"],
    ["decimal", "income", "Income last month, in dollars? Star for the point.",
     "Revenu du mois?", "الدخل؟", None, "no", None, ". >= 0 and . <= 10000"],
    ["calculate", "size_band", None, None, None, None, None, None, None],
    ["end group"],
    ["note", "bye", "Thank you. Goodbye.", "Merci. Au revoir.", "شكرًا. مع السلامة."],
]
CHOICES = [["list_name", "name", f"label::{EN}", f"label::{FR}", f"label::{AR}"],
           ["yes_no", "yes", "Yes", "Oui", "نعم"], ["yes_no", "no", "No", "Non", "لا"],
           ["needs", "food", "Food", "Nourriture", "طعام"],
           ["needs", "water", "Water", "Eau", "ماء"],
           ["needs", "shelter", "Shelter", "Abri", "مأوى"]]
SETTINGS = [["form_title", "form_id", "version", "default_language"],
            ["Household needs", "household_needs", "2026-01", EN]]


def workbook(path: Path, survey: list[list[Any]] | None = None,
             choices: list[list[Any]] | None = None) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in [SURVEY_HEADER, *(SURVEY_ROWS if survey is None else survey)]:
        sheet.append(row)
    for title, rows in (("choices", CHOICES if choices is None else choices),
                        ("settings", SETTINGS)):
        extra = book.create_sheet(title)
        for row in rows:
            extra.append(row)
    book.save(path)
    return path


@pytest.fixture
def form_survey(tmp_path: Path) -> Survey:
    out = tmp_path / "household.json"
    assert main(["survey", "import-xlsform", str(workbook(tmp_path / "needs.xlsx")),
                 "--out", str(out)]) == 0
    return load_survey(out)


def test_the_form_becomes_a_survey_with_its_field_names(form_survey: Survey) -> None:
    survey = form_survey
    assert (survey.id, survey.version, survey.title) == ("household_needs", "2026-01",
                                                         "Household needs")
    assert survey.languages == ("en", "fr", "ar")
    assert survey.questions() == ["language", "consent", "members", "children", "needs",
                                  "water_safe", "income"]
    states = survey.states
    assert states["needs"].props["multiple"] is True
    assert (states["members"].props["min"], states["members"].props["max"]) == (1, 30)
    assert states["children"].props["max"] == 29  # . < 30 on a whole number
    assert states["income"].props["decimals"] == 2
    assert states["bye"].kind == "end"  # the form's last note says goodbye
    prompt = states["consent"].prompt
    assert prompt["fr"].text == "Pouvons-nous vous poser des questions? 1: Oui. 2: Non."
    assert prompt["en"].audio is None and states["members"].prompt["en"].audio.name == \
        "members.wav"


def call(line: SimulatedLine, survey: Survey, store: Store, pseudonymiser: Pseudonymiser,
         responses: dict[str, list[str]]) -> str:
    line.start(lambda _call: None)
    placed = line.place_call("+254711000099", CallerScript(responses, key_delay_s=0.2,
                                                           key_gap_s=0.05))
    return run_call(placed, survey, store, pseudonymiser, timer_scale=1 / line.speed)


def stored(store: Store) -> dict[str, tuple[str, str]]:
    return {r["question"]: (r["value"], r["language"])
            for r in store.query("SELECT question, value, language FROM answers")}


def test_an_arabic_caller_with_skip_logic_and_a_skipped_optional_question(
        form_survey: Survey, line: SimulatedLine, store: Store,
        pseudonymiser: Pseudonymiser) -> None:
    disposition = call(line, form_survey, store, pseudonymiser, {
        "language.prompt": ["3"], "consent.prompt": ["1"], "members.prompt": ["4#"],
        "children.prompt": ["2#"], "needs.prompt": ["31#"], "income.prompt": ["", "", ""]})
    assert disposition == "complete"
    # water_safe was not relevant (no water); income was optional and the caller kept silent
    assert stored(store) == {"language": ("ar", "ar"), "consent": ("yes", "ar"),
                             "members": ("4", "ar"), "children": ("2", "ar"),
                             "needs": ("food shelter", "ar")}
    header = export_csv(store, form_survey.questions()).splitlines()[0].split(",")
    assert header[-6:] == ["consent", "members", "children", "needs", "water_safe", "income"]


def test_a_refusal_skips_the_group_and_one_person_skips_children(
        form_survey: Survey, line: SimulatedLine, store: Store,
        pseudonymiser: Pseudonymiser) -> None:
    assert call(line, form_survey, store, pseudonymiser, {
        "language.prompt": ["2"], "consent.prompt": ["2"]}) == "complete"
    assert stored(store) == {"language": ("fr", "fr"), "consent": ("no", "fr")}
    assert call(line, form_survey, store, pseudonymiser, {
        "language.prompt": ["1"], "consent.prompt": ["1"], "members.prompt": ["45#", "1#"],
        "needs.prompt": ["2#"], "water_safe.prompt": ["1"], "income.prompt": ["12*5#"]}) == \
        "complete"
    rows = store.query("SELECT question, value, invalid FROM answers WHERE call_id = "
                       "(SELECT max(id) FROM calls)")
    assert {r["question"]: r["value"] for r in rows} == {
        "language": "en", "consent": "yes", "members": "1", "needs": "water",
        "water_safe": "yes", "income": "12.5"}
    assert next(r["invalid"] for r in rows if r["question"] == "members") == 1  # 45 > 30


@pytest.mark.parametrize(("row", "message"), [
    (["text", "name_q", "Your name?"], "type 'text' (free text) cannot be keyed on a phone"),
    (["geopoint", "where", "Where?"], "type 'geopoint' (a location) cannot be keyed"),
    (["image", "photo", "Photo?"], "type 'image' (a photo) cannot be keyed"),
    (["select_multiple many", "many", "Which?"], "10 choices: a phone has keys 1 to 9"),
    (["integer", "n", "How many?", None, None, None, None, None, ". != 7"],
     "constraint '. != 7': not_equal_to of the answer cannot be checked on a phone"),
    (["integer", "n", "How many?", None, None, None, None, "${q} = 'a' or"],
     "relevant \"${q} = 'a' or\": expected a comparison, found the end"),
    (["select_one nowhere", "q", "Which?"], "choice list 'nowhere' is not on the choices sheet"),
    (["begin repeat", "r", "Each person"], "(repeated groups) cannot be keyed on a phone"),
])
def test_what_a_keypad_cannot_answer_is_refused_with_its_row(tmp_path: Path, row: list[Any],
                                                             message: str) -> None:
    choices = [*CHOICES, *(["many", f"c{i}", f"Choice {i}"] for i in range(10))]
    path = workbook(tmp_path / "bad.xlsx", [SURVEY_ROWS[1], row, SURVEY_ROWS[-1]], choices)
    with pytest.raises(XlsFormError) as error:
        import_xlsform(path)
    problems = error.value.problems
    assert [p.path for p in problems] == ["survey row 3"]
    assert message in problems[0].message, problems


def test_command_line_names_rows_and_a_file_that_is_no_workbook(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = workbook(tmp_path / "bad.xlsx", [["text", "name_q", "Your name?"]])
    assert main(["survey", "import-xlsform", str(path)]) == 1
    out = capsys.readouterr().out
    assert "survey row 2 -> type 'text' (free text) cannot be keyed on a phone" in out
    not_xlsx = tmp_path / "form.xlsx"
    not_xlsx.write_text("type,name\n")
    assert main(["survey", "import-xlsform", str(not_xlsx)]) == 1
    assert "save the form as .xlsx" in capsys.readouterr().out


def test_expressions() -> None:
    multiple = {"needs"}
    assert skip_logic("${a} = 'yes' and (${b} > 2 or selected(${needs}, 'water'))",
                      multiple) == [
        (_t("a", "equal_to", "yes"), _t("b", "greater_than", "2")),
        (_t("a", "equal_to", "yes"), _t("needs", "regex", "(^| )water( |$)"))]
    assert skip_logic("not(${a} = 'x' or ${b} != '')", set()) == [
        (_t("a", "not_equal_to", "x"), _t("b", "is_blank", ""))]
    assert skip_logic("3 < ${n}", set()) == [(_t("n", "greater_than", "3"),)]
    assert skip_logic("true()", set()) == [()]
    assert number_range(". > 0 and . <= 12", decimals=False) == (1, 12)
    with pytest.raises(ExpressionError):
        number_range(". > 0 or . < 100", decimals=False)


def _t(field: str, op: str, value: str) -> Any:
    from edge.survey.xlsform._expressions import Test

    return Test(field, op, value)


def test_the_imported_json_is_readable(tmp_path: Path) -> None:
    survey, _files, warnings = import_xlsform(workbook(tmp_path / "needs.xlsx"))
    text = json.dumps(survey, ensure_ascii=False)
    assert "relevant_members" not in text  # group relevance sits before the group
    split = next(s for s in survey["states"] if s["name"] == "relevant_household")
    assert split["conditions"] == [{"input": "{{answers.consent}}", "op": "equal_to",
                                    "value": "yes", "next": "household"}]
    assert split["else"] == "bye"
    assert any("calculate is left out" in w.message for w in warnings)
