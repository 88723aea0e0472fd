"""Every sentence the coach can show is translated in every language it offers: nobody
meets English in the middle of their own language because a catalog was not updated."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.conftest import ROOT

LANGUAGES = ["fr", "ar", "fa_AF", "ps", "uk", "ru", "ti"]
KEYWORDS = {"N_": None, "Np_": (1, 2)}


def interface_msgids() -> set[str]:
    found = extract_from_dir(str(ROOT / "bot"), method_map=[("**.py", "python")], keywords=KEYWORDS)
    return {
        message if isinstance(message, str) else message[0] for _f, _l, message, _c, _x in found
    }


def test_every_interface_sentence_is_translated_in_every_language() -> None:
    wanted = interface_msgids()
    assert len(wanted) > 200
    missing = {}
    for code in LANGUAGES:
        with (ROOT / "locales" / code / "LC_MESSAGES" / "messages.po").open("rb") as po:
            catalog = read_po(po)
        lacking = []
        for msgid in sorted(wanted):
            message = catalog.get(msgid)
            strings = message.string if message is not None else ""
            done = all(strings) if isinstance(strings, tuple) else bool(strings)
            if message is None or not done or message.fuzzy:
                lacking.append(msgid)
        if lacking:
            missing[code] = lacking
    assert missing == {}, "run `make translations` and translate: " + repr(missing)[:2000]
