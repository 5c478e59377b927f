"""Every result a command can return has a view: the registry and the commands agree."""

from __future__ import annotations

import importlib
import pkgutil

import commands
from bot.views import replies
from commands.request import Result


def _result_types() -> set[type[Result]]:
    for module in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"commands.{module.name}")
    found: set[type[Result]] = set()
    pending = [Result]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.add(sub)
            pending.append(sub)
    return found


def test_every_result_type_of_the_commands_is_drawn_by_a_registered_view():
    types = _result_types()
    assert len(types) > 10, "the verbs' result types were not found"
    fallback = replies._draw.dispatch(Result)
    missing = sorted(t.__name__ for t in types if replies._draw.dispatch(t) is fallback)
    assert not missing, f"no view draws {missing}"
