"""Simulated callers for the demo: scripts drawn from the survey itself, so every kind of
call the field sees (complete, fumbling, silent, dropped, opting out, ringing off to be called
back) shows up."""

from __future__ import annotations

import random
from dataclasses import dataclass

from edge.lines.simulated import HANGUP, SPEAK, CallerScript
from edge.survey import KEYPAD_KINDS, Session, Survey
from edge.survey.engine import Driver
from edge.survey.nodes import KINDS

# persona -> share of callers
PERSONAS = {
    "completes": 0.55,
    "fumbles": 0.15,
    "drops": 0.12,
    "silent": 0.08,
    "opts_out": 0.05,
    "declines": 0.05,
}
# A caller with no credit rings and hangs up before the box answers, and expects a call back:
# only on networks that can ring off and take a call back (the simulated line, the modem bank).
MISSED = "rings_off"
MISSED_SHARE = 0.1


@dataclass(frozen=True)
class DemoCaller:
    persona: str
    number: str
    script: CallerScript
    # How this caller's phone answers when the box calls back: the survey answered, no
    # second callback asked for.
    callback_script: CallerScript | None = None
    rang_off: bool = False


def _valid(survey: Survey, name: str, rng: random.Random, first_yesno: str | None) -> str:
    state = survey.states[name]
    if state.kind == "record":  # a spoken message of a few seconds
        return f"{SPEAK}{rng.randint(2, 6)}"
    if state.kind == "number":
        low, high = int(state.props["min"]), int(state.props["max"])
        return str(rng.randint(low, min(high, low + 6))) + (state.props["finish_key"] or "")
    if state.kind == "digits":  # a code or case number: as many digits as it takes
        width = max(state.props["min_digits"], min(4, state.props["max_digits"] or 4))
        return "".join(rng.choice("0123456789") for _ in range(width)) + (
            state.props["finish_key"] if state.props["max_digits"] != width else "")
    keys = list(state.props["options"])
    if state.kind == "yesno":
        # The first yes/no is the consent question: only "declines" callers say no to it.
        return keys[0] if name == first_yesno or rng.random() < 0.7 else keys[1]
    return rng.choice(keys)


def heard(survey: Survey, name: str) -> str:
    """The key of the last prompt a question plays, which a caller's script answers: a record
    state's tone, when it plays one."""
    state = survey.states[name]
    return f"{name}.beep" if state.kind == "record" and state.props["beep"] else \
        f"{name}.prompt"


def _questions_on_path(survey: Survey, responses: dict[str, list[str]]) -> list[str]:
    """The questions a caller giving ``responses`` will hear: the engine itself walks them."""
    driver = Driver(Session(survey))
    asked: list[str] = []
    for _step in range(200):
        if driver.recording is not None:  # as though the caller said a few words
            driver.recording_ended("silence", 3.0)
            continue
        if driver.session.finished or driver.playing is None:
            break
        state = driver.session.state_name or ""
        given = responses.get(driver.playing.utterances[-1].key)
        if given and survey.states[state].kind in KEYPAD_KINDS and state not in asked:
            asked.append(state)
            driver.key(given[0])
        else:
            driver.prompt_end()
    return asked


def _invalid(survey: Survey, name: str, rng: random.Random) -> str:
    state = survey.states[name]
    if state.kind == "number":
        return str(int(state.props["max"]) + rng.randint(1, 50)) + (
            state.props["finish_key"] or "")
    if state.kind == "digits":  # too short, when it has a minimum; else a stray star
        return "1#" if state.props["min_digits"] > 1 else "#"
    used = set(KINDS[state.kind].keys_used(state)) | {survey.settings.opt_out_key}
    return rng.choice([k for k in "0123456789#" if k not in used])


def key_groups(survey: Survey, script: CallerScript) -> tuple[list[str], bool]:
    """The same caller as ordered groups of keys, one per question heard (for lines whose
    callers cannot hear which prompt plays, like the modem simulator), and whether they hang
    up after the last group. The engine itself walks the path."""
    remaining = {key: list(values) for key, values in script.responses.items()}
    driver = Driver(Session(survey))
    groups: list[str] = []
    for _step in range(300):
        if driver.recording is not None:  # these lines' callers cannot speak
            driver.recording_ended("unsupported")
            continue
        if driver.session.finished or driver.playing is None:
            break
        prompt = driver.playing.utterances[-1].key
        state = survey.states.get(driver.session.state_name or "")
        answers = remaining.get(prompt)
        if answers:
            response = answers.pop(0)
            if response == HANGUP:
                return groups, True
            groups.append(response)
            driver.key(response)
        elif state is not None and state.kind in KEYPAD_KINDS and prompt == f"{state.name}.prompt":
            break  # silence from here on: the box gives up on its own
        else:
            driver.prompt_end()
    return groups, False


def make_caller(survey: Survey, rng: random.Random, rings_off: bool = False) -> DemoCaller:
    """A random caller; with ``rings_off`` some ring and hang up to be called back."""
    personas = {**PERSONAS, **({MISSED: MISSED_SHARE} if rings_off else {})}
    persona = rng.choices(list(personas), weights=list(personas.values()))[0]
    keyed = [n for n in survey.questions() if survey.states[n].kind in KEYPAD_KINDS]
    all_questions = [n for n in keyed if survey.states[n].kind != "language"]
    yesno = [n for n in all_questions if survey.states[n].kind == "yesno"]
    first_yesno = yesno[0] if yesno else None
    responses = {heard(survey, n): [_valid(survey, n, rng, first_yesno)]
                 for n in survey.questions()}
    complete = dict(responses)
    questions = [n for n in _questions_on_path(survey, responses)
                 if n in all_questions] or all_questions
    target = rng.choice(questions[1:] or questions)
    if persona == "fumbles":
        responses[f"{target}.prompt"] = [_invalid(survey, target, rng),
                                         _valid(survey, target, rng, first_yesno)]
    elif persona == "drops":
        responses[f"{target}.prompt"] = [HANGUP]
    elif persona == "silent":
        responses[f"{target}.prompt"] = []
    elif persona == "opts_out":
        responses[f"{target}.prompt"] = [survey.settings.opt_out_key]
    elif persona == "declines" and yesno:
        state = survey.states[yesno[0]]
        responses[f"{yesno[0]}.prompt"] = [list(state.props["options"])[1]]
    number = "+2557" + "".join(rng.choice("0123456789") for _ in range(8))
    delay = rng.uniform(0.3, 1.5)  # some listen to the whole prompt, most barge in
    answers_callback = CallerScript(_no_second_callback(survey, complete), key_delay_s=delay)
    if persona == MISSED:
        return DemoCaller(persona, number, CallerScript(hang_up_before_answer=True),
                          answers_callback, rang_off=True)
    return DemoCaller(persona, number, CallerScript(responses, key_delay_s=delay),
                      answers_callback)


def _no_second_callback(survey: Survey, responses: dict[str, list[str]]) -> dict[str, list[str]]:
    """The caller's answers for the call back: the same, but "no" to a callback question."""
    out = dict(responses)
    for name, state in survey.states.items():
        if state.kind == "yesno" and state.props.get("callback"):
            out[f"{name}.prompt"] = [list(state.props["options"])[1]]
    return out
