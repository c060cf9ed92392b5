"""Settings messages <-> Qdrant's REST shape, the one form the core keeps them in.

Most fields carry the same names on both sides, so the walk is generic; this module lists only
where the two shapes differ: enum spellings, a few wrapper messages, and oneofs that REST
writes as a tagged object.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from vecinfer.domain.collections import Settings
from vecinfer.domain.errors import InvalidArgument

# Enum values whose REST spelling is not simply the lower-cased proto name.
_ENUM_SPELLING = {"OneBit": "one_bit", "TwoBits": "two_bits", "OneAndHalfBits": "one_and_half_bits",
                  "MaxSim": "max_sim"}
# Zero values that mean "not set" on the wire: the field is left out of the settings.
_UNSET_ENUM = {"MemoryUnknown", "Unknown", "Default", "UnknownQuantization", "UnknownDistance"}
# Proto field name -> REST key, where they differ.
_RENAMED = {"turboquant": "turbo"}
_RENAMED_BACK = {rest: proto for proto, rest in _RENAMED.items()}


def _rest_enum(enum: EnumDescriptor, number: int) -> str | None:
    value = enum.values_by_number.get(number)
    if value is None or value.name in _UNSET_ENUM:
        return None
    return _ENUM_SPELLING.get(value.name, value.name.lower())


def _proto_enum(enum: EnumDescriptor, spelling: str, where: str) -> int:
    for value in enum.values:
        if _ENUM_SPELLING.get(value.name, value.name.lower()) == spelling:
            return int(value.number)
    raise InvalidArgument(f"{where}: {spelling!r} is not a {enum.name} value")


def to_settings(msg: Message) -> Settings:
    """The fields set in `msg`, in Qdrant's REST shape."""
    name = msg.DESCRIPTOR.name
    if name in ("QuantizationConfig", "QuantizationConfigDiff"):
        kind = msg.WhichOneof("quantization")
        if kind is None:
            return {}
        if kind == "disabled":
            return {}  # "Disabled": no quantization
        return {_RENAMED.get(kind, kind): to_settings(getattr(msg, kind))}
    out: Settings = {}
    for field, value in msg.ListFields():
        if field.name == "metadata":
            continue  # free-form JSON values: read by convert.values, not as settings
        if field.name == "deprecated_max_optimization_threads":
            out.setdefault("max_optimization_threads", value)  # the newer field, if set too, wins
            continue
        key = _RENAMED.get(field.name, field.name)
        converted = _value(field, value)
        if converted is not None:
            out[key] = converted
    return out


def _value(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
        if field.is_repeated:
            return [_rest_enum(field.enum_type, v) for v in value]
        return _rest_enum(field.enum_type, value)
    if field.type != FieldDescriptor.TYPE_MESSAGE:
        return list(value) if field.is_repeated else value
    message_type = field.message_type
    if message_type.GetOptions().map_entry:
        value_field = message_type.fields_by_name["value"]
        return {k: _value(value_field, v) for k, v in value.items()}
    if field.is_repeated:
        return [_message_value(message_type.name, item) for item in value]
    return _message_value(message_type.name, value)


def _message_value(type_name: str, value: Message) -> Any:
    if type_name == "KeywordPrefixParams":
        return True
    if type_name == "BinaryQuantizationQueryEncoding":
        return to_settings(value).get("setting")
    if type_name == "MaxOptimizationThreads":
        kind = value.WhichOneof("variant")
        return "auto" if kind == "setting" else value.value if kind == "value" else None
    if type_name == "StemmingAlgorithm":
        kind = value.WhichOneof("stemming_params")
        if kind == "snowball":
            return {"type": "snowball", "language": value.snowball.language}
        return {"type": "none"} if kind == "disabled" else None
    if type_name == "MultiVectorConfig":
        # MaxSim is the enum's zero (and only) value, so the wire never lists it as set.
        return {"comparator": "max_sim", **to_settings(value)}
    if type_name in ("StrictModeSparseConfig", "StrictModeMultivectorConfig"):
        return next(iter(to_settings(value).values()), {})
    return to_settings(value)


def fill(msg: Message, settings: Settings, where: str = "") -> None:
    """Set `msg`'s fields from settings in Qdrant's REST shape (the inverse of `to_settings`)."""
    descriptor: Descriptor = msg.DESCRIPTOR
    if descriptor.name in ("QuantizationConfig", "QuantizationConfigDiff"):
        for kind, inner in settings.items():
            fill(getattr(msg, _RENAMED_BACK.get(kind, kind)), inner, f"{where}{kind}.")
        return
    for key, value in settings.items():
        field = descriptor.fields_by_name.get(_RENAMED_BACK.get(key, key))
        if field is None:
            raise InvalidArgument(f"{where}{key}: no such field in {descriptor.name}")
        _set(msg, field, value, f"{where}{key}")


def _set(msg: Message, field: FieldDescriptor, value: Any, where: str) -> None:
    if field.type == FieldDescriptor.TYPE_ENUM:
        if field.is_repeated:
            getattr(msg, field.name).extend(_proto_enum(field.enum_type, v, where) for v in value)
        else:
            setattr(msg, field.name, _proto_enum(field.enum_type, value, where))
        return
    if field.type != FieldDescriptor.TYPE_MESSAGE:
        if field.is_repeated:
            getattr(msg, field.name).extend(value)
        else:
            setattr(msg, field.name, value)
        return
    target = getattr(msg, field.name)
    message_type = field.message_type
    if message_type.GetOptions().map_entry:
        value_field = message_type.fields_by_name["value"]
        for k, v in value.items():
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                fill(target[k], v, f"{where}.{k}.")
            else:
                target[k] = v
        return
    name = message_type.name
    if name == "KeywordPrefixParams":
        if value:
            target.SetInParent()
    elif name == "BinaryQuantizationQueryEncoding":
        fill(target, {"setting": value}, where)
    elif name == "MaxOptimizationThreads":
        if value == "auto":
            target.setting = 0
        else:
            target.value = value
    elif name == "StemmingAlgorithm":
        if value.get("type") == "none":
            target.disabled.SetInParent()
        else:
            target.snowball.language = value["language"]
    elif name == "StopwordsSet" and isinstance(value, str):
        target.languages.append(value)
    elif name == "StrictModeSparseConfig":
        fill(target, {"sparse_config": value}, f"{where}.")
    elif name == "StrictModeMultivectorConfig":
        fill(target, {"multivector_config": value}, f"{where}.")
    else:
        target.SetInParent()
        fill(target, value, f"{where}.")
