"""A fake Telegram Bot API server on loopback, for aiogram and python-telegram-bot alike.

async with fake_telegram() as tg:
    bot = Bot(tg.token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))
    learner = tg.user(1001, "Amina", language_code="fr")
    tg.send_command(learner, "/start")
    ...
    assert (await tg.wait_for_sent(learner))[0].text == "Bonjour"
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from .telegram_editing import EditingMethods
from .telegram_flood import FloodControl, FloodLimits
from .telegram_methods import BotMethods
from .telegram_objects import JSON, ApiCall, Chat, chat_id_of
from .telegram_people import TelegramPeople
from .telegram_protocol import ApiError, answer, read_params, refusal
from .telegram_records import TelegramRecords
from .telegram_sending import Handler, SendingMethods
from .telegram_state import TelegramState

DEFAULT_TOKEN = "123456789:AAFakeTelegramTokenForCoachTests-0001"
ERROR_TEXT = {
    400: "Bad Request",
    403: "Forbidden",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class _Failure:
    status: int | Literal["timeout"]
    description: str | None
    retry_after: int | None
    after_processing: bool
    hang: float


class FakeTelegram(TelegramPeople, TelegramRecords):
    """The fake server, the people in its chats, and what the bot did, for assertions."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "coach_test_bot",
        bot_name: str = "Coach",
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        limits: FloodLimits | None = None,
        strict_chats: bool = False,
    ) -> None:
        self.token = token
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.state = TelegramState(token, self.bot_user, wall)
        self.clock = clock
        self.flood = FloodControl(clock, limits or FloodLimits())
        sending = SendingMethods(self.state, self.flood, strict_chats)
        self._bot_methods = BotMethods(self.state)
        groups = (sending, EditingMethods(sending), self._bot_methods)
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for group in groups
            for name, handler in group.handlers().items()
        }
        self._failures: dict[str, list[_Failure]] = {}
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.server_errors: list[BaseException] = []

    @property
    def bot_api_url(self) -> str:
        """python-telegram-bot's base_url."""
        return f"{self.base_url}/bot"

    @property
    def file_api_url(self) -> str:
        """python-telegram-bot's base_file_url."""
        return f"{self.base_url}/file/bot"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._bot_methods.closing = True
        self._stopping.set()
        self.state.changed.fire()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return refusal(ApiError(401, "Unauthorized"))
        name, handler = self._methods.get(
            request.match_info["method"].lower(), (request.match_info["method"], None)
        )
        params: JSON = {}
        try:
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            params = await read_params(request)
            failures = self._failures.get(name.lower())
            failure = failures.pop(0) if failures else None
            if failure is None:
                return self._record(
                    name, params, 200, {"ok": True, "result": await handler(params)}
                )
            if failure.after_processing:
                await handler(params)
            return await self._fail(name, params, failure)
        except ApiError as error:
            return self._record(name, params, error.status, error.body())
        except Exception as error:
            self.server_errors.append(error)
            failed = ApiError(500, f"Internal Server Error: fake server bug: {error!r}")
            return self._record(name, params, 500, failed.body())

    async def _fail(self, name: str, params: JSON, failure: _Failure) -> web.Response:
        if failure.status == "timeout":
            with suppress(TimeoutError):
                async with asyncio.timeout(failure.hang):  # not wait_for: it can swallow a cancel
                    await self._stopping.wait()
            status = 504
        else:
            status = failure.status
        description = failure.description or ERROR_TEXT.get(status, "Error")
        if status == 429 and failure.description is None:
            description = f"Too Many Requests: retry after {failure.retry_after or 1}"
        retry_after = failure.retry_after or (1 if status == 429 else None)
        return self._record(name, params, status, ApiError(status, description, retry_after).body())

    def _record(self, method: str, params: JSON, status: int, body: JSON) -> web.Response:
        self.state.calls.append(ApiCall(method, params, status, body, self.clock()))
        if status == 429:
            self.state.count_429 += 1
        self.state.changed.fire()
        if status == 200:
            return answer(body["result"])
        return web.json_response(body, status=status)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        record = self.state.file_by_path(request.match_info["path"])
        if request.match_info["token"] != self.token or record is None or record.data is None:
            return refusal(ApiError(404, "Not Found"))
        mime = record.mime_type or "application/octet-stream"
        return web.Response(body=record.data, content_type=mime)

    # What tests arrange.

    def fail_next(
        self,
        method: str,
        status: int | Literal["timeout"] = 500,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        after_processing: bool = False,
        hang: float = 30.0,
        times: int = 1,
    ) -> None:
        """Make the next call(s) of method fail: an error status, or "timeout" (no answer for
        `hang` seconds, or until the server stops). after_processing applies the call first,
        as when Telegram did the work but the answer was lost."""
        failure = _Failure(status, description, retry_after, after_processing, hang)
        self._failures.setdefault(method.lower(), []).extend([failure] * times)

    def block(self, chat: int | Chat) -> None:
        self.state.forbidden[chat_id_of(chat)] = "Forbidden: bot was blocked by the user"

    def kick(self, chat: int | Chat) -> None:
        chat_id = chat_id_of(chat)
        kind = self.state.chat(chat_id).chat.get("type", "group")
        self.state.forbidden[chat_id] = f"Forbidden: bot was kicked from the {kind} chat"

    def deactivate(self, chat: int | Chat) -> None:
        self.state.forbidden[chat_id_of(chat)] = "Forbidden: user is deactivated"

    def upgrade(self, group: int | Chat, supergroup: int | Chat) -> None:
        """The group became a supergroup: messages to its old id are refused with the new one."""
        self.state.migrated[chat_id_of(group)] = chat_id_of(supergroup)

    def unblock(self, chat: int | Chat) -> None:
        self.state.forbidden.pop(chat_id_of(chat), None)

    @property
    def limits(self) -> FloodLimits:
        return self.flood.limits

    @limits.setter
    def limits(self, limits: FloodLimits) -> None:
        self.flood.limits = limits


@asynccontextmanager
async def fake_telegram(**options: Any) -> AsyncIterator[FakeTelegram]:
    """Start a FakeTelegram on 127.0.0.1 (a free port) and stop it afterwards.

    A crash inside the fake (answered as a 500) fails the test on the way out.
    """
    server = FakeTelegram(**options)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    if server.server_errors:
        raise AssertionError(f"the fake Telegram server crashed: {server.server_errors!r}")
