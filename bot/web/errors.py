"""Every error the web app gives is a sentence in the learner's language, never a traceback."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Middleware
from sqlalchemy.exc import SQLAlchemyError

from bot.core.text import N_, Msg
from bot.i18n import Catalogs
from bot.services.coach import Unavailable
from bot.web.bodies import TOO_LONG, UNREADABLE, Refused

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SORRY = N_("Sorry, something went wrong on our side. Please try again in a minute.")
NOT_FOUND = N_("Nothing was found at this address.")
NOT_ALLOWED = N_("This address does not take this kind of request.")
RETRY_SECONDS = 60
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8}){0,3}$")
_BY_STATUS = {404: NOT_FOUND, 405: NOT_ALLOWED, 413: TOO_LONG, 414: NOT_FOUND}


def language_hint(request: web.BaseRequest) -> str | None:
    """The browser's first language, if it looks like a language tag."""
    first = request.headers.get("Accept-Language", "")[:200].split(",")[0].split(";")[0].strip()
    return first if _LANGUAGE.match(first) else None


class Sentences:
    """Turns a refusal into a response: JSON ``{"error": ...}`` on the API, text elsewhere."""

    def __init__(self, catalogs: Catalogs, default_language: str) -> None:
        self.catalogs = catalogs
        self.default_language = default_language

    def language(self, request: web.BaseRequest) -> str:
        return self.catalogs.best_match(language_hint(request), self.default_language)

    def respond(
        self,
        request: web.BaseRequest,
        reason: Msg,
        status: int,
        *,
        retry_after: int | None = None,
        language: str | None = None,
    ) -> web.Response:
        text = self.catalogs.render(reason, language or self.language(request))
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        if _api(request):
            return web.json_response({"error": text}, status=status, headers=headers)
        return web.Response(text=text, status=status, headers=headers)

    def refused(self, request: web.BaseRequest, refused: Refused) -> web.Response:
        return self.respond(
            request, refused.reason, refused.status, retry_after=refused.retry_after
        )

    def unavailable(self, request: web.BaseRequest) -> web.Response:
        return self.respond(request, SORRY, 503, retry_after=RETRY_SECONDS)


def error_middleware(sentences: Sentences) -> Middleware:
    """The last line of defence: what a handler did not answer gets a clean response."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as http:
            if http.status < 400 or (http.text != _default_text(http) and not _api(request)):
                raise
            reason = _BY_STATUS.get(http.status, UNREADABLE if http.status < 500 else SORRY)
            response = sentences.respond(request, reason, http.status)
            for name in ("Allow", "Retry-After"):
                if name in http.headers:
                    response.headers[name] = http.headers[name]
            return response
        except Refused as refused:
            return sentences.refused(request, refused)
        except ConnectionError:  # the client went away while sending: nobody to answer
            log.info("web %s %s: the client went away", request.method, _route(request))
            return sentences.respond(request, UNREADABLE, 400)
        except (Unavailable, SQLAlchemyError, OSError, TimeoutError) as error:
            log.warning(
                "web %s %s: database unavailable (%s)",
                request.method,
                _route(request),
                type(error).__name__,
            )
            return sentences.unavailable(request)
        except Exception as error:  # never a traceback with a learner's data in the log
            log.error("web %s %s failed: %s", request.method, _route(request), type(error).__name__)
            return sentences.respond(request, SORRY, 500)

    return guard


class QuietBadRequests(logging.Filter):
    """aiohttp logs a request it cannot parse with a traceback quoting the request line, which
    may hold a credential; one line naming the kind of error is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.msg, record.args = "unreadable HTTP request refused: %s", (type(error).__name__,)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_bad_requests() -> None:
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, QuietBadRequests) for f in server_log.filters):
        server_log.addFilter(QuietBadRequests())


def _api(request: web.BaseRequest) -> bool:
    return request.path.startswith("/api/")


def _default_text(http: web.HTTPException) -> str:
    return f"{http.status}: {http.reason}"


def _route(request: web.Request) -> str:
    """The route's pattern, never the path itself: a path may hold a credential."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"
