"""`{"formula": ..., "defaults": ...}` in JSON -> domain."""

from __future__ import annotations

from vecinfer.api.rest.json_input import Node
from vecinfer.domain.errors import Unimplemented
from vecinfer.domain.formula import FormulaQuery


def formula(node: Node) -> FormulaQuery:
    """`node` is the query object `{"formula": <expression>, "defaults"?: {...}}`."""
    raise Unimplemented("the `formula` query (score boosting)")
