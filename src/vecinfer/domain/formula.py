"""Score-boosting formulas (`query: {formula: ...}`): an expression tree over prefetch scores,
payload values, conditions and decay functions (spec §7.7).

Every node is a frozen dataclass; building one checks what Qdrant checks while parsing a
formula (variable names, decay parameters, datetime constants, `max`/`min` operands), so a
FormulaQuery that exists is one the evaluator (query/formula.py) can run. Errors are
InvalidArgument with Qdrant's texts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Union

from vecinfer.domain import json_path
from vecinfer.domain.errors import InvalidArgument, clip
from vecinfer.domain.filters import Condition, parse_datetime

DEFAULT_DECAY_TARGET = 0.0
DEFAULT_DECAY_SCALE = 1.0
DEFAULT_DECAY_MIDPOINT = 0.5

DecayKind = Literal["lin", "exp", "gauss"]
DECAY_KINDS: tuple[DecayKind, ...] = ("lin", "exp", "gauss")


def _path(key: str, what: str) -> tuple[json_path.Step, ...]:
    try:
        return json_path.parse(key)
    except InvalidArgument as exc:
        raise InvalidArgument(f"Bad request: Invalid {what}: {clip(key)} ({exc.message})") from None


# ------------------------------------------------------------------------------ terminals


@dataclass(frozen=True)
class Constant:
    value: float


@dataclass(frozen=True)
class Score:
    """`$score` (= `$score[0]`) or `$score[i]`: the point's score in prefetch i."""

    index: int = 0

    def __post_init__(self) -> None:
        if self.index < 0:
            raise InvalidArgument(f"Bad request: Invalid reserved variable: $score[{self.index}]")


@dataclass(frozen=True)
class Variable:
    """A number in the point's payload at a JSON path."""

    key: str
    steps: tuple[json_path.Step, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", _path(self.key, "payload variable"))


@dataclass(frozen=True)
class ConditionExpr:
    """A filter condition: 1.0 where the point matches, else 0.0."""

    condition: Condition


@dataclass(frozen=True)
class GeoDistance:
    """Haversine metres from `origin` to the geo point in the payload at `to`."""

    origin_lat: float
    origin_lon: float
    to: str
    steps: tuple[json_path.Step, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_geo_point(self.origin_lat, self.origin_lon)
        object.__setattr__(self, "steps", _path(self.to, "geo_distance `to` path"))


@dataclass(frozen=True)
class Datetime:
    """A datetime constant, as POSIX seconds. Build with `datetime_constant(text)`."""

    text: str
    seconds: float


@dataclass(frozen=True)
class DatetimeKey:
    """The datetime (a string) in the payload at `key`, as POSIX seconds."""

    key: str
    steps: tuple[json_path.Step, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", _path(self.key, "datetime_key path"))


# ------------------------------------------------------------------------------ operations


@dataclass(frozen=True)
class Mult:
    """Product; the first operand that is 0 ends it (the rest are not evaluated)."""

    operands: tuple[Expression, ...]


@dataclass(frozen=True)
class Sum:
    operands: tuple[Expression, ...]


@dataclass(frozen=True)
class Max:
    operands: tuple[Expression, ...]

    def __post_init__(self) -> None:
        if not self.operands:
            raise InvalidArgument("Bad request: `max` needs at least one operand")


@dataclass(frozen=True)
class Min:
    operands: tuple[Expression, ...]

    def __post_init__(self) -> None:
        if not self.operands:
            raise InvalidArgument("Bad request: `min` needs at least one operand")


@dataclass(frozen=True)
class Div:
    """left / right. left = 0 gives 0 without evaluating right; right = 0 gives
    `by_zero_default`, or an error without one."""

    left: Expression
    right: Expression
    by_zero_default: float | None = None


@dataclass(frozen=True)
class Pow:
    base: Expression
    exponent: Expression


@dataclass(frozen=True)
class Neg:
    operand: Expression


@dataclass(frozen=True)
class Abs:
    operand: Expression


@dataclass(frozen=True)
class Sqrt:
    operand: Expression


@dataclass(frozen=True)
class Exp:
    operand: Expression


@dataclass(frozen=True)
class Ln:
    operand: Expression


@dataclass(frozen=True)
class Log10:
    operand: Expression


@dataclass(frozen=True)
class Acosh:
    operand: Expression


@dataclass(frozen=True)
class Decay:
    """lin/exp/gauss decay of `x` around `target` (absent: 0); equals `midpoint` where
    |x - target| = `scale`."""

    kind: DecayKind
    x: Expression
    target: Expression | None = None
    scale: float = DEFAULT_DECAY_SCALE
    midpoint: float = DEFAULT_DECAY_MIDPOINT

    def __post_init__(self) -> None:
        if self.kind not in DECAY_KINDS:
            raise InvalidArgument(f"Bad request: unknown decay {self.kind!r}: use lin, exp or gauss")
        m, s = self.midpoint, self.scale
        if self.kind == "lin":
            if not 0.0 <= m <= 1.0:
                raise InvalidArgument("Wrong input: Validation failed: Linear decay midpoint should be in the "
                                      f"range [0.0, 1.0], got {format_float(m)}.")
        elif not 0.0 < m < 1.0:
            raise InvalidArgument("Wrong input: Validation failed: Decay midpoint should be in the range "
                                  f"(0.0, 1.0), got {format_float(m)}.")
        if not s > 0.0:
            raise InvalidArgument(f"Wrong input: Validation failed: Decay scale should be non-zero positive, "
                                  f"got {format_float(s)}.")

    @property
    def lambda_(self) -> float:
        if self.kind == "lin":
            return (1.0 - self.midpoint) / self.scale
        if self.kind == "exp":
            return math.log(self.midpoint) / self.scale
        return math.log(self.midpoint) / (self.scale * self.scale)


Expression = Union[
    Constant, Score, Variable, ConditionExpr, GeoDistance, Datetime, DatetimeKey,
    Mult, Sum, Max, Min, Div, Pow, Neg, Abs, Sqrt, Exp, Ln, Log10, Acosh, Decay,
]

UNARY: dict[str, type[Neg | Abs | Sqrt | Exp | Ln | Log10 | Acosh]] = {
    "neg": Neg, "abs": Abs, "sqrt": Sqrt, "exp": Exp, "ln": Ln, "log10": Log10, "acosh": Acosh,
}
VARIADIC: dict[str, type[Mult | Sum | Max | Min]] = {"mult": Mult, "sum": Sum, "max": Max, "min": Min}


@dataclass(frozen=True)
class FormulaQuery:
    expression: Expression
    # Values for variables a point's payload lacks (`"$score[1]"`, `"price"`, ...), keyed as the
    # request wrote them; `parse_defaults` reads the keys like variables.
    defaults: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parse_defaults(self.defaults)  # refuse keys that are not variables


# ------------------------------------------------------------------------------ helpers


def variable(text: str) -> Score | Variable:
    """A variable as Qdrant reads one: `$score`, `$score[i]`, or a payload path."""
    if text.startswith("$"):
        try:
            steps = json_path.parse(text[1:])
        except InvalidArgument:
            raise InvalidArgument(f"Bad request: Invalid reserved variable: {clip(text)}") from None
        if steps[0].key != "score":
            raise InvalidArgument(f"Bad request: Invalid reserved word: {clip(text)} (the only one is `$score`)")
        rest = steps[1:]
        if not rest:
            return Score(0)
        if len(rest) == 1 and rest[0].index is not None:
            return Score(rest[0].index)
        raise InvalidArgument(f"Bad request: Invalid reserved variable: {clip(text)} (write `$score` or `$score[i]`)")
    return Variable(text)


DefaultKey = Union[int, tuple[json_path.Step, ...]]


def parse_defaults(defaults: Mapping[str, Any]) -> dict[DefaultKey, Any]:
    """Defaults keyed like variables: a prefetch index for `$score`/`$score[i]` (so the two share
    one default), else the parsed payload path. A later key wins over an earlier equal one."""
    out: dict[DefaultKey, Any] = {}
    for key, value in defaults.items():
        parsed = variable(key)
        out[parsed.index if isinstance(parsed, Score) else parsed.steps] = value
    return out


def datetime_constant(text: str) -> Datetime:
    micros = parse_datetime(text)
    if micros is None:
        raise InvalidArgument(f"Bad request: '{clip(text)}' is not in a supported date/time format, please use RFC 3339")
    return Datetime(text, micros / 1_000_000.0)


def check_geo_point(lat: float, lon: float) -> None:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise InvalidArgument(f"Bad request: Wrong format of GeoPoint payload: expected `lat` = {format_float(lat)} "
                              f"within [-90;90] and `lon` = {format_float(lon)} within [-180;180]")


def format_float(x: float) -> str:
    """A float as Rust's `Display` writes it (Qdrant's messages): `3`, `0.5`, `-inf`, `NaN`,
    no exponent."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = format(Decimal(repr(float(x))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
