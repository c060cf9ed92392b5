"""Formula and Expression messages -> domain."""

from __future__ import annotations

from vecinfer.domain.errors import Unimplemented
from vecinfer.domain.formula import FormulaQuery
from vecinfer_proto.qdrant import points_pb2 as pb


def formula_from(msg: pb.Formula) -> FormulaQuery:
    raise Unimplemented("the `formula` query (score boosting)")
