"""Score-boosting formulas (`query: {formula: ...}`): an expression tree over prefetch scores,
payload values, conditions and decay functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FormulaQuery:
    expression: Any
    # Values for variables a point's payload lacks (`"$score[1]"`, `"price"`, ...).
    defaults: dict[str, Any] = field(default_factory=dict)
