"""Slack's mrkdwn as HTML for the sandbox page: styling, mentions, links and emoji."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from markupsafe import Markup

# The emoji the bot writes (and a few people type), as characters; others stay :names:.
EMOJI = {
    "eyes": "👀", "white_check_mark": "✅", "heavy_check_mark": "✔️", "ticket": "🎫",
    "rotating_light": "🚨", "information_source": "\u2139\ufe0f", "warning": "⚠️",
    "double_vertical_bar": "⏸️", "arrow_forward": "▶️", "tada": "🎉", "wave": "👋",
    "x": "❌", "white_circle": "⚪", "red_circle": "🔴", "large_orange_circle": "🟠",
    "large_yellow_circle": "🟡", "large_green_circle": "🟢", "large_blue_circle": "🔵",
    "thread": "🧵", "thinking_face": "🤔", "point_right": "👉", "page_facing_up": "📄",
    "mailbox_with_mail": "📬", "mag": "🔍", "lock": "🔒", "leftwards_arrow_with_hook": "↩️",
    "hourglass_flowing_sand": "⏳", "hourglass": "⌛", "face_with_head_bandage": "🤕",
    "clock9": "🕘", "calendar": "📅", "busts_in_silhouette": "👥",
    "arrows_counterclockwise": "🔄", "bar_chart": "📊", "chart_with_upwards_trend": "📈",
    "fire": "🔥", "bell": "🔔", "alarm_clock": "⏰", "stopwatch": "⏱️", "memo": "📝",
    "pushpin": "📌", "zap": "⚡", "smile": "😄", "thumbsup": "👍", "+1": "👍", "pray": "🙏",
    "heart": "❤️", "rocket": "🚀", "white_tick": "✔️",
}



_TOKEN = re.compile(r"(<[^<>\n]*>)")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_CODE = re.compile(r"`([^`\n]+)`")
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")


def emoji(text_html: str) -> str:
    """`:name:` as its character where known (input and output are HTML)."""
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text_html)


class Mrkdwn:
    """Slack's mrkdwn as HTML: the text is Slack-escaped (&amp; &lt; &gt;), `<...>` are
    mentions and links, `*bold*` `_italic_` `~strike~` `` `code` `` and `>` quotes style it.
    Everything that is not markup is HTML-escaped."""

    def __init__(self, names: dict[str, str], channels: dict[str, str],
                 link: Callable[[str], str]) -> None:
        self.names = names
        self.channels = channels
        self.link = link  # channel id -> href

    def __call__(self, text: object) -> Markup:
        lines, out = str(text or "").split("\n"), []
        in_code = False
        for line in lines:
            if line.startswith("```") or in_code:
                # Code fences: shown verbatim (still escaped), no styling inside.
                body = line.replace("```", "")
                fence = line.count("```") % 2 == 1
                if fence:
                    in_code = not in_code
                out.append(f'<code class="block">{self._plain(body)}</code>')
                continue
            quote = line.startswith(">")
            rendered = self._line(line[1:] if quote else line)
            out.append(f"<blockquote>{rendered}</blockquote>" if quote else rendered + "<br>")
        joined = "".join(out)
        return Markup(joined.removesuffix("<br>"))

    def _line(self, line: str) -> str:
        # Mentions and links become placeholders first, so that styling may span them
        # (`*<#C1>*` is a bold channel link) and never reaches inside them.
        tokens: list[str] = []

        def hold(match: re.Match[str]) -> str:
            tokens.append(self._token(match.group(0)[1:-1]))
            return f"\x00{len(tokens) - 1}\x00"

        styled = self._styled(_TOKEN.sub(hold, line.replace("\x00", "")))
        return re.sub(r"\x00(\d+)\x00", lambda m: tokens[int(m.group(1))], styled)

    @staticmethod
    def _plain(text: str) -> str:
        return html.escape(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))

    def _styled(self, text: str) -> str:
        out = self._plain(text)
        out = _CODE.sub(r"<code>\1</code>", out)
        out = _BOLD.sub(r"<b>\1</b>", out)
        out = _ITALIC.sub(r"<i>\1</i>", out)
        out = _STRIKE.sub(r"<s>\1</s>", out)
        return emoji(out)

    def _token(self, inner: str) -> str:
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            user = target[1:]
            name = self.names.get(user) or label or user
            return f'<span class="mention">@{html.escape(name)}</span>'
        if target.startswith("#"):
            channel = target[1:]
            name = self.channels.get(channel) or label or channel
            return (f'<a class="mention" href="{html.escape(self.link(channel))}">'
                    f"#{html.escape(name)}</a>")
        if target.startswith("!"):
            special = target[1:].split("^")[0]
            shown = label or (f"@{special}" if special in ("here", "channel", "everyone")
                              else special)
            return f'<span class="mention">{self._plain(shown)}</span>'
        if re.match(r"^(https?://|mailto:)", target):
            url = target.replace("&amp;", "&")
            shown = label or url
            return (f'<a href="{html.escape(url)}" target="_blank" rel="noopener">'
                    f"{self._styled(shown)}</a>")
        return self._plain(f"<{inner}>")
