"""The web chat page's own words (composer, attach menu, forms, notices), from the catalogs.

Keys are what ``chat.js`` and ``index.html`` name (``data-t="send"``); the msgids are
extracted with the rest of the interface text by ``make translations``.
"""

from __future__ import annotations

from typing import Any

from bot.core.text import N_, Msg
from bot.i18n import Catalogs
from bot.web.fonts import Fonts

PAGE_TEXTS: dict[str, Msg] = {
    "send": N_("Send"),
    "attach": N_("Attach"),
    "photo": N_("Photo"),
    "voice": N_("Voice note"),
    "document": N_("Document"),
    "location": N_("Location"),
    "contact": N_("Contact"),
    "reply": N_("Reply"),
    "forward": N_("Forward"),
    "cancel": N_("Cancel"),
    "notSent": N_("not sent — tap to retry"),
    "sending": N_("Sending…"),
    "lat": N_("Latitude"),
    "lon": N_("Longitude"),
    "name": N_("Name"),
    "phone": N_("Phone"),
    "message": N_("Message"),
    "placeholder": N_("Write a message…"),
    "myPos": N_("Use my current position"),
    "orType": N_("Or type a position:"),
    "geoFail": N_("Position not available. You can type one instead."),
    "badPos": N_("Latitude: from -90 to 90. Longitude: from -180 to 180."),
    "offline": N_("No connection. Your messages will be sent when you are back online."),
    "forwarded": N_("Forwarded message"),
    "error": N_("Something went wrong. Please try again."),
    "mb": N_("MB"),
    "noScript": N_("Coach needs JavaScript. Please turn it on in your browser."),
}


def bcp47(code: str) -> str:
    """A catalog code as a language tag for HTML: ``fa_AF`` is ``fa-AF``."""
    return code.replace("_", "-")


def page_language(
    catalogs: Catalogs, code: str, fonts: Fonts, max_upload_mb: int
) -> dict[str, Any]:
    """Everything the page needs to speak one language: tag, direction, words and font."""
    limit = N_("This file is too big. Please send a file under {limit} MB.", limit=max_upload_mb)
    texts = {key: catalogs.render(msg, code) for key, msg in PAGE_TEXTS.items()}
    return {
        "lang": bcp47(code),
        "dir": "rtl" if catalogs.is_rtl(code) else "ltr",
        "texts": {**texts, "tooBig": catalogs.render(limit, code)},
        "fonts": fonts.stylesheet_url(code),
        "maxFile": max_upload_mb * 2**20,
    }
