"""openpi's msgpack-numpy wire format, written here (openpi-client pins numpy<2).

An ndarray travels as the map ``{"__ndarray__": True, "data": bytes, "dtype": dtype.str,
"shape": [...]}`` and a numpy scalar as ``{"__npgeneric__": True, "data": ..., "dtype": ...}``.
Object, void and structured dtypes are refused on both ends: nothing is ever pickled, so a frame
from the network can only ever become numbers, strings, bytes, lists and maps.
"""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np

#: dtype kinds that may travel: bool, signed/unsigned int, float, complex, unicode and bytes strings.
ALLOWED_KINDS = frozenset("biufcUS")


class CodecError(ValueError):
    """A frame that is not valid msgpack or holds an array this codec refuses."""


def _encode(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in ALLOWED_KINDS:
            raise CodecError(f"arrays of dtype {obj.dtype} are not sent (object/void dtypes would need pickle)")
        return {b"__ndarray__": True, b"data": np.ascontiguousarray(obj).tobytes(), b"dtype": obj.dtype.str,
                b"shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        if obj.dtype.kind not in ALLOWED_KINDS:
            raise CodecError(f"scalars of dtype {obj.dtype} are not sent")
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    raise TypeError(f"cannot pack {type(obj).__name__}")


def _decode(obj: dict) -> Any:
    if b"__ndarray__" in obj or "__ndarray__" in obj:
        get = (lambda k: obj[k.encode()] if k.encode() in obj else obj[k])
        dtype = np.dtype(_text(get("dtype")))
        if dtype.kind not in ALLOWED_KINDS:
            raise CodecError(f"arrays of dtype {dtype} are refused")
        shape = tuple(int(n) for n in get("shape"))
        data = get("data")
        if not isinstance(data, (bytes, bytearray)) or len(data) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise CodecError(f"array data does not match dtype {dtype} and shape {shape}")
        return np.frombuffer(data, dtype=dtype).reshape(shape)
    if b"__npgeneric__" in obj or "__npgeneric__" in obj:
        get = (lambda k: obj[k.encode()] if k.encode() in obj else obj[k])
        dtype = np.dtype(_text(get("dtype")))
        if dtype.kind not in ALLOWED_KINDS:
            raise CodecError(f"scalars of dtype {dtype} are refused")
        return dtype.type(get("data"))
    return {(_text(k) if isinstance(k, bytes) else k): v for k, v in obj.items()}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, (bytes, bytearray)) else str(value)


def packb(obj: Any) -> bytes:
    """msgpack bytes of ``obj`` (maps, lists, str, numbers, bytes, numpy arrays and scalars)."""
    return msgpack.packb(obj, default=_encode, use_bin_type=True)


def unpackb(data: bytes) -> Any:
    """The object of a msgpack frame; raises :class:`CodecError` on anything else."""
    try:
        return msgpack.unpackb(data, object_hook=_decode, raw=False, strict_map_key=False)
    except CodecError:
        raise
    except Exception as exc:  # msgpack's own errors: ExtraData, FormatError, StackError, ValueError...
        raise CodecError(f"not a msgpack frame ({type(exc).__name__})") from exc
