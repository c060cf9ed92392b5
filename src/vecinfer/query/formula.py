"""Formula rescoring: evaluates a FormulaQuery over the union of prefetch results (spec §7.7).

The expression tree is compiled once into nested closures, then run for each candidate. The
arithmetic is f64 and follows Qdrant's scorer (`rescore_formula/formula_scorer.rs`) and the
1.20 client's local mode (`hybrid/formula.py`): `mult` and `div` stop at a 0, `$score[i]` falls
back to its default and then to 0, a payload variable to its default and then to an error, and
every function whose result is not finite fails the whole query. The final value is cast to
f32 and must be finite too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from vecinfer.domain import formula as fx
from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.filters import parse_datetime
from vecinfer.domain.formula import DefaultKey, FormulaQuery, format_float, parse_defaults
from vecinfer.domain.json_path import Step, values_at
from vecinfer.storage.filters import PointView, check

Ranked = list[tuple[int, float]]

MEAN_EARTH_RADIUS = 6371008.8  # metres, as the `geo` crate Qdrant uses
_MISSING: Any = object()


def _no_vectors(name: str) -> bool:
    return False


class _Point:
    """What the formula may read about one candidate; payload and view are fetched lazily."""

    __slots__ = ("offset", "_payload_of", "_view_of", "_payload", "_view")

    def __init__(self, offset: int, payload_of: Callable[[int], dict[str, Any]],
                 view_of: Callable[[int], PointView] | None) -> None:
        self.offset = offset
        self._payload_of = payload_of
        self._view_of = view_of
        self._payload: dict[str, Any] | None = None
        self._view: PointView | None = None

    @property
    def payload(self) -> dict[str, Any]:
        if self._payload is None:
            if self._view is not None:
                self._payload = self._view.payload
            else:
                self._payload = self._payload_of(self.offset) or {}
        return self._payload

    @property
    def view(self) -> PointView:
        if self._view is None:
            if self._view_of is not None:
                self._view = self._view_of(self.offset)
            else:
                self._view = PointView(None, self.payload, _no_vectors)
        return self._view


Evaluator = Callable[[_Point], float]


def non_finite(expression: str) -> InvalidArgument:
    return InvalidArgument(f"Wrong input: The expression {expression} produced a non-finite number")


def _variable_error(key: str, expected: str, description: str) -> InvalidArgument:
    return InvalidArgument(f"Wrong input: Expected {expected} value for {key} in the payload and/or in the "
                           f"formula defaults. Error: {description}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer beyond f64
        return math.inf if value > 0 else -math.inf


class _Compiler:
    def __init__(self, defaults: Mapping[DefaultKey, Any], scores: list[dict[int, float]]) -> None:
        self.defaults = defaults
        self.scores = scores

    # ------------------------------------------------------------------ payload values

    def _value(self, point: _Point, steps: tuple[Step, ...], key: str, expected: str) -> Any:
        """The value a variable stands for (spec §7.7): the values at the path, arrays at the end
        flattened one level (not after a final `[]`, as in Qdrant); none: the default; one: it;
        several: an array (which no type accepts)."""
        found = values_at(point.payload, steps)
        if not steps[-1].every:
            flat: list[Any] = []
            for value in found:
                if isinstance(value, list):
                    flat.extend(value)
                else:
                    flat.append(value)
            found = flat
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            return found
        value = self.defaults.get(steps, _MISSING)
        if value is _MISSING:
            raise _variable_error(key, expected, "No value found in a payload nor defaults")
        return value

    # ------------------------------------------------------------------ nodes

    def compile(self, node: fx.Expression) -> Evaluator:
        method = getattr(self, "_" + type(node).__name__.lower())
        evaluator: Evaluator = method(node)
        return evaluator

    def _constant(self, node: fx.Constant) -> Evaluator:
        value = float(node.value)
        return lambda point: value

    def _score(self, node: fx.Score) -> Evaluator:
        scores = self.scores[node.index] if node.index < len(self.scores) else {}
        default: Any = self.defaults.get(node.index)
        # A default that is not a number counts as none (Qdrant: `as_f64`).
        fallback = _as_float(default) if _is_number(default) else 0.0

        def score(point: _Point) -> float:
            return scores.get(point.offset, fallback)

        return score

    def _variable(self, node: fx.Variable) -> Evaluator:
        steps, key = node.steps, node.key

        def variable(point: _Point) -> float:
            value = self._value(point, steps, key, "number")
            if not _is_number(value):
                raise _variable_error(key, "number", "Value is not a number")
            return _as_float(value)

        return variable

    def _conditionexpr(self, node: fx.ConditionExpr) -> Evaluator:
        condition = node.condition
        return lambda point: 1.0 if check(condition, point.view) else 0.0

    def _geodistance(self, node: fx.GeoDistance) -> Evaluator:
        steps, key = node.steps, node.to
        lat1, lon1 = node.origin_lat, node.origin_lon

        def geo_distance(point: _Point) -> float:
            value = self._value(point, steps, key, "geo point")
            lat2, lon2 = _geo_point(value, key)
            return haversine(lat1, lon1, lat2, lon2)

        return geo_distance

    def _datetime(self, node: fx.Datetime) -> Evaluator:
        seconds = node.seconds
        return lambda point: seconds

    def _datetimekey(self, node: fx.DatetimeKey) -> Evaluator:
        steps, key = node.steps, node.key

        def datetime_key(point: _Point) -> float:
            value = self._value(point, steps, key, "datetime")
            if not isinstance(value, str):
                raise _variable_error(key, "datetime", "Value is not a string")
            micros = parse_datetime(value)
            if micros is None:
                raise _variable_error(key, "datetime", f"'{value}' is not in a supported date/time format, "
                                                       "please use RFC 3339")
            return micros / 1_000_000.0

        return datetime_key

    def _mult(self, node: fx.Mult) -> Evaluator:
        operands = [self.compile(op) for op in node.operands]

        def mult(point: _Point) -> float:
            product = 1.0
            for operand in operands:
                value = operand(point)
                if value == 0.0:  # the rest is not evaluated (nor are its errors raised)
                    return 0.0
                product *= value
            return product

        return mult

    def _sum(self, node: fx.Sum) -> Evaluator:
        operands = [self.compile(op) for op in node.operands]

        def total(point: _Point) -> float:
            acc = 0.0
            for operand in operands:
                acc += operand(point)
            return acc

        return total

    def _max(self, node: fx.Max) -> Evaluator:
        operands = [self.compile(op) for op in node.operands]

        def maximum(point: _Point) -> float:
            best = -math.inf
            for operand in operands:
                value = operand(point)
                if value > best:  # NaN never wins, as with f64::max
                    best = value
            return best

        return maximum

    def _min(self, node: fx.Min) -> Evaluator:
        operands = [self.compile(op) for op in node.operands]

        def minimum(point: _Point) -> float:
            best = math.inf
            for operand in operands:
                value = operand(point)
                if value < best:
                    best = value
            return best

        return minimum

    def _div(self, node: fx.Div) -> Evaluator:
        left, right, default = self.compile(node.left), self.compile(node.right), node.by_zero_default

        def div(point: _Point) -> float:
            numerator = left(point)
            if numerator == 0.0:  # the divisor is not evaluated
                return 0.0
            divisor = right(point)
            if divisor == 0.0:
                if default is not None:
                    return float(default)
                result = math.nan if math.isnan(numerator) else math.copysign(math.inf, numerator) * (
                    -1.0 if math.copysign(1.0, divisor) < 0 else 1.0)
            else:
                try:
                    result = numerator / divisor
                except OverflowError:
                    result = math.inf
            if math.isfinite(result):
                return result
            raise non_finite(f"{format_float(numerator)}/{format_float(divisor)} = {format_float(result)}")

        return div

    def _pow(self, node: fx.Pow) -> Evaluator:
        base, exponent = self.compile(node.base), self.compile(node.exponent)

        def power(point: _Point) -> float:
            b, e = base(point), exponent(point)
            try:
                result = math.pow(b, e)
            except OverflowError:
                result = -math.inf if b < 0 and e == int(e) and int(e) % 2 else math.inf
            except ValueError:  # 0 to a negative power (Rust: inf), a negative base to a fraction (NaN)
                result = math.inf if b == 0 else math.nan
            if math.isfinite(result):
                return result
            raise non_finite(f"{format_float(b)}^{format_float(e)} = {format_float(result)}")

        return power

    def _neg(self, node: fx.Neg) -> Evaluator:
        operand = self.compile(node.operand)
        return lambda point: -operand(point)

    def _abs(self, node: fx.Abs) -> Evaluator:
        operand = self.compile(node.operand)
        return lambda point: abs(operand(point))

    def _checked(self, node: fx.Sqrt | fx.Exp | fx.Ln | fx.Log10 | fx.Acosh,
                 fn: Callable[[float], float], label: Callable[[str], str]) -> Evaluator:
        operand = self.compile(node.operand)

        def checked(point: _Point) -> float:
            value = operand(point)
            result = fn(value)
            if math.isfinite(result):
                return result
            raise non_finite(f"{label(format_float(value))} = {format_float(result)}")

        return checked

    def _sqrt(self, node: fx.Sqrt) -> Evaluator:
        return self._checked(node, _sqrt, lambda v: f"√{v}")

    def _exp(self, node: fx.Exp) -> Evaluator:
        return self._checked(node, _exp, lambda v: f"exp({v})")

    def _ln(self, node: fx.Ln) -> Evaluator:
        return self._checked(node, lambda v: _log(v, math.log), lambda v: f"ln({v})")

    def _log10(self, node: fx.Log10) -> Evaluator:
        return self._checked(node, lambda v: _log(v, math.log10), lambda v: f"log10({v})")

    def _acosh(self, node: fx.Acosh) -> Evaluator:
        return self._checked(node, _acosh, lambda v: f"acosh({v})")

    def _decay(self, node: fx.Decay) -> Evaluator:
        x = self.compile(node.x)
        target = self.compile(node.target) if node.target is not None else None
        lam = node.lambda_
        kind = node.kind

        def decay(point: _Point) -> float:
            value = x(point)
            t = target(point) if target is not None else fx.DEFAULT_DECAY_TARGET
            if kind == "lin":
                return max(0.0, -lam * abs(value - t) + 1.0)  # NaN gives 0, as with f64::max
            if kind == "exp":
                return _exp(lam * abs(value - t))
            diff = value - t
            return _exp(lam * diff * diff)

        return decay


def _sqrt(value: float) -> float:
    return math.sqrt(value) if value >= 0 else math.nan


def _exp(value: float) -> float:
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf


def _log(value: float, fn: Callable[[float], float]) -> float:
    if value > 0:
        return fn(value)
    return -math.inf if value == 0 else math.nan


def _acosh(value: float) -> float:
    return math.acosh(value) if value >= 1 else math.nan


def _geo_point(value: Any, key: str) -> tuple[float, float]:
    """A payload value read as a geo point `{"lat", "lon"}` (Qdrant's GeoPoint)."""
    if not isinstance(value, dict):
        raise _variable_error(key, "geo point", "invalid type: expected struct GeoPoint")
    for name in ("lon", "lat"):
        if name not in value:
            raise _variable_error(key, "geo point", f"missing field `{name}`")
        if not _is_number(value[name]):
            raise _variable_error(key, "geo point", f"invalid type: `{name}` must be a number")
    lat, lon = _as_float(value["lat"]), _as_float(value["lon"])
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise _variable_error(key, "geo point", f"Wrong format of GeoPoint payload: expected `lat` = "
                                                f"{format_float(lat)} within [-90;90] and `lon` = "
                                                f"{format_float(lon)} within [-180;180]")
    return lat, lon


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres between two points, computed as the `geo` crate's Haversine does."""
    theta1, theta2 = math.radians(lat1), math.radians(lat2)
    half_dtheta = math.radians(lat2 - lat1) / 2.0
    half_dlambda = math.radians(lon2 - lon1) / 2.0
    s1, s2 = math.sin(half_dtheta), math.sin(half_dlambda)
    a = s1 * s1 + math.cos(theta1) * math.cos(theta2) * s2 * s2
    return MEAN_EARTH_RADIUS * (2.0 * math.asin(math.sqrt(a)))


def compile_formula(query: FormulaQuery, children: list[Ranked]) -> Evaluator:
    scores = [dict(ranked) for ranked in children]
    return _Compiler(parse_defaults(query.defaults), scores).compile(query.expression)


def rescore(query: FormulaQuery, children: list[Ranked], payload_of: Callable[[int], dict[str, Any]],
            limit: int, threshold: float | None,
            view_of: Callable[[int], PointView] | None = None) -> Ranked:
    """`children`: each prefetch's ranked (offset, score) list, in prefetch order. Returns the
    candidates by formula score, descending, those `>= threshold` only, at most `limit`.

    Conditions in the formula see `view_of(offset)` when given (id, vectors and full-text
    indexes included); otherwise a view of the payload alone, where `has_id` and `has_vector`
    are false."""
    evaluate = compile_formula(query, children)
    candidates = dict.fromkeys(offset for ranked in children for offset, _ in ranked)
    out: Ranked = []
    for offset in candidates:
        value = evaluate(_Point(offset, payload_of, view_of))
        with np.errstate(over="ignore", invalid="ignore"):
            score = np.float32(value)
        if not np.isfinite(score):
            raise non_finite(f"{format_float(value)} as f32 = {format_float(float(score))}")
        out.append((offset, float(score)))
    out.sort(key=lambda item: item[1], reverse=True)  # stable: ties keep prefetch order
    if threshold is not None:
        out = [(o, s) for o, s in out if s >= threshold]
    return out[:limit]
