"""Outbox messages posted to a gateway with ``POST /api/message``, within the group's limit.

A group takes at most ``per_minute`` posts in any minute (20 unless configured). The limit
is kept here rather than by the sender's group window because one post may carry the replies
to several people (see ``combining``) and counts once; it is counted from the outbox, so it
holds for every coach process. When the group is at its limit the message waits in the
outbox (``RetryAfter``), and the gateway's next messages gather behind it, to go out
together in the next post.

Text only: a lesson picture or sound becomes a link when the operator allows it (it costs
the group's data); a picture is said in words too, by its description.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp

from bot.channels.matterbridge.api import MatterbridgeApi, Refused
from bot.channels.matterbridge.combining import CombinedPosts
from bot.channels.matterbridge.inbound import CHANNEL
from bot.core.text import N_, Msg, Verbatim
from bot.delivery.errors import Rejected, RetryAfter, Transient
from bot.i18n import Catalogs
from bot.services.coach import utc_now
from bot.services.rendering import right_to_left
from bot.store.outbox import OutboundMessage

WINDOW_SECONDS = 60.0
MARGIN = 1.03  # arrivals may bunch up a little on the way: the window is kept a little wider
COMBINED_AT_MOST = 20  # messages in one post
BETWEEN = "\n\n"
LEFT_OUT: dict[str, Msg] = {
    "image": N_("(A picture goes with this step; it is not sent in the group, to save data.)"),
    "audio": N_("(A sound goes with this step; it is not sent in the group, to save data.)"),
}


class GroupWindow:
    """At most ``limit`` posts to one gateway in any ``seconds``, counted from the outbox:
    a gateway's messages are sent by one coach process at a time, so the count holds for
    all of them, and after a restart."""

    def __init__(
        self, posts: CombinedPosts, limit: int, seconds: float, clock: Callable[[], datetime]
    ) -> None:
        self.posts = posts
        self.limit = limit
        self.seconds = seconds
        self.clock = clock

    async def wait(self, gateway: str) -> float:
        """Seconds before one more post fits; 0 when it fits now."""
        now, span = self.clock(), timedelta(seconds=self.seconds * MARGIN)
        times = await self.posts.posted_since(CHANNEL.name, gateway, now - span)
        if len(times) < self.limit:
            return 0.0
        return max(0.001, (times[len(times) - self.limit] + span - now).total_seconds())


class MatterbridgeDelivery:
    capabilities = CHANNEL

    def __init__(
        self,
        api: MatterbridgeApi,
        posts: CombinedPosts,
        catalogs: Catalogs,
        *,
        username: str,
        per_minute: int,
        media_base: str | None = None,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """``media_base``: the web address lesson media are served under (``/curriculum/``),
        when the operator allows links; None to describe them in words."""
        self.api = api
        self.posts = posts
        self.catalogs = catalogs
        self.username = username
        self.media_base = media_base
        self.window = GroupWindow(posts, per_minute, window_seconds, clock)

    def is_group(self, chat_id: str) -> bool:
        """The group's limit is the window here, which counts posts, not outbox messages."""
        return False

    async def deliver(self, message: OutboundMessage) -> str | None:
        already = await self.posts.posted_as(message.id)
        if already is not None:
            return already
        wait = await self.window.wait(message.chat_id)
        if wait > 0:
            raise RetryAfter(wait)
        carried, text = await self._combined(message)
        try:
            await self.api.post(message.chat_id, text, self.username)
        except Refused as refused:
            if refused.status in (400, 404, 413, 422):
                raise Rejected(str(refused)) from refused
            raise Transient(str(refused)) from refused
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise Transient(type(error).__name__) from error
        post_id = f"mb:{message.id}"
        posted = [message.id, *(m.id for m in carried)]
        await self.posts.carried(posted, post_id, self.window.clock())
        return post_id

    async def _combined(self, first: OutboundMessage) -> tuple[list[OutboundMessage], str]:
        """The messages after ``first`` that fit in its post, and the post's text."""
        text = self.text_of(first)
        carried = []
        for message in await self.posts.following(first, COMBINED_AT_MOST - 1):
            more = self.text_of(message)
            if len(text) + len(BETWEEN) + len(more) > (CHANNEL.max_text or 0):
                break
            text += BETWEEN + more
            carried.append(message)
        return carried, text

    def text_of(self, message: OutboundMessage) -> str:
        """A message's text, with its picture or sound as a link or in words: a picture's
        own description (rendered with the message), else a few words saying it is left out."""
        media = message.media or {}
        kind, path, alt = media.get("kind"), media.get("path"), media.get("alt")
        if kind not in LEFT_OUT or not isinstance(path, str):
            return message.text
        said: Msg = LEFT_OUT[kind]
        if self.media_base is not None:
            link = Verbatim(f"{self.media_base}/{path}")
            said = (
                N_("Picture: {link}", link=link)
                if kind == "image"
                else N_("Sound: {link}", link=link)
            )
        line = self.catalogs.render(said, message.language)
        if isinstance(alt, str) and alt:
            described = f"🖼 {alt}" if kind == "image" else f"🔊 {alt}"
            line = f"{described}\n{line}" if self.media_base is not None else described
        if self.catalogs.is_rtl(message.language):
            line = right_to_left(line)
        return f"{message.text}\n{line}" if message.text else line
