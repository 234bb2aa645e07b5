"""What a run records in its staging folder's ``run.json`` (the input's files, the model's
sha256, the options), and how an interrupted run's record differs from this run's: ``--resume``
goes on only when nothing does.
"""

from __future__ import annotations

import json
from typing import Any


def describe_difference(before: dict[str, Any], now: dict[str, Any]) -> str | None:
    """What differs between an interrupted run's record and this run's, in words; None when
    they are the same."""
    if before.get("input") != now.get("input"):
        return f"the interrupted run scored {before.get('input')}, this one {now.get('input')}"
    old_files = {f[0]: f[1:] for f in before.get("files", [])}
    new_files = {f[0]: f[1:] for f in now.get("files", [])}
    for name in sorted(set(old_files) | set(new_files)):
        if name not in old_files:
            return f"the input has a new file {name} since the interrupted run"
        if name not in new_files:
            return f"the input's file {name} is gone since the interrupted run"
        if old_files[name] != new_files[name]:
            (size, _), (now_size, _) = old_files[name], new_files[name]
            if size == now_size:
                return f"the input's file {name} was modified since the interrupted run"
            return (
                f"the input's file {name} changed since the interrupted run "
                f"({size} bytes then, {now_size} now)"
            )
    if before.get("model_sha256") != now.get("model_sha256"):
        old = str(before.get("model_sha256"))[:12]
        return f"the interrupted run used model {old}, this one {now['model_sha256'][:12]}"
    old_options, new_options = before.get("options", {}), now.get("options", {})
    for name in sorted(set(old_options) | set(new_options)):
        if old_options.get(name) != new_options.get(name):
            return (
                f"the interrupted run had {name}={json.dumps(old_options.get(name))}, "
                f"this one {name}={json.dumps(new_options.get(name))}"
            )
    return None
