"""Payload edits at JSON paths, with Qdrant's rules for `set_payload` and `delete_payload` keys."""

from __future__ import annotations

import copy
from typing import Any

from vecinfer.domain.json_path import Step


def merge(target: dict[str, Any], values: dict[str, Any]) -> None:
    """Each key replaces the old value wholesale; a null value removes the key."""
    for key, value in values.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = copy.deepcopy(value)


def set_at(node: Any, steps: tuple[Step, ...], values: dict[str, Any]) -> Any:
    """`set_payload` with a `key` path (Qdrant's rules): key steps create or clobber objects,
    `[N]` and `[]` need an array (else it becomes `[]` and nothing more is set), and the
    payload is merged into the object at the end. Returns the new value of `node`."""
    if not steps:
        target = node if isinstance(node, dict) else {}
        merge(target, values)
        return target
    step, rest = steps[0], steps[1:]
    if step.key is not None:
        target = node if isinstance(node, dict) else {}
        target[step.key] = set_at(target.get(step.key), rest, values)
        return target
    if not isinstance(node, list):
        return []
    positions = range(len(node)) if step.every else [i for i in (step.index,) if i is not None and i < len(node)]
    for i in positions:
        node[i] = set_at(node[i], rest, values)
    return node


def delete_at(node: Any, steps: tuple[Step, ...]) -> None:
    """`delete_payload`: a path removes what it reaches; a final `[]` empties the array; a
    final `[N]` does nothing (deleting by index is not idempotent)."""
    step, rest = steps[0], steps[1:]
    if not rest:
        if step.key is not None and isinstance(node, dict):
            node.pop(step.key, None)
        elif step.every and isinstance(node, list):
            node.clear()
        return
    if step.key is not None:
        if isinstance(node, dict) and step.key in node:
            delete_at(node[step.key], rest)
    elif isinstance(node, list):
        targets = node if step.every else [node[i] for i in (step.index,) if i is not None and i < len(node)]
        for target in targets:
            delete_at(target, rest)
