"""Formula and Expression messages -> domain."""

from __future__ import annotations

from vecinfer.api.grpc.convert.filters import filter_from
from vecinfer.api.grpc.convert.values import map_to_py
from vecinfer.domain import formula as fx
from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.formula import FormulaQuery
from vecinfer_proto.qdrant import points_pb2 as pb
from vecinfer_proto.qdrant import qdrant_common_pb2 as cpb

_VARIANTS = ("constant, variable, condition, geo_distance, datetime, datetime_key, mult, sum, div, neg, abs, "
             "sqrt, pow, exp, log10, ln, exp_decay, gauss_decay, lin_decay, acosh, max, min")

_DECAYS: dict[str, fx.DecayKind] = {"lin_decay": "lin", "exp_decay": "exp", "gauss_decay": "gauss"}


def formula_from(msg: pb.Formula) -> FormulaQuery:
    if not msg.HasField("expression"):
        raise InvalidArgument("Bad request: Formula.expression is missing: give the expression to score with")
    return FormulaQuery(_expression(msg.expression, "formula.expression"), map_to_py(msg.defaults))


def _condition(msg: cpb.Condition) -> fx.ConditionExpr:
    # The filter converter reads conditions inside filters; a one-condition filter gives it back.
    return fx.ConditionExpr(filter_from(cpb.Filter(must=[msg])).must[0])


def _required(parent: pb.DivExpression | pb.PowExpression | pb.DecayParamsExpression, name: str,
              path: str) -> fx.Expression:
    if not parent.HasField(name):
        raise InvalidArgument(f"Bad request: {path}.{name} is missing")
    return _expression(getattr(parent, name), f"{path}.{name}")


def _expression(msg: pb.Expression, path: str) -> fx.Expression:
    kind = msg.WhichOneof("variant")
    here = f"{path}.{kind}"
    if kind == "constant":
        return fx.Constant(msg.constant)
    if kind == "variable":
        return fx.variable(msg.variable)
    if kind == "condition":
        return _condition(msg.condition)
    if kind == "geo_distance":
        geo = msg.geo_distance
        if not geo.HasField("origin"):
            raise InvalidArgument(f"Bad request: {here}.origin is missing")
        return fx.GeoDistance(geo.origin.lat, geo.origin.lon, geo.to)
    if kind == "datetime":
        return fx.datetime_constant(msg.datetime)
    if kind == "datetime_key":
        return fx.DatetimeKey(msg.datetime_key)
    if kind in fx.VARIADIC:
        operands = getattr(getattr(msg, kind), kind)
        return fx.VARIADIC[kind](tuple(_expression(op, f"{here}[{i}]") for i, op in enumerate(operands)))
    if kind in fx.UNARY:
        return fx.UNARY[kind](_expression(getattr(msg, kind), here))
    if kind == "div":
        div = msg.div
        return fx.Div(_required(div, "left", here), _required(div, "right", here),
                      div.by_zero_default if div.HasField("by_zero_default") else None)
    if kind == "pow":
        return fx.Pow(_required(msg.pow, "base", here), _required(msg.pow, "exponent", here))
    if kind in _DECAYS:
        params: pb.DecayParamsExpression = getattr(msg, kind)
        return fx.Decay(
            _DECAYS[kind],
            _required(params, "x", here),
            _expression(params.target, f"{here}.target") if params.HasField("target") else None,
            params.scale if params.HasField("scale") else fx.DEFAULT_DECAY_SCALE,
            params.midpoint if params.HasField("midpoint") else fx.DEFAULT_DECAY_MIDPOINT,
        )
    raise InvalidArgument(f"Bad request: {path} is empty: set one of {_VARIANTS}")
