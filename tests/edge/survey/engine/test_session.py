"""The engine's contract, beyond single node kinds."""

from __future__ import annotations

from edge.survey import BUILTIN_DEMO, load_survey
from edge.survey.engine import (
    Driver,
    End,
    HungUp,
    Key,
    Play,
    PromptEnded,
    RecordAnswer,
    Session,
    StartTimer,
    Timeout,
)

DEMO = load_survey(BUILTIN_DEMO)


def test_the_demo_completing_path() -> None:
    driver = Driver(Session(DEMO))
    driver.key("1")  # language: English
    driver.prompt_end()  # intro
    for keys in ("1", "1#", "1", "2"):
        driver.key(keys)
    driver.prompt_end()  # closing message
    assert driver.session.disposition == "complete"
    assert {a.answer.question: a.answer.value for a in driver.answers()} == {
        "language": "en", "consent": "yes", "household": "1", "need": "food", "callback": "no"}


def test_an_answer_is_recorded_before_the_next_prompt_is_played() -> None:
    driver = Driver(Session(DEMO))
    actions = driver.key("1")
    record = next(i for i, a in enumerate(actions) if isinstance(a, RecordAnswer))
    play = next(i for i, a in enumerate(actions) if isinstance(a, Play))
    assert record < play


def test_stale_prompt_and_timer_events_are_ignored() -> None:
    session = Session(DEMO)
    first = session.start()[0]
    assert isinstance(first, Play)
    session.feed(Key("1"))  # stops the language menu, moves on to the intro
    assert session.feed(PromptEnded(first.play_id)) == []  # the stopped menu reports late
    assert session.state_name == "intro"
    assert session.feed(Timeout(999)) == []


def test_keys_after_hang_up_change_nothing() -> None:
    driver = Driver(Session(DEMO))
    driver.key("1")
    driver.prompt_end()
    driver.key("1")
    driver.hang_up()
    assert driver.session.disposition == "partial"
    assert driver.session.feed(Key("1")) == []
    assert driver.session.feed(HungUp()) == []


def test_silence_timer_starts_when_the_prompt_ends_with_the_survey_timeout() -> None:
    driver = Driver(Session(DEMO))
    assert driver.timer is None  # no timer while the menu plays
    actions = driver.prompt_end()
    timers = [a for a in actions if isinstance(a, StartTimer)]
    assert [t.seconds for t in timers] == [DEMO.settings.timeout_s]


def test_silence_every_time_is_no_input_after_a_goodbye() -> None:
    driver = Driver(Session(DEMO))
    driver.key("1")
    driver.prompt_end()
    for _ in range(DEMO.settings.max_attempts):
        driver.prompt_end()
        driver.timeout()
    assert driver.session.disposition is None  # the goodbye is still playing
    assert driver.playing is not None and driver.playing.utterances[0].key == "message.no_input"
    driver.prompt_end()
    assert driver.session.disposition == "no-input"


def test_keys_faster_than_prompts_answer_the_following_questions() -> None:
    driver = Driver(Session(DEMO))
    driver.key("1")  # during the language menu
    driver.prompt_end()
    driver.key("11#12")  # consent, household 1, need food, callback no -- all during prompts
    assert {a.answer.question: a.answer.value for a in driver.answers()} == {
        "language": "en", "consent": "yes", "household": "1", "need": "food", "callback": "no"}


def test_exactly_one_end_action() -> None:
    driver = Driver(Session(DEMO))
    driver.key("1*")
    driver.prompt_end()
    driver.hang_up()
    ends = [a for a in driver.actions if isinstance(a, End)]
    assert len(ends) == 1 and ends[0].disposition == "refused"


def test_prompts_follow_the_chosen_language_and_render_templates() -> None:
    driver = Driver(Session(DEMO))
    driver.key("2")  # français
    driver.prompt_end()
    driver.key("1")
    driver.key("3#")  # household 3 -> the children question mentions it
    play = driver.playing
    assert play is not None and play.utterances[0].language == "fr"
    assert "3 personnes" in play.utterances[0].text


def test_variables_are_recorded_before_the_next_prompt_is_played() -> None:
    from edge.survey import compile_survey
    from edge.survey.engine import RecordResults

    survey, problems = compile_survey({
        "id": "v", "version": "1", "languages": ["en"], "states": [
            {"name": "mark", "type": "set", "variables": {"stage": "start"}},
            {"name": "q", "type": "yesno", "prompt": {"en": "OK?"}},
            {"name": "bye", "type": "end", "prompt": {"en": "Bye"}}]}, None)
    assert survey is not None and not problems
    actions = Session(survey).start()
    record = next(i for i, a in enumerate(actions) if isinstance(a, RecordResults))
    play = next(i for i, a in enumerate(actions) if isinstance(a, Play))
    assert record < play
