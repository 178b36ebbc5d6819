"""The command results as plain JSON values, for scripts (the CLI's JSON and an HTTP API).

Dataclasses become objects with their field names, tuples arrays, datetimes ISO 8601 in UTC, and a
PNG (bytes) is left out as null: the same data the chat and the CLI word, in a machine's shape.
`WorkerHealth` keeps its own contract shape (`to_json`, INTERFACE.md's `health`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from papishares.commands.health import WorkerHealth


def plain(result: Any) -> Any:
    """`result` as JSON-ready values (dict, list, str, number, bool, None)."""
    if isinstance(result, WorkerHealth):
        return result.to_json()
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return {f.name: plain(getattr(result, f.name)) for f in dataclasses.fields(result)}
    if isinstance(result, datetime):
        moment = result.astimezone(UTC) if result.tzinfo else result
        return moment.isoformat().replace("+00:00", "Z")
    if isinstance(result, bytes):
        return None
    if isinstance(result, dict):
        return {str(k): plain(v) for k, v in result.items()}
    if isinstance(result, list | tuple | set | frozenset):
        return [plain(v) for v in result]
    return result
