"""`--env FIELD=VALUE` for the training commands: a config dataclass's fields, checked.

Both `train_walk` and `train_stand` take these, so a change to the command mix, the pushes or
the stances is one flag, recorded in the model card's command, rather than an edit of the
defaults that the card of an earlier policy no longer matches.
"""

from __future__ import annotations

import ast
from dataclasses import fields


def config_overrides(config_cls: type, pairs: list[str]) -> dict[str, object]:
    """`FIELD=VALUE` strings as overrides of `config_cls`, each value checked against the field's default."""
    default_cfg = config_cls()
    known = [f.name for f in fields(config_cls) if f.name != "rewards"]
    out: dict[str, object] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or name not in known:
            raise SystemExit(f"--env {pair!r}: expected FIELD=VALUE with FIELD one of: {', '.join(known)}")
        default = getattr(default_cfg, name)
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise SystemExit(f"--env {pair!r}: {text!r} is not a number or tuple") from None
        if isinstance(default, float) and isinstance(value, int):
            value = float(value)
        if type(value) is not type(default) or (isinstance(value, tuple) and len(value) != len(default)):
            raise SystemExit(f"--env {pair!r}: {name} takes a value like {default!r}")
        out[name] = value
    return out
