"""Bot API methods about the bot itself: identity, updates, files, callbacks, commands, webhook."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from .telegram_objects import JSON, AnsweredCallback, WebhookState
from .telegram_protocol import ApiError, bad_request, optional_json, required
from .telegram_sending import Handler
from .telegram_state import TelegramState

QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
OTHER_POLLER = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"([a-z]{2})?")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def update_kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def scope_key(scope: JSON | None) -> str:
    """A readable key for a BotCommandScope: "default", "all_private_chats", "chat:42"..."""
    scope = scope or {"type": "default"}
    kind = scope.get("type")
    if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
        return str(kind)
    if kind in ("chat", "chat_administrators"):
        return f"{kind}:{scope.get('chat_id')}"
    if kind == "chat_member":
        return f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
    raise bad_request("wrong scope type specified")


class BotMethods:
    def __init__(self, state: TelegramState) -> None:
        self.state = state
        self.allowed_updates: list[str] | None = None
        self.closing = False
        self._poller = 0

    def handlers(self) -> dict[str, Handler]:
        return {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "getFile": self.get_file,
            "answerCallbackQuery": self.answer_callback_query,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
        }

    async def get_me(self, params: JSON) -> JSON:
        return self.state.bot_user

    def _deliverable(self) -> list[JSON]:
        if self.allowed_updates:
            allowed = set(self.allowed_updates)
            dropped = {u["update_id"] for u in self.state.updates if update_kind(u) not in allowed}
            if dropped:  # Telegram never gives them to this bot: whoever waits may look now
                self.state.never_delivered |= dropped
                asyncio.get_running_loop().call_soon(self.state.changed.fire)
            self.state.updates = [u for u in self.state.updates if update_kind(u) in allowed]
        return self.state.updates

    async def get_updates(self, params: JSON) -> list[JSON]:
        if self.state.webhook.url:
            raise ApiError(409, WEBHOOK_ACTIVE)
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            self.state.confirmed_below = max(self.state.confirmed_below, offset)
            self.state.changed.fire()
            self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self.state.updates = self.state.updates[offset:]
        allowed = optional_json(params, "allowed_updates")
        if allowed is not None:
            self.allowed_updates = list(allowed) or None
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(int(params.get("timeout") or 0), 0)
        self._poller += 1
        me = self._poller
        await self.state.changed.wait_until(
            lambda: bool(self._deliverable()) or self.closing or self._poller != me, timeout
        )
        if self._poller != me:
            raise ApiError(409, OTHER_POLLER)
        return self._deliverable()[:limit]

    async def get_file(self, params: JSON) -> JSON:
        record = self.state.files.get(str(required(params, "file_id")))
        if record is None:
            raise bad_request("invalid file_id")
        info: JSON = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_path": record.file_path,
        }
        if record.data is not None:
            info["file_size"] = record.size
        return info

    async def answer_callback_query(self, params: JSON) -> bool:
        pending = self.state.callbacks.get(str(params.get("callback_query_id") or ""))
        if pending is None or pending.answered:
            raise bad_request(QUERY_TOO_OLD)
        if len(str(params.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        pending.answered = True
        self.state.answered_callbacks.append(
            AnsweredCallback(
                id=pending.id,
                user_id=pending.user_id,
                data=pending.data,
                text=params.get("text") or None,
                show_alert=bool(params.get("show_alert")),
                url=params.get("url") or None,
            )
        )
        self.state.changed.fire()
        return True

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        language = str(params.get("language_code") or "")
        if not _LANGUAGE.fullmatch(language):
            raise bad_request("invalid language code specified")
        return scope_key(optional_json(params, "scope")), language

    async def set_my_commands(self, params: JSON) -> bool:
        commands = optional_json(params, "commands")
        if not isinstance(commands, list):
            raise bad_request("commands is empty")
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand")
            if not _COMMAND.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description is empty or too long")
        listed = [{"command": c["command"], "description": c["description"]} for c in commands]
        self.state.commands[self._commands_key(params)] = listed
        return True

    async def get_my_commands(self, params: JSON) -> list[JSON]:
        return self.state.commands.get(self._commands_key(params), [])

    async def delete_my_commands(self, params: JSON) -> bool:
        self.state.commands.pop(self._commands_key(params), None)
        return True

    async def set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self.state.updates.clear()
        allowed = optional_json(params, "allowed_updates")
        self.state.webhook = WebhookState(
            url=url,
            secret_token=secret if url else None,
            allowed_updates=list(allowed) if url and allowed else None,
            max_connections=int(params.get("max_connections") or 40),
            drop_pending_updates=bool(params.get("drop_pending_updates")),
        )
        return True

    async def delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self.state.updates.clear()
        self.state.webhook = WebhookState()
        return True

    async def get_webhook_info(self, params: JSON) -> JSON:
        hook = self.state.webhook
        info: dict[str, Any] = {
            "url": hook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.updates),
        }
        if hook.url:
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates:
                info["allowed_updates"] = hook.allowed_updates
        return info
