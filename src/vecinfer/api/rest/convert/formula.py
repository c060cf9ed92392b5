"""`{"formula": ..., "defaults": ...}` in JSON -> domain.

An expression is an untagged union (Qdrant's OpenAPI `Expression`): a number (a constant), a
string (a variable: `$score`, `$score[i]` or a payload path), a filter condition, or an object
with one operator key (`{"mult": [...]}`, `{"div": {"left", "right", "by_zero_default"}}`, ...).
Numbers Qdrant reads as f32 (constants, `by_zero_default`, decay `scale` and `midpoint`) are
rounded to f32 here too, so both doors compute the same scores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from vecinfer.api.rest.convert.filters import condition
from vecinfer.api.rest.json_input import JsonFormatError, Node
from vecinfer.domain import formula as fx
from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.formula import FormulaQuery

T = TypeVar("T")

_DECAYS: dict[str, fx.DecayKind] = {"lin_decay": "lin", "exp_decay": "exp", "gauss_decay": "gauss"}
_OPERATORS = {*fx.VARIADIC, *fx.UNARY, *_DECAYS, "div", "pow", "geo_distance", "datetime", "datetime_key"}
# Keys that make an object a filter condition rather than an operator.
_CONDITION_KEYS = {"key", "is_empty", "is_null", "has_id", "has_vector", "nested", "must", "should", "must_not",
                   "min_should", "slice"}
EXPRESSION_EXPECTED = ("an expression: a number, a variable (\"$score\", \"$score[i]\" or a payload key), a "
                       "condition, or {\"" + "\"|\"".join(sorted(_OPERATORS)) + "\": ...}")


def formula(node: Node) -> FormulaQuery:
    """`node` is the query object `{"formula": <expression>, "defaults"?: {...}}`."""
    fields = node.fields({"formula", "defaults"}, "a formula query {\"formula\", \"defaults\"}")
    expression = _expression(fields.require("formula"))
    defaults: dict[str, Any] = {}
    defaults_node = fields.get("defaults")
    if defaults_node is not None:
        for key, value in defaults_node.entries("an object of default values by variable"):
            _parsed(value, fx.variable, key)
            defaults[key] = value.value
    return FormulaQuery(expression, defaults)


def _parsed(node: Node, build: Callable[..., T], *args: Any) -> T:
    """`build(*args)`, its InvalidArgument answered as a format error at `node`."""
    try:
        return build(*args)
    except InvalidArgument as exc:
        raise JsonFormatError(node.path, exc.message.removeprefix("Bad request: ")) from None


def _f32(node: Node) -> float:
    with np.errstate(over="ignore"):
        return float(np.float32(node.number()))


def _expression(node: Node) -> fx.Expression:
    value = node.value
    if node.is_number:
        return fx.Constant(_f32(node))
    if node.is_string:
        return _parsed(node, fx.variable, value)
    if not node.is_object:
        node.fail(EXPRESSION_EXPECTED)
    keys = set(value)
    if len(keys) == 1 and not keys & _CONDITION_KEYS:
        name = next(iter(keys))
        if name in _OPERATORS:
            return _operator(name, node.fields({name}).require(name))
    if keys & _CONDITION_KEYS or not keys:
        return fx.ConditionExpr(condition(node))
    node.fail(EXPRESSION_EXPECTED)


def _operator(name: str, arg: Node) -> fx.Expression:
    if name in fx.VARIADIC:
        return fx.VARIADIC[name](tuple(_expression(item) for item in arg.items("a list of expressions")))
    if name in fx.UNARY:
        return fx.UNARY[name](_expression(arg))
    if name == "div":
        div = arg.fields({"left", "right", "by_zero_default"}, "{\"left\", \"right\", \"by_zero_default\"}")
        default = div.get("by_zero_default")
        return fx.Div(_expression(div.require("left")), _expression(div.require("right")),
                      _f32(default) if default is not None else None)
    if name == "pow":
        pow_ = arg.fields({"base", "exponent"}, "{\"base\", \"exponent\"}")
        return fx.Pow(_expression(pow_.require("base")), _expression(pow_.require("exponent")))
    if name in _DECAYS:
        decay = arg.fields({"x", "target", "scale", "midpoint"}, "{\"x\", \"target\", \"scale\", \"midpoint\"}")
        target, scale, midpoint = decay.get("target"), decay.get("scale"), decay.get("midpoint")
        return fx.Decay(
            _DECAYS[name], _expression(decay.require("x")),
            _expression(target) if target is not None else None,
            _f32(scale) if scale is not None else fx.DEFAULT_DECAY_SCALE,
            _f32(midpoint) if midpoint is not None else fx.DEFAULT_DECAY_MIDPOINT,
        )
    if name == "geo_distance":
        geo = arg.fields({"origin", "to"}, "{\"origin\": {\"lat\", \"lon\"}, \"to\": key}")
        origin = geo.require("origin").fields({"lat", "lon"}, "a geo point {\"lat\", \"lon\"}")
        lat, lon = origin.require("lat").number(), origin.require("lon").number()
        to = geo.require("to").string()
        return _parsed(arg, fx.GeoDistance, lat, lon, to)
    if name == "datetime":
        return _parsed(arg, fx.datetime_constant, arg.string())
    assert name == "datetime_key"
    return _parsed(arg, fx.DatetimeKey, arg.string())
