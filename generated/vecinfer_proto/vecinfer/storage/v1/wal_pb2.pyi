from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UpsertMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UPSERT_MODE_UNSPECIFIED: _ClassVar[UpsertMode]
    UPSERT_MODE_UPSERT: _ClassVar[UpsertMode]
    UPSERT_MODE_INSERT_ONLY: _ClassVar[UpsertMode]
    UPSERT_MODE_UPDATE_ONLY: _ClassVar[UpsertMode]
UPSERT_MODE_UNSPECIFIED: UpsertMode
UPSERT_MODE_UPSERT: UpsertMode
UPSERT_MODE_INSERT_ONLY: UpsertMode
UPSERT_MODE_UPDATE_ONLY: UpsertMode

class WalRecord(_message.Message):
    __slots__ = ("seq", "operations")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    seq: int
    operations: _containers.RepeatedCompositeFieldContainer[Operation]
    def __init__(self, seq: _Optional[int] = ..., operations: _Optional[_Iterable[_Union[Operation, _Mapping]]] = ...) -> None: ...

class Operation(_message.Message):
    __slots__ = ("upsert", "delete_points", "update_vectors", "delete_vectors", "set_payload", "overwrite_payload", "delete_payload", "clear_payload", "create_field_index", "delete_field_index")
    UPSERT_FIELD_NUMBER: _ClassVar[int]
    DELETE_POINTS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    DELETE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    SET_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    DELETE_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    CLEAR_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    CREATE_FIELD_INDEX_FIELD_NUMBER: _ClassVar[int]
    DELETE_FIELD_INDEX_FIELD_NUMBER: _ClassVar[int]
    upsert: Upsert
    delete_points: DeletePoints
    update_vectors: UpdateVectors
    delete_vectors: DeleteVectors
    set_payload: SetPayload
    overwrite_payload: OverwritePayload
    delete_payload: DeletePayload
    clear_payload: ClearPayload
    create_field_index: CreateFieldIndex
    delete_field_index: DeleteFieldIndex
    def __init__(self, upsert: _Optional[_Union[Upsert, _Mapping]] = ..., delete_points: _Optional[_Union[DeletePoints, _Mapping]] = ..., update_vectors: _Optional[_Union[UpdateVectors, _Mapping]] = ..., delete_vectors: _Optional[_Union[DeleteVectors, _Mapping]] = ..., set_payload: _Optional[_Union[SetPayload, _Mapping]] = ..., overwrite_payload: _Optional[_Union[OverwritePayload, _Mapping]] = ..., delete_payload: _Optional[_Union[DeletePayload, _Mapping]] = ..., clear_payload: _Optional[_Union[ClearPayload, _Mapping]] = ..., create_field_index: _Optional[_Union[CreateFieldIndex, _Mapping]] = ..., delete_field_index: _Optional[_Union[DeleteFieldIndex, _Mapping]] = ...) -> None: ...

class PointId(_message.Message):
    __slots__ = ("num", "uuid")
    NUM_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    num: int
    uuid: str
    def __init__(self, num: _Optional[int] = ..., uuid: _Optional[str] = ...) -> None: ...

class Vector(_message.Message):
    __slots__ = ("dense", "sparse", "multi_dense")
    DENSE_FIELD_NUMBER: _ClassVar[int]
    SPARSE_FIELD_NUMBER: _ClassVar[int]
    MULTI_DENSE_FIELD_NUMBER: _ClassVar[int]
    dense: DenseVector
    sparse: SparseVector
    multi_dense: MultiDenseVector
    def __init__(self, dense: _Optional[_Union[DenseVector, _Mapping]] = ..., sparse: _Optional[_Union[SparseVector, _Mapping]] = ..., multi_dense: _Optional[_Union[MultiDenseVector, _Mapping]] = ...) -> None: ...

class DenseVector(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: bytes
    def __init__(self, values: _Optional[bytes] = ...) -> None: ...

class SparseVector(_message.Message):
    __slots__ = ("indices", "values")
    INDICES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    indices: bytes
    values: bytes
    def __init__(self, indices: _Optional[bytes] = ..., values: _Optional[bytes] = ...) -> None: ...

class MultiDenseVector(_message.Message):
    __slots__ = ("rows", "values")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    rows: int
    values: bytes
    def __init__(self, rows: _Optional[int] = ..., values: _Optional[bytes] = ...) -> None: ...

class Point(_message.Message):
    __slots__ = ("id", "vectors", "payload_json")
    class VectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Vector
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Vector, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    id: PointId
    vectors: _containers.MessageMap[str, Vector]
    payload_json: str
    def __init__(self, id: _Optional[_Union[PointId, _Mapping]] = ..., vectors: _Optional[_Mapping[str, Vector]] = ..., payload_json: _Optional[str] = ...) -> None: ...

class PointVectors(_message.Message):
    __slots__ = ("id", "vectors")
    class VectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Vector
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Vector, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    id: PointId
    vectors: _containers.MessageMap[str, Vector]
    def __init__(self, id: _Optional[_Union[PointId, _Mapping]] = ..., vectors: _Optional[_Mapping[str, Vector]] = ...) -> None: ...

class PointIdList(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedCompositeFieldContainer[PointId]
    def __init__(self, ids: _Optional[_Iterable[_Union[PointId, _Mapping]]] = ...) -> None: ...

class Selector(_message.Message):
    __slots__ = ("ids", "filter_json")
    IDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_JSON_FIELD_NUMBER: _ClassVar[int]
    ids: PointIdList
    filter_json: str
    def __init__(self, ids: _Optional[_Union[PointIdList, _Mapping]] = ..., filter_json: _Optional[str] = ...) -> None: ...

class Upsert(_message.Message):
    __slots__ = ("points", "update_filter_json", "mode")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_FILTER_JSON_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[Point]
    update_filter_json: str
    mode: UpsertMode
    def __init__(self, points: _Optional[_Iterable[_Union[Point, _Mapping]]] = ..., update_filter_json: _Optional[str] = ..., mode: _Optional[_Union[UpsertMode, str]] = ...) -> None: ...

class DeletePoints(_message.Message):
    __slots__ = ("selector",)
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    selector: Selector
    def __init__(self, selector: _Optional[_Union[Selector, _Mapping]] = ...) -> None: ...

class UpdateVectors(_message.Message):
    __slots__ = ("points", "update_filter_json")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_FILTER_JSON_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[PointVectors]
    update_filter_json: str
    def __init__(self, points: _Optional[_Iterable[_Union[PointVectors, _Mapping]]] = ..., update_filter_json: _Optional[str] = ...) -> None: ...

class DeleteVectors(_message.Message):
    __slots__ = ("selector", "names")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    selector: Selector
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, selector: _Optional[_Union[Selector, _Mapping]] = ..., names: _Optional[_Iterable[str]] = ...) -> None: ...

class SetPayload(_message.Message):
    __slots__ = ("selector", "payload_json", "key")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    selector: Selector
    payload_json: str
    key: str
    def __init__(self, selector: _Optional[_Union[Selector, _Mapping]] = ..., payload_json: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class OverwritePayload(_message.Message):
    __slots__ = ("selector", "payload_json")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    selector: Selector
    payload_json: str
    def __init__(self, selector: _Optional[_Union[Selector, _Mapping]] = ..., payload_json: _Optional[str] = ...) -> None: ...

class DeletePayload(_message.Message):
    __slots__ = ("selector", "keys")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    selector: Selector
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, selector: _Optional[_Union[Selector, _Mapping]] = ..., keys: _Optional[_Iterable[str]] = ...) -> None: ...

class ClearPayload(_message.Message):
    __slots__ = ("selector",)
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    selector: Selector
    def __init__(self, selector: _Optional[_Union[Selector, _Mapping]] = ...) -> None: ...

class CreateFieldIndex(_message.Message):
    __slots__ = ("field", "type", "params_json")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    field: str
    type: str
    params_json: str
    def __init__(self, field: _Optional[str] = ..., type: _Optional[str] = ..., params_json: _Optional[str] = ...) -> None: ...

class DeleteFieldIndex(_message.Message):
    __slots__ = ("field",)
    FIELD_FIELD_NUMBER: _ClassVar[int]
    field: str
    def __init__(self, field: _Optional[str] = ...) -> None: ...
