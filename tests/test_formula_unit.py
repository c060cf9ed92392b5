"""The formula evaluator (query/formula.py) and the REST converter, on hand-made trees: the
worked examples of spec §7.7, its rules for variables and defaults, and its errors."""

from __future__ import annotations

import math

import pytest

from vecinfer.api.rest.convert.formula import formula as rest_formula
from vecinfer.api.rest.json_input import JsonFormatError, Node
from vecinfer.domain import filters as f
from vecinfer.domain import formula as fx
from vecinfer.domain.errors import InvalidArgument
from vecinfer.query.formula import rescore
from vecinfer.storage.filters import PointView

# Spec §7.7: a Dot prefetch gives scores 1, .5, .2, .1 for ids 1-4; ids 1 and 4 have tag "a".
PAYLOADS: dict[int, dict] = {1: {"tag": "a"}, 2: {}, 3: {}, 4: {"tag": "a"}}
PREFETCH = [(1, 1.0), (2, 0.5), (3, 0.2), (4, 0.1)]
TAG_A = fx.ConditionExpr(f.Match("tag", "keyword", "a"))


def run(expression: fx.Expression, children=None, payloads=None, defaults=None, limit=10, threshold=None,
        view_of=None):
    query = fx.FormulaQuery(expression, defaults or {})
    payloads = PAYLOADS if payloads is None else payloads
    return rescore(query, [PREFETCH] if children is None else children, payloads.__getitem__, limit, threshold,
                   view_of=view_of)


def approx(ranked):
    return [(o, pytest.approx(s, abs=1e-6)) for o, s in ranked]


def one(expression: fx.Expression, payload: dict | None = None, defaults=None) -> float:
    [(_, score)] = run(expression, [[(1, 1.0)]], {1: payload or {}}, defaults)
    return score


def error(expression: fx.Expression, payload: dict | None = None, defaults=None) -> str:
    with pytest.raises(InvalidArgument) as info:
        one(expression, payload, defaults)
    return info.value.message


# ------------------------------------------------------------------------- worked examples


def test_spec_sum_of_score_and_condition():
    expr = fx.Sum((fx.Score(), fx.Mult((fx.Constant(0.5), TAG_A))))
    assert run(expr) == approx([(1, 1.5), (4, 0.6), (2, 0.5), (3, 0.2)])


def test_spec_decays():
    assert run(fx.Decay("exp", fx.Score())) == approx([(4, .933033), (3, .870551), (2, .707107), (1, .5)])
    gauss = fx.Decay("gauss", fx.Score(), fx.Constant(1.0), scale=0.5)
    assert run(gauss) == approx([(1, 1.0), (2, 0.5), (3, .169576), (4, .105843)])
    lin = fx.Decay("lin", fx.Score(), fx.Constant(1.0), scale=1.0)
    assert run(lin) == approx([(1, 1.0), (2, 0.75), (3, 0.6), (4, 0.55)])


@pytest.mark.parametrize("kind", ["lin", "exp", "gauss"])
def test_every_decay_gives_midpoint_at_scale(kind):
    expr = fx.Decay(kind, fx.Constant(7.0), fx.Constant(4.0), scale=3.0, midpoint=0.25)  # type: ignore[arg-type]
    assert one(expr) == pytest.approx(0.25)


def test_spec_small_examples():
    assert one(fx.Score(1)) == 0.0
    assert one(fx.Score(1), defaults={"$score[1]": 7}) == 7.0
    assert one(fx.Div(fx.Constant(1), fx.Constant(0), by_zero_default=42)) == 42.0
    assert one(fx.Mult((fx.Constant(0), fx.Variable("nope")))) == 0.0
    assert one(fx.datetime_constant("1970-01-01T00:01:00Z")) == 60.0
    assert one(fx.GeoDistance(0.0, 0.0, "p"), {"p": {"lat": 0, "lon": 1}}) == 111195.078125
    assert "1/0 = inf produced a non-finite number" in error(fx.Div(fx.Constant(1), fx.Constant(0)))


def test_spec_payload_variable_with_default_and_second_prefetch():
    payloads = {1: {"x": 2}, 2: {"x": [3]}, 4: {"x": []}, 5: {}}
    children = [[(1, 0.9), (2, 0.8)], [(5, 1.0), (4, 1.0)]]
    expr = fx.Sum((fx.Variable("x"), fx.Score(1)))
    assert run(expr, children, payloads, {"x": 10}) == [(5, 11.0), (4, 11.0), (2, 3.0), (1, 2.0)]
    with pytest.raises(InvalidArgument, match="Expected number value for x in the payload and/or in the formula "
                                              "defaults. Error: No value found in a payload nor defaults"):
        run(expr, children, payloads)
    for bad in (None, [1, 2]):
        with pytest.raises(InvalidArgument, match="Error: Value is not a number"):
            run(expr, children, {**payloads, 1: {"x": bad}}, {"x": 10})


# ------------------------------------------------------------------------- variables


def test_score_and_score0_share_a_default():
    assert one(fx.Score(3), defaults={"$score[3]": 2.5}) == 2.5
    assert run(fx.Score(0), [[], [(1, 1.0)]], {1: {}}, {"$score": 4}) == [(1, 4.0)]
    # A default that is not a number counts as none.
    assert run(fx.Score(0), [[], [(1, 1.0)]], {1: {}}, {"$score": "x"}) == [(1, 0.0)]


def test_payload_values_are_flattened_one_level():
    payload = {"a": {"b": [5]}, "l": [{"x": 1}, {"y": 2}], "n": [[1]], "s": "str", "t": True}
    assert one(fx.Variable("a.b"), payload) == 5.0
    assert one(fx.Variable("l[].x"), payload) == 1.0
    assert one(fx.Variable("l[1].y"), payload) == 2.0
    assert one(fx.Variable('"a"'), {"a": 3}) == 3.0
    assert "Value is not a number" in error(fx.Variable("n"), payload)  # [[1]] flattens to [1], an array
    assert "Value is not a number" in error(fx.Variable("s"), payload)
    assert "Value is not a number" in error(fx.Variable("t"), payload)
    assert "Value is not a number" in error(fx.Variable("x"), payload, {"x": [5]})  # defaults are taken as they are


def test_variable_names():
    assert fx.variable("$score") == fx.Score(0)
    assert fx.variable("$score[12]") == fx.Score(12)
    assert fx.variable("a.b[0]") == fx.Variable("a.b[0]")
    for bad in ("$score.x", "$score[1][2]", "$score[]", "$scores", "$foo", "a..b", "", "a b"):
        with pytest.raises(InvalidArgument):
            fx.variable(bad)
    with pytest.raises(InvalidArgument, match="Invalid reserved variable"):
        fx.FormulaQuery(fx.Constant(1), {"$score[x]": 1})


# ------------------------------------------------------------------------- operations


def test_arithmetic():
    c = fx.Constant
    assert one(fx.Sum((c(1), c(2), c(3.5)))) == 6.5
    assert one(fx.Mult((c(2), c(-3)))) == -6.0
    assert one(fx.Neg(c(2))) == -2.0
    assert one(fx.Abs(c(-2))) == 2.0
    assert one(fx.Sqrt(c(9))) == 3.0
    assert one(fx.Pow(c(2), c(10))) == 1024.0
    assert one(fx.Exp(c(0))) == 1.0
    assert one(fx.Ln(c(math.e))) == pytest.approx(1.0)
    assert one(fx.Log10(c(1000))) == pytest.approx(3.0)
    assert one(fx.Acosh(c(1))) == 0.0
    assert one(fx.Max((c(1), c(5), c(-2)))) == 5.0
    assert one(fx.Min((c(1), c(5), c(-2)))) == -2.0
    assert one(fx.Div(c(0), fx.Variable("missing"))) == 0.0  # the divisor is never evaluated
    assert one(fx.Div(c(3), c(4))) == 0.75


def test_max_and_min_skip_nan():
    inf = fx.Mult((fx.Variable("big"), fx.Constant(10)))  # 1.7e308 * 10 overflows without an error
    nan = fx.Sum((inf, fx.Neg(inf)))  # inf - inf
    payload = {"big": 1.7e308}
    assert one(fx.Max((nan, fx.Constant(2))), payload) == 2.0
    assert one(fx.Min((fx.Constant(2), nan)), payload) == 2.0
    assert one(fx.Decay("lin", nan), payload) == 0.0  # max(0, NaN) is 0, as with f64::max
    assert "produced a non-finite number" in error(fx.Max((nan,)), payload)


@pytest.mark.parametrize("expr, text", [
    (fx.Sqrt(fx.Constant(-3)), "√-3 = NaN"),
    (fx.Ln(fx.Constant(0)), "ln(0) = -inf"),
    (fx.Log10(fx.Constant(-1)), "log10(-1) = NaN"),
    (fx.Pow(fx.Constant(-1), fx.Constant(0.5)), "-1^0.5 = NaN"),
    (fx.Pow(fx.Constant(10), fx.Constant(400)), "10^400 = inf"),
    (fx.Exp(fx.Constant(1000)), "exp(1000) = inf"),
    (fx.Acosh(fx.Constant(0.5)), "acosh(0.5) = NaN"),
    (fx.Constant(1e39), "1000000000000000000000000000000000000000 as f32 = inf"),
])
def test_non_finite_results_fail(expr, text):
    assert error(expr) == f"Wrong input: The expression {text} produced a non-finite number"


def test_one_bad_point_fails_the_whole_query():
    payloads = {1: {"x": 1}, 2: {"x": 0}}
    with pytest.raises(InvalidArgument, match="non-finite"):
        run(fx.Div(fx.Constant(1), fx.Variable("x")), [[(1, 1.0), (2, 1.0)]], payloads)


def test_geo_and_datetime_values():
    geo = fx.GeoDistance(0.0, 0.0, "p")
    assert one(geo, {"p": [{"lat": 0, "lon": 1}]}) == 111195.078125  # [x] means x
    assert one(geo, {}, {"p": {"lat": 0, "lon": 1}}) == 111195.078125
    assert "Expected geo point value for p" in error(geo, {"p": "0,1"})
    assert "Expected geo point value for p" in error(geo, {"p": {"lat": 100, "lon": 1}})
    assert "No value found in a payload nor defaults" in error(geo, {})
    key = fx.DatetimeKey("t")
    assert one(key, {"t": "1970-01-02"}) == 86400.0
    assert one(key, {"t": "1970-01-01T00:00:00.5-00:00"}) == 0.5
    assert "Expected datetime value for t" in error(key, {"t": 5})
    assert "Expected datetime value for t" in error(key, {"t": "soon"})
    with pytest.raises(InvalidArgument):
        fx.datetime_constant("01/02/2024")


def test_decay_parameters_are_checked():
    x = fx.Score()
    fx.Decay("lin", x, midpoint=0.0)
    fx.Decay("lin", x, midpoint=1.0)
    with pytest.raises(InvalidArgument, match=r"Linear decay midpoint should be in the range \[0.0, 1.0\], got 1.5"):
        fx.Decay("lin", x, midpoint=1.5)
    for kind in ("exp", "gauss"):
        for midpoint in (0.0, 1.0):
            with pytest.raises(InvalidArgument, match=r"Decay midpoint should be in the range \(0.0, 1.0\)"):
                fx.Decay(kind, x, midpoint=midpoint)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="Decay scale should be non-zero positive, got 0"):
        fx.Decay("exp", x, scale=0.0)
    with pytest.raises(InvalidArgument, match="`max` needs at least one operand"):
        fx.Max(())
    with pytest.raises(InvalidArgument, match="`min` needs at least one operand"):
        fx.Min(())


# ------------------------------------------------------------------------- ranking


def test_threshold_is_inclusive_and_limit_applies_after_sorting():
    assert run(fx.Score(), threshold=0.5) == [(1, 1.0), (2, 0.5)]
    assert run(fx.Score(), limit=2) == [(1, 1.0), (2, 0.5)]
    assert run(fx.Score(), threshold=2.0) == []


def test_candidates_are_the_union_in_prefetch_order_and_ties_keep_it():
    children = [[(3, 0.1), (1, 0.2)], [(2, 0.3), (3, 0.4)]]
    assert run(fx.Constant(1), children, {1: {}, 2: {}, 3: {}}) == [(3, 1.0), (1, 1.0), (2, 1.0)]
    assert run(fx.Sum((fx.Score(0), fx.Score(1))), children, {1: {}, 2: {}, 3: {}}) == approx(
        [(3, 0.5), (2, 0.3), (1, 0.2)])
    assert run(fx.Score(), [[], []], {}) == []


def test_conditions_see_the_point_view_when_given():
    has_id = fx.ConditionExpr(f.HasId(frozenset({2})))
    has_vec = fx.ConditionExpr(f.HasVector("img"))

    def view_of(offset: int) -> PointView:
        return PointView(offset * 10, PAYLOADS[offset], lambda name: offset == 3)

    ranked = run(fx.Sum((has_id, has_vec)), view_of=lambda o: view_of(o))
    assert dict(ranked) == {1: 0.0, 2: 0.0, 3: 1.0, 4: 0.0}
    ranked = run(fx.ConditionExpr(f.HasId(frozenset({20}))), view_of=view_of)
    assert ranked[0] == (2, 1.0)
    # Without a view, conditions read the payload alone.
    assert run(fx.Sum((TAG_A, has_id))) == [(1, 1.0), (4, 1.0), (2, 0.0), (3, 0.0)]


# ------------------------------------------------------------------------- REST shapes


def parse(body: dict) -> fx.FormulaQuery:
    return rest_formula(Node(body, "query"))


def test_rest_shapes():
    q = parse({"formula": {"sum": ["$score", {"mult": [0.5, {"key": "tag", "match": {"any": ["h1", "h2"]}}]}]},
               "defaults": {"x": 1}})
    assert q.defaults == {"x": 1}
    tag = fx.ConditionExpr(f.Match("tag", "keywords", frozenset({"h1", "h2"})))
    assert q.expression == fx.Sum((fx.Score(0), fx.Mult((fx.Constant(0.5), tag))))
    q = parse({"formula": {"div": {"left": {"neg": "a.b"}, "right": {"pow": {"base": 2, "exponent": "$score[1]"}},
                                   "by_zero_default": 0.1}}})
    assert q.expression == fx.Div(fx.Neg(fx.Variable("a.b")), fx.Pow(fx.Constant(2), fx.Score(1)),
                                  by_zero_default=0.10000000149011612)  # read as f32, like Qdrant
    q = parse({"formula": {"gauss_decay": {"x": {"geo_distance": {"origin": {"lat": 1, "lon": 2}, "to": "loc"}},
                                           "scale": 1000, "midpoint": 0.3}}})
    assert q.expression == fx.Decay("gauss", fx.GeoDistance(1.0, 2.0, "loc"), None, 1000.0, 0.30000001192092896)
    q = parse({"formula": {"max": [{"datetime": "1970-01-01T00:00:10Z"}, {"datetime_key": "t"},
                                   {"is_empty": {"key": "x"}}, {"acosh": 1}, {"must": []}]}})
    assert q.expression == fx.Max((fx.Datetime("1970-01-01T00:00:10Z", 10.0), fx.DatetimeKey("t"),
                                   fx.ConditionExpr(f.IsEmpty("x")), fx.Acosh(fx.Constant(1.0)),
                                   fx.ConditionExpr(f.Filter())))


@pytest.mark.parametrize("body, path", [
    ({"formula": {"mult": [1, {"mul": 2}]}}, "query.formula.mult[1]"),
    ({"formula": {"sum": [True]}}, "query.formula.sum[0]"),
    ({"formula": {"sum": ["a..b"]}}, "query.formula.sum[0]"),
    ({"formula": {"div": {"left": 1}}}, "query.formula.div"),
    ({"formula": {"div": {"left": 1, "right": 2, "extra": 3}}}, "query.formula.div.extra"),
    ({"formula": {"exp_decay": {"x": 1, "scale": "big"}}}, "query.formula.exp_decay.scale"),
    ({"formula": {"datetime": "yesterday"}}, "query.formula.datetime"),
    ({"formula": 1, "defaults": {"$nope": 1}}, "query.defaults.$nope"),
    ({"formula": 1, "extra": 1}, "query.extra"),
    ({}, "query"),
])
def test_rest_errors_name_the_json_path(body, path):
    with pytest.raises(JsonFormatError) as info:
        parse(body)
    assert info.value.path == path


def test_rest_semantic_errors():
    with pytest.raises(InvalidArgument, match="Linear decay midpoint"):
        parse({"formula": {"lin_decay": {"x": 1, "midpoint": 2}}})
    with pytest.raises(InvalidArgument, match="`min` needs at least one operand"):
        parse({"formula": {"min": []}})
