"""Differential tests: vecinfer against qdrant-client's local mode (`QdrantClient(":memory:")`,
the executable reference of Qdrant's semantics) for filters, count, scroll paging, payload
selectors and payload edits, through both doors (gRPC and REST).

- Datasets are random but seeded (`VECINFER_DIFF_SEED`, default 11) and built once per module
  (integer ids, UUID ids, both mixed, and the spec's worked examples); hypothesis draws the
  filters, selectors, paging requests and edit sequences against them.
- `derandomize=True`: every run draws the same cases. `VECINFER_DIFF_SCALE` multiplies the case
  counts for a longer hunt. A failure prints the drawn example (hypothesis) and, in the
  assertion, the points on which the two sides disagree.
- Where local mode and the spec (../shared/spec/qdrant-semantics.md) disagree, the spec wins:
  the shape is not drawn here (it is covered by the unit tests) and a comment starting with
  "SPEC:" says why.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from qdrant_client import QdrantClient, models

from conftest import make_client

SEED = int(os.environ.get("VECINFER_DIFF_SEED", "11"))
SCALE = float(os.environ.get("VECINFER_DIFF_SCALE", "1"))


def examples(n: int) -> settings:
    # VECINFER_DIFF_NO_SHRINK=1 reports the first failing case as drawn (faster while hunting).
    phases = [Phase.explicit, Phase.generate] if os.environ.get("VECINFER_DIFF_NO_SHRINK") else list(Phase)
    return settings(max_examples=max(1, int(n * SCALE)), derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), phases=phases)


# ---------------------------------------------------------------------------- payload values

STRINGS = ["a", "b", "1", "", "hello", "Hello, World!", "quick brown fox", "fox brown quick", "Café crème", "ünï",
           "snake_case-word", "ключ", "2024-01-01", "B", "x y"]
FLOATS = [0.5, 1.0, 2.5, -0.5, 0.0, 3.0, 7.0]
BIG_INTS = [2**40, -(2**62), 2**63 - 1]
SUB_KEYS = ["x", "y", "a", "b", "sub", "k", "x y", ""]
# Top-level payload keys and how a path names them.
PAYLOAD_KEYS = ["a", "b", "c", "t", "d", "n", "o", "l", "ключ", "a.b", "x y"]
TOP_KEYS = ["a", "b", "c", "t", "d", "n", "o", "l", "ключ", '"a.b"', '"x y"', '""', "missing"]
STEPS = [".x", ".y", ".a", ".b", ".sub", ".k", "[]", "[0]", "[1]", "[5]", '."x y"', '.""']

# Spellings Qdrant reads as datetimes (spec §3.6), and some it does not.
DATETIMES = [
    "2024-01-01T00:00:00Z", "2024-01-01T00:30:00+01:00", "2024-01-01", "2023-12-31T23:59:59Z", "2024-06-01",
    "2024-01-01 00:00:00", "2024-01-01T00:00", "2024-01-01 00:00", "2023-12-31T23:30:00.5-03", "2024-01-01T00:00:00.000000001Z",
    "2024-01-01T00:00:00.5Z", "2024-01-01 00:00:00 UTC", "2024-01-01T01:00:00+0100", "2024-01-01t00:00:00z",
    "2024-01-01T00:00:00.123456789+01:00", " 2024-01-01T00:00:00Z", "2024-01-01 00:00:00.25+01",
    "2024-01-01T00:00:00 +01:00",
    "2024-01-01T00", "01/02/2024", "garbage", "20240101", "2024-01-01T00:00:00+01:00:00", "2024-13-01",
]


def json_value(rng: random.Random, depth: int) -> Any:
    r = rng.random()
    if depth <= 0 or r < 0.55:
        return scalar(rng)
    if r < 0.78:
        return [json_value(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    if r < 0.95:
        return {rng.choice(SUB_KEYS): json_value(rng, depth - 1) for _ in range(rng.randint(0, 3))}
    return None


def scalar(rng: random.Random) -> Any:
    kind = rng.randrange(12)
    if kind < 4:
        return rng.randint(-2, 7)
    if kind < 6:
        return rng.choice(STRINGS)
    if kind == 6:
        return rng.choice(FLOATS)
    if kind == 7:
        return rng.random() < 0.5
    if kind == 8:
        return rng.choice(BIG_INTS)
    if kind == 9:
        return rng.choice(DATETIMES)
    return None


def random_payload(rng: random.Random) -> dict[str, Any]:
    p: dict[str, Any] = {}
    maybe = rng.random
    if maybe() < 0.85:
        p["a"] = json_value(rng, 3)
    if maybe() < 0.8:  # scalars only, in every point: answered by the vectorised column
        p["b"] = scalar(rng)
    if maybe() < 0.5:  # scalars or null
        p["c"] = None if maybe() < 0.4 else scalar(rng)
    if maybe() < 0.7:
        p["t"] = rng.choice([rng.choice(STRINGS), [rng.choice(STRINGS) for _ in range(rng.randint(0, 3))],
                             scalar(rng)])
    if maybe() < 0.7:
        p["d"] = rng.choice([rng.choice(DATETIMES), [rng.choice(DATETIMES) for _ in range(rng.randint(0, 2))],
                             scalar(rng)])
    if maybe() < 0.75:
        def element() -> Any:
            if maybe() < 0.8:
                obj = {"x": scalar(rng), "y": json_value(rng, 1)}
                if maybe() < 0.4:
                    obj["sub"] = [{"k": rng.randint(0, 3), "x": scalar(rng)} for _ in range(rng.randint(0, 2))]
                return obj
            return json_value(rng, 2)
        p["n"] = rng.choice([[element() for _ in range(rng.randint(0, 3))], element(), [[element()]]])
    if maybe() < 0.6:
        p["o"] = {k: json_value(rng, 2) for k in rng.sample(SUB_KEYS, rng.randint(0, 3))} if maybe() < 0.8 \
            else json_value(rng, 1)
    if maybe() < 0.6:
        p["l"] = [json_value(rng, 2) for _ in range(rng.randint(0, 4))]
    if maybe() < 0.3:
        p["ключ"] = rng.choice(STRINGS)
    if maybe() < 0.3:
        p["a.b"] = json_value(rng, 1)
    if maybe() < 0.2:
        p["x y"] = json_value(rng, 1)
    if maybe() < 0.1:
        p[""] = json_value(rng, 1)
    return p


# The spec's worked examples (§3, §3.3, §3.6, §3.12) as one dataset: point i holds row i of each table.
_MISSING = object()
SPEC_A = [1, [1, 2], None, [], [None], _MISSING, 1.0, True, "1", [[1], 2], {"b": 1}, [None, 3]]
SPEC_T = ["Hello, World!", "goodness only", "the quick brown fox", ["quick", "brown fox"], "snake_case-word",
          "Café crème", 42, "fox brown quick"]
SPEC_D = ["2024-01-01T00:00:00Z", "2024-01-01T00:30:00+01:00", "2024-01-01", ["2023-12-31T23:59:59Z", "2024-06-01"],
          "garbage", 1704067200]
SPEC_N = [[{"food": "leaves", "likes": False}, {"food": "meat", "likes": True}],
          [{"food": "leaves", "likes": True}, {"food": "meat", "likes": False}],
          {"food": "meat", "likes": True}, [[{"food": "meat", "likes": True}]],
          [{"food": "meat", "likes": True, "sub": [{"k": 1}, {"k": 2}]}], [], _MISSING]


def spec_payload(i: int) -> dict[str, Any]:
    p: dict[str, Any] = {}
    for key, column in (("a", SPEC_A), ("t", SPEC_T), ("d", SPEC_D), ("n", SPEC_N)):
        if i < len(column) and column[i] is not _MISSING:
            p[key] = column[i]
    return p


# ------------------------------------------------------------------------------------ datasets

DIM = 2


class Dataset:
    def __init__(self, name: str, ids: list[Any], payloads: dict[Any, dict[str, Any]],
                 vectors: dict[Any, dict[str, Any]]) -> None:
        self.name, self.ids, self.payloads, self.vectors = name, ids, payloads, vectors

    def __repr__(self) -> str:  # hypothesis prints the fixture with a failing case
        return f"Dataset({self.name!r}, {len(self.ids)} points)"

    def points(self) -> list[models.PointStruct]:
        return [models.PointStruct(id=i, vector=self.vectors[i], payload=self.payloads[i]) for i in self.ids]

    def create(self, client: QdrantClient) -> None:
        if client.collection_exists(self.name):
            client.delete_collection(self.name)
        client.create_collection(self.name, vectors_config={
            "v": models.VectorParams(size=DIM, distance=models.Distance.DOT),
            "w": models.VectorParams(size=DIM, distance=models.Distance.DOT),
        }, sparse_vectors_config={"s": models.SparseVectorParams()})
        client.upsert(self.name, points=self.points(), wait=True)


def random_vectors(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {"v": [rng.random(), rng.random()]}
    if rng.random() < 0.5:
        out["w"] = [rng.random(), rng.random()]
    if rng.random() < 0.5:
        size = rng.randint(0, 2)  # an empty sparse vector still counts as present
        out["s"] = models.SparseVector(indices=rng.sample(range(10), size), values=[1.0] * size)
    return out


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_datasets(rng: random.Random, prefix: str) -> list[Dataset]:
    int_ids = rng.sample(range(300), 60) + [2**63, 2**64 - 1]
    uuid_ids = [random_uuid(rng) for _ in range(45)] + [str(uuid.UUID(int=0)), str(uuid.UUID(int=2**128 - 1))]
    mixed = rng.sample(range(50), 20) + [random_uuid(rng) for _ in range(20)]
    out = []
    for n, ids in enumerate([int_ids, uuid_ids, mixed]):
        out.append(Dataset(f"{prefix}{n}", ids, {i: random_payload(rng) for i in ids},
                           {i: random_vectors(rng) for i in ids}))
    spec_ids = list(range(1, 13))
    out.append(Dataset(f"{prefix}spec", spec_ids, {i: spec_payload(i - 1) for i in spec_ids},
                       {i: random_vectors(rng) for i in spec_ids}))
    return out


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def doors(shared_server):
    grpc_client = make_client(shared_server, prefer_grpc=True)
    rest_client = make_client(shared_server, prefer_grpc=False)
    yield {"grpc": grpc_client, "rest": rest_client}
    grpc_client.close()
    rest_client.close()


@pytest.fixture(scope="module")
def local():
    client = QdrantClient(":memory:")
    yield client
    client.close()


@pytest.fixture(scope="module")
def datasets(doors, local) -> list[Dataset]:
    out = make_datasets(random.Random(SEED), prefix="diff_")
    for ds in out:
        ds.create(local)
        ds.create(doors["grpc"])
    return out


# ---------------------------------------------------------------------------------- strategies


def paths(first: st.SearchStrategy[str], max_steps: int = 2) -> st.SearchStrategy[str]:
    """JSON paths: a first key, then keys, `[]` and `[N]`."""
    return st.builds(lambda head, steps: head + "".join(steps), first, st.lists(st.sampled_from(STEPS), max_size=max_steps))


TOP_PATHS = paths(st.sampled_from(TOP_KEYS))
INTS = st.integers(-2, 7) | st.sampled_from(BIG_INTS)
TEXT_QUERIES = ["hello", "world hello", "HELLO world", "quick fox", "brown fox", "brown", "café", "cafe", "",
                "!!!", "x y", "1", "ünï", "crème café", "case word"]
AFFIXES = ["", "H", "he", "qu", "1", "Ca", "ü", "o w", "2024", "x_", "a", "World!", "ood"]
NUMBERS = st.sampled_from([-1, 0, 0.5, 1, 1.0, 2, 2.5, 3, 7, -0.5, 2**41])
VECTOR_NAMES = ["v", "w", "s", "nope"]


def datetime_bounds() -> st.SearchStrategy[datetime]:
    base = st.sampled_from([datetime(2023, 12, 31, 23, 30), datetime(2024, 1, 1), datetime(2024, 1, 1, 0, 0, 0, 500000),
                            datetime(2024, 1, 1, 0, 30), datetime(2024, 6, 1), datetime(2023, 12, 31, 23, 59, 59),
                            datetime(2024, 1, 1, 0, 0, 0, 123456)])
    zones = st.sampled_from([None, UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-3))])
    return st.builds(lambda b, z: b if z is None else b.replace(tzinfo=z), base, zones)


def match() -> st.SearchStrategy[Any]:
    strings = st.sampled_from(STRINGS)
    lists = (st.lists(strings, max_size=4) | st.lists(INTS, max_size=4)
             # long lists: the vectorised column takes another path in numpy for them
             | st.lists(strings | st.text(max_size=3), min_size=20, max_size=30) | st.lists(st.integers(-30, 30), min_size=20, max_size=30))
    return st.one_of(
        st.builds(models.MatchValue, value=strings | INTS | st.booleans()),
        st.builds(models.MatchAny, any=lists),
        st.builds(lambda v: models.MatchExcept(**{"except": v}), lists),
        st.builds(models.MatchText, text=st.sampled_from(TEXT_QUERIES)),
        st.builds(models.MatchTextAny, text_any=st.sampled_from(TEXT_QUERIES)),
        st.builds(models.MatchPhrase, phrase=st.sampled_from(TEXT_QUERIES)),
        st.builds(models.MatchPrefix, prefix=st.sampled_from(AFFIXES)),
        st.builds(models.MatchSubstring, substring=st.sampled_from(AFFIXES)),
    )


def bounds(values: st.SearchStrategy[Any], min_size: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={"lt": values, "gt": values, "gte": values, "lte": values}).filter(
        lambda b: len(b) >= min_size)


def field_condition(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(models.FieldCondition, key=keys, match=match()),
        st.builds(lambda k, b: models.FieldCondition(key=k, range=models.Range(**b)), keys, bounds(NUMBERS)),
        # A datetime range needs a bound: over REST `"range": {}` is a numeric range (the wire
        # cannot tell them apart, so Qdrant reads it as one), while local mode keeps the type.
        st.builds(lambda k, b: models.FieldCondition(key=k, range=models.DatetimeRange(**b)), keys,
                  bounds(datetime_bounds(), min_size=1)),
        st.builds(lambda k, b: models.FieldCondition(key=k, values_count=models.ValuesCount(**b)), keys,
                  bounds(st.integers(0, 4))),
        st.builds(lambda k, e: models.FieldCondition(key=k, is_empty=e), keys, st.booleans()),
        st.builds(lambda k, e: models.FieldCondition(key=k, is_null=e), keys, st.booleans()),
        st.builds(lambda k: models.IsEmptyCondition(is_empty=models.PayloadField(key=k)), keys),
        st.builds(lambda k: models.IsNullCondition(is_null=models.PayloadField(key=k)), keys),
    )


NESTED_KEYS = st.sampled_from(["n", "n[]", "o", "a", "l", "l[]", "missing", "n[].sub", "n[0].sub", "a[].sub"])
INNER_PATHS = paths(st.sampled_from(["x", "y", "sub", "k", "a", "food", "likes", '"x y"']), max_steps=1)


def id_spellings(ids: list[Any]) -> st.SearchStrategy[Any]:
    """An id of the dataset, UUIDs in any spelling Qdrant reads (spec §3.10), or one it does not hold."""
    def spell(point_id: Any, how: int) -> Any:
        if isinstance(point_id, int):
            return point_id
        u = uuid.UUID(point_id)
        return [str(u), u.hex, str(u).upper(), f"urn:uuid:{u}", f"{{{u}}}"][how]
    return st.builds(spell, st.sampled_from(ids), st.integers(0, 4)) | st.sampled_from([10**6, 0, str(uuid.UUID(int=5))])


def filters_of(children: st.SearchStrategy[Any], inner: bool) -> st.SearchStrategy[models.Filter]:
    # SPEC: inside `nested` the server's plain checker reads an empty `should` as any([]) = false
    # (spec §2), local mode as "no constraint": empty `should` lists are drawn only outside nested.
    lists = st.lists(children, max_size=3)
    return st.builds(
        lambda must, should, must_not, ms: models.Filter(must=must, should=should, must_not=must_not, min_should=ms),
        st.none() | lists, st.none() | st.lists(children, min_size=1 if inner else 0, max_size=3), st.none() | lists,
        st.none() | st.builds(lambda c, n: models.MinShould(conditions=c, min_count=n),
                              st.lists(children, min_size=1, max_size=3), st.integers(1, 3)),
    )


def as_filter(condition: Any, clause: str) -> models.Filter:
    """A drawn condition as a filter (a leaf goes into one clause)."""
    return condition if isinstance(condition, models.Filter) else models.Filter(**{clause: [condition]})


def filters(ids: list[Any], keys: st.SearchStrategy[str], inner: bool = False, max_leaves: int = 6) -> st.SearchStrategy[models.Filter]:
    """Filters with at most `max_leaves` conditions in all (nested ones count on their own)."""
    leaf = st.one_of(
        field_condition(keys), field_condition(keys), field_condition(keys),
        st.builds(lambda chosen: models.HasIdCondition(has_id=chosen), st.lists(id_spellings(ids), max_size=4)),
        st.builds(models.HasVectorCondition, has_vector=st.sampled_from(VECTOR_NAMES)),
    )
    if not inner:  # keys inside a nested filter are relative to the array's elements
        leaf = leaf | st.builds(lambda k, f: models.NestedCondition(nested=models.Nested(key=k, filter=f)),
                                NESTED_KEYS, filters(ids, INNER_PATHS, inner=True, max_leaves=3))
    tree = st.recursive(leaf, lambda children: filters_of(children, inner), max_leaves=max_leaves)
    clauses = st.sampled_from(["must", "should", "must_not"] if not inner else ["must", "must_not"])
    return st.builds(as_filter, tree, clauses)


_FILTERS: dict[str, st.SearchStrategy[models.Filter]] = {}


def top_filter(ds: Dataset) -> st.SearchStrategy[models.Filter]:
    if ds.name not in _FILTERS:
        _FILTERS[ds.name] = filters(ds.ids, TOP_PATHS)
    return _FILTERS[ds.name]


def selectors() -> st.SearchStrategy[Any]:
    return _SELECTORS


def _selectors() -> st.SearchStrategy[Any]:
    keys = st.lists(paths(st.sampled_from(TOP_KEYS), max_steps=3), max_size=3)
    return st.one_of(
        st.booleans(), keys,
        st.builds(models.PayloadSelectorInclude, include=keys),
        st.builds(models.PayloadSelectorExclude, exclude=keys),
    )


_SELECTORS = _selectors()


# --------------------------------------------------------------------------------------- helpers


def typed(value: Any) -> Any:
    """A value where 1, 1.0 and True differ (Python's == does not tell them apart)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value)
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return value


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", call()
    except Exception as exc:  # both sides must fail; how is each door's business
        return "error", f"{type(exc).__name__}: {str(exc)[:300]}"


def records(found: list[Any]) -> list[tuple[Any, Any]]:
    return [(r.id, typed(r.payload)) for r in found]


def describe(ds: Dataset, point_ids: set[Any]) -> str:
    return "\n".join(f"  {i}: {ds.payloads[i]!r} vectors={sorted(ds.vectors[i])}" for i in sorted(point_ids, key=str))


def same_outcome(want: tuple[str, Any], got: tuple[str, Any], what: str) -> bool:
    """True when both succeeded (compare the values next); both failing is agreement too."""
    if want[0] == "error" or got[0] == "error":
        assert want[0] == got[0], f"{what}: local {want}, vecinfer {got}"
        return False
    return True


# ----------------------------------------------------------------------------------------- tests


@examples(700)
@given(data=st.data())
def test_filters_count_and_scroll(data, datasets, local, doors):
    ds = datasets[data.draw(st.integers(0, len(datasets) - 1), label="dataset")]
    door = data.draw(st.sampled_from(sorted(doors)), label="door")
    flt = data.draw(top_filter(ds), label="filter")
    remote = doors[door]

    def ids(client: QdrantClient) -> list[Any]:
        return [r.id for r in client.scroll(ds.name, scroll_filter=flt, limit=len(ds.ids) + 1, with_payload=False)[0]]

    want, got = outcome(lambda: ids(local)), outcome(lambda: ids(remote))
    if not same_outcome(want, got, f"{door} scroll"):
        return
    only_local, only_ours = set(want[1]) - set(got[1]), set(got[1]) - set(want[1])
    assert want == got, (f"{door} scroll: only local {sorted(only_local, key=str)}, only vecinfer "
                         f"{sorted(only_ours, key=str)}\n{describe(ds, only_local | only_ours)}")
    assert remote.count(ds.name, count_filter=flt, exact=True).count == len(want[1]), f"{door} count"


@examples(200)
@given(data=st.data())
def test_payload_selectors(data, datasets, local, doors):
    ds = datasets[data.draw(st.integers(0, len(datasets) - 1), label="dataset")]
    door = data.draw(st.sampled_from(sorted(doors)), label="door")
    selector = data.draw(selectors(), label="with_payload")
    ids = data.draw(st.lists(st.sampled_from(ds.ids), min_size=1, max_size=8, unique=True), label="ids")

    def read(client: QdrantClient) -> dict[Any, Any]:
        return {r.id: typed(r.payload) for r in client.retrieve(ds.name, ids, with_payload=selector)}

    want, got = outcome(lambda: read(local)), outcome(lambda: read(doors[door]))
    if same_outcome(want, got, f"{door} retrieve"):
        if selector is False and door == "grpc":
            # gRPC has no "no payload" (an empty map); the client hands back {} for it.
            want = ("ok", {i: {} for i in want[1]})
        assert want == got, door


@examples(150)
@given(data=st.data())
def test_scroll_paging(data, datasets, local, doors):
    ds = datasets[data.draw(st.integers(0, len(datasets) - 1), label="dataset")]
    door = data.draw(st.sampled_from(sorted(doors)), label="door")
    flt = data.draw(st.none() | top_filter(ds), label="filter")
    limit = data.draw(st.integers(1, 9), label="limit")
    absent = [10**7, str(uuid.UUID(int=7)), str(uuid.UUID(int=2**127))]
    offset = data.draw(st.none() | id_spellings(ds.ids) | st.sampled_from(absent), label="offset")
    selector = data.draw(st.just(True) | selectors(), label="with_payload")
    remote = doors[door]
    for _ in range(len(ds.ids) + 2):
        def page(client: QdrantClient) -> Any:
            found, following = client.scroll(ds.name, scroll_filter=flt, limit=limit, offset=offset,
                                              with_payload=selector)
            return records(found), following

        want, got = outcome(lambda: page(local)), outcome(lambda: page(remote))
        if not same_outcome(want, got, f"{door} scroll"):
            return
        if selector is False and door == "grpc":
            want = ("ok", ([(i, {}) for i, _ in want[1][0]], want[1][1]))
        assert want == got, f"{door} page from {offset!r}"
        offset = want[1][1]
        if offset is None:
            return
    raise AssertionError("paging did not end")


# ---------------------------------------------------------------------------------- payload edits

EDIT_IDS = {"int": [1, 2, 3, 5, 8, 13, 21, 2**63], "uuid": [str(uuid.UUID(int=(i + 1) * 0x1234567890ABCDEF12345)) for i in range(8)]}
EDIT_KEYS = ["a", "b", "o", "n", "l", "a.b", "x y"]
EDIT_PATHS = paths(st.sampled_from(["a", "b", "o", "n", "l", "new", '"a.b"', '"x y"']), max_steps=3)
SCALARS = st.none() | st.booleans() | st.integers(-2, 7) | st.sampled_from(FLOATS) | st.sampled_from(STRINGS[:8])
VALUES = st.recursive(SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(SUB_KEYS), c, max_size=3),
                      max_leaves=6)
PAYLOADS = st.dictionaries(st.sampled_from(EDIT_KEYS + SUB_KEYS[:2]), VALUES, max_size=4)


_EDIT_OPS: dict[str, st.SearchStrategy[tuple]] = {}


def edit_ops(kind: str) -> st.SearchStrategy[tuple]:
    if kind not in _EDIT_OPS:
        _EDIT_OPS[kind] = _edit_ops(EDIT_IDS[kind])
    return _EDIT_OPS[kind]


def _edit_ops(ids: list[Any]) -> st.SearchStrategy[tuple]:
    selector = (st.lists(st.sampled_from(ids), min_size=1, max_size=4, unique=True)
                | filters(ids, paths(st.sampled_from(TOP_KEYS), max_steps=1), max_leaves=2)
                | st.builds(models.FilterSelector, filter=filters(ids, st.sampled_from(EDIT_KEYS), max_leaves=1)))
    return st.one_of(
        st.tuples(st.just("set_payload"), PAYLOADS, st.none() | EDIT_PATHS, selector),
        st.tuples(st.just("set_payload"), PAYLOADS, EDIT_PATHS, selector),
        st.tuples(st.just("overwrite_payload"), PAYLOADS, st.none(), selector),
        st.tuples(st.just("delete_payload"), st.lists(EDIT_PATHS, min_size=1, max_size=3), st.none(), selector),
        st.tuples(st.just("clear_payload"), st.none(), st.none(), selector),
    )


def apply_edit(client: QdrantClient, name: str, op: tuple) -> None:
    kind, arg, key, selector = op
    if kind == "set_payload":
        client.set_payload(name, payload=arg, points=selector, key=key, wait=True)
    elif kind == "overwrite_payload":
        client.overwrite_payload(name, payload=arg, points=selector, wait=True)
    elif kind == "delete_payload":
        client.delete_payload(name, keys=arg, points=selector, wait=True)
    else:
        client.clear_payload(name, points_selector=selector, wait=True)


@pytest.fixture(scope="module")
def edit_sets(doors, local) -> dict[str, Dataset]:
    rng = random.Random(SEED)
    out = {kind: Dataset(f"diff_edit_{kind}", ids, {i: {} for i in ids}, {i: random_vectors(rng) for i in ids})
           for kind, ids in EDIT_IDS.items()}
    for ds in out.values():
        ds.create(local)
        ds.create(doors["grpc"])
    return out


def all_payloads(client: QdrantClient, name: str) -> list[tuple[Any, Any]]:
    return records(client.scroll(name, limit=100, with_payload=True)[0])


@examples(120)
@given(data=st.data())
def test_payload_edits(data, edit_sets, local, doors):
    kind = data.draw(st.sampled_from(sorted(edit_sets)), label="ids")
    ds = edit_sets[kind]
    start = data.draw(st.lists(PAYLOADS, min_size=len(ds.ids), max_size=len(ds.ids)), label="payloads")
    ds.payloads = dict(zip(ds.ids, start))
    for client in (local, doors["grpc"]):  # upsert replaces each payload wholesale
        client.upsert(ds.name, points=ds.points(), wait=True)
    for step in range(data.draw(st.integers(1, 4), label="steps")):
        door = data.draw(st.sampled_from(sorted(doors)), label=f"door {step}")
        op = data.draw(edit_ops(kind), label=f"edit {step}")
        want, got = outcome(lambda: apply_edit(local, ds.name, op)), outcome(lambda: apply_edit(doors[door], ds.name, op))
        same_outcome(want, got, f"{door} {op[0]}")
        want_payloads, got_payloads = all_payloads(local, ds.name), all_payloads(doors[door], ds.name)
        assert want_payloads == got_payloads, f"{door} after {op}"


# ------------------------------------------------------------------------------ explicit cases

INVALID_PATHS = ["", "a..b", "a.", ".a", "[0]", "a[x]", "a[-1]", "a b", '"a', "a[0", "a.[0]", "a[0]b", '"a"b', "a[ 0]"]


@pytest.mark.parametrize("door", ["grpc", "rest"])
def test_invalid_paths_are_refused(datasets, edit_sets, local, doors, door):
    """Spec §1: both sides refuse an invalid path, wherever a path goes."""
    ds, edit = datasets[0], edit_sets["int"]
    calls = {
        "filter": lambda c, p: c.count(ds.name, count_filter=models.Filter(must=[
            models.FieldCondition(key=p, match=models.MatchValue(value=1))])),
        "is_empty": lambda c, p: c.count(ds.name, count_filter=models.Filter(must=[
            models.IsEmptyCondition(is_empty=models.PayloadField(key=p))])),
        "nested": lambda c, p: c.count(ds.name, count_filter=models.Filter(must=[
            models.NestedCondition(nested=models.Nested(key=p, filter=models.Filter()))])),
        "with_payload": lambda c, p: c.retrieve(ds.name, ds.ids[:2], with_payload=[p]),
        "exclude": lambda c, p: c.retrieve(ds.name, ds.ids[:2], with_payload=models.PayloadSelectorExclude(exclude=[p])),
        "set_payload key": lambda c, p: c.set_payload(edit.name, payload={"x": 1}, points=edit.ids[:2], key=p),
        "delete_payload": lambda c, p: c.delete_payload(edit.name, keys=[p], points=edit.ids[:2]),
    }
    for what, call in calls.items():
        for path in INVALID_PATHS:
            if path == "" and what in ("filter", "set_payload key"):
                continue  # the client itself sends no key for ""
            want, got = outcome(lambda: call(local, path)), outcome(lambda: call(doors[door], path))
            assert want[0] == "error", (what, path, want)
            assert got[0] == "error", (what, path, got)


@pytest.mark.parametrize("door", ["grpc", "rest"])
def test_edit_with_a_missing_id(edit_sets, local, doors, door):
    """Spec §5: Qdrant updates the points that exist, then answers 404 for the first missing id.
    vecinfer gives the same 404 but applies nothing (a request applies whole or not at all)."""
    ds = edit_sets["int"]
    ds.payloads = {i: {"a": 1} for i in ds.ids}
    for client in (local, doors["grpc"]):
        client.upsert(ds.name, points=ds.points(), wait=True)
    before = all_payloads(doors[door], ds.name)
    missing = 10**9
    want = outcome(lambda: local.set_payload(ds.name, payload={"x": 1}, points=[ds.ids[0], missing, ds.ids[1]]))
    got = outcome(lambda: doors[door].set_payload(ds.name, payload={"x": 1}, points=[ds.ids[0], missing, ds.ids[1]]))
    assert all_payloads(doors[door], ds.name) == before  # nothing applied
    assert want[0] == "error" and got[0] == "error", (want, got)
    assert f"No point with id {missing} found" in got[1], got
    assert "404" in got[1] or "NOT_FOUND" in got[1], got
