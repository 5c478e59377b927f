"""README's `/sla` reference says what `/sla help` says: every usage line, admin marks too."""

from __future__ import annotations

import re
from pathlib import Path

from commands.router import default_router

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_usages() -> dict[str, bool]:
    """Usage lines of README's code blocks -> whether the line is marked ``(admins)``.

    A line may hold several forms (``/sla hours ... | /sla hours 24x7``) and verb
    alternatives (``/sla resolve|pause SLA-42``); both are spelled out here.
    """
    found: dict[str, bool] = {}
    for line in README.read_text().splitlines():
        if not line.startswith("/sla "):
            continue
        # Two or more spaces separate the command from its comment.
        gap = re.search(r"\s{2,}", line)
        usage, comment = (line[: gap.start()], line[gap.end():]) if gap else (line, "")
        admin = "(admins)" in comment
        for form in usage.split(" | "):
            verbs, _, rest = form.removeprefix("/sla ").partition(" ")
            for verb in verbs.split("|"):
                found[f"/sla {verb} {rest}".strip()] = admin
    return found


def test_readme_lists_every_usage_of_sla_help_with_its_admin_mark():
    documented = readme_usages()
    for verb in default_router().verbs:
        for usage in verb.usage:
            assert usage in documented, f"README does not show `{usage}`"
            if verb.admin_only:
                assert documented[usage], f"README does not mark `{usage}` (admins)"
