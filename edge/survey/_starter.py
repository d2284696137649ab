"""``edgecall survey new``: a starter survey whose ``note`` keys explain each part (JSON has no
comments; the checker allows ``note`` anywhere)."""

from __future__ import annotations

from typing import Any

# A few words per language for the starter's prompts; other languages get the English text
# marked for translation.
_WORDS = {
    "en": ("For English, press {key}.", "Welcome. Press star at any time to stop.",
           "May we ask you two questions? Press 1 for yes, 2 for no.",
           "How many people live with you? Type the number, then hash.",
           "What do you need most? 1 food, 2 water, 3 health.",
           "Thank you. Goodbye.", "No problem. Goodbye."),
    "fr": ("Pour le français, appuyez sur {key}.", "Bienvenue. Appuyez sur étoile pour arrêter.",
           "Pouvons-nous vous poser deux questions? 1 pour oui, 2 pour non.",
           "Combien de personnes vivent avec vous? Tapez le nombre, puis dièse.",
           "De quoi avez-vous le plus besoin? 1 nourriture, 2 eau, 3 santé.",
           "Merci. Au revoir.", "Pas de problème. Au revoir."),
    "ar": ("للعربية، اضغط {key}.", "مرحبًا. اضغط النجمة للتوقف في أي وقت.",
           "هل نستطيع أن نسألك سؤالين؟ اضغط 1 لنعم، 2 للا.",
           "كم عدد الأشخاص الذين يعيشون معك؟ اكتب الرقم ثم المربع.",
           "ما أكثر ما تحتاجه؟ 1 طعام، 2 ماء، 3 صحة.",
           "شكرًا. مع السلامة.", "لا بأس. مع السلامة."),
}


def _texts(language: str, index: int) -> str:
    words = _WORDS.get(language)
    if words:
        return words[index]
    return f"[{language}: translate] {_WORDS['en'][index]}"


def starter_survey(languages: list[str]) -> dict[str, Any]:
    def prompt(index: int) -> dict[str, str]:
        return {lang: _texts(lang, index) for lang in languages}

    states: list[dict[str, Any]] = []
    if len(languages) > 1:
        menu = {}
        for key, lang in enumerate(languages, start=1):
            menu[str(key)] = lang
        states.append({
            "name": "language", "type": "language", "options": menu,
            "note": "Plays its prompt in every language in turn; the key sets the call's "
                    "language. Silence keeps default_language.",
            "prompt": {lang: _texts(lang, 0).format(key=key)
                       for key, lang in enumerate(languages, start=1)},
        })
    states += [
        {"name": "intro", "type": "say", "barge_in": True, "prompt": prompt(1),
         "note": "A message. barge_in: a key skips it and answers the next question."},
        {"name": "consent", "type": "yesno", "yes": "household", "no": "declined",
         "prompt": prompt(2),
         "note": "1 = yes, 2 = no (yes_key/no_key change them); each answer has its own next."},
        {"name": "household", "type": "number", "min": 1, "max": 30, "prompt": prompt(3),
         "note": "Digits then the finish key (#); valid from min to max. Answers are stored "
                 "under the state's name (here: household)."},
        {"name": "need", "type": "choice", "prompt": prompt(4), "next": "thanks",
         "options": [{"key": "1", "value": "food"}, {"key": "2", "value": "water"},
                     {"key": "3", "value": "health"}],
         "note": "One key picks an option; its value is what is stored. An option may have "
                 "its own next."},
        {"name": "thanks", "type": "end", "disposition": "complete", "prompt": prompt(5),
         "note": "The closing message. disposition: what reaching it means."},
        {"name": "declined", "type": "end", "disposition": "refused", "prompt": prompt(6)},
    ]
    survey: dict[str, Any] = {
        "id": "my-survey",
        "version": "1",
        "title": "My survey",
        "note": "A starter survey: edit the texts, add states (types: say, choice, yesno, "
                "number, digits, split, set, end; see docs/surveys.md), bump version on "
                "every change, then run 'edgecall survey check'. Audio: give a prompt as "
                '{"text": ..., "audio": "audio/en/intro.wav"} and the recording is played '
                "instead of the text.",
        "languages": languages,
        "default_language": languages[0],
        "settings": {"timeout": 5, "finish_key": "#", "max_attempts": 3, "opt_out_key": "*",
                     "note": "timeout: seconds of silence; max_attempts: times a question "
                             "is asked; opt_out_key: ends the call as refused."},
        "states": states,
    }
    others = [lang for lang in languages if lang != "en"]
    if others:
        survey["messages"] = {
            "note": "What the box says itself (English has built-in wording): translate.",
            **{m: {lang: f"[{lang}: translate the {m} message]" for lang in others}
               for m in ("sorry", "no_input", "refused", "busy", "error")}}
    return survey
