"""The wire codec: openpi's ndarray maps, no pickle, garbage refused with a one-line reason."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from serving.codec import CodecError, packb, unpackb


def test_arrays_and_scalars_round_trip_with_dtype_and_shape():
    msg = {"a": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.uint8(7), "s": "text", "n": [1, 2.5]}
    back = unpackb(packb(msg))
    assert back["a"].dtype == np.float32 and back["a"].shape == (3, 4)
    np.testing.assert_array_equal(back["a"], msg["a"])
    assert back["b"] == 7 and back["b"].dtype == np.uint8 and back["s"] == "text" and back["n"] == [1, 2.5]


def test_openpi_layout_is_what_travels():
    raw = msgpack.unpackb(packb({"x": np.ones(2, dtype=np.float64)}), raw=False)
    assert raw["x"] == {b"__ndarray__": True, b"data": np.ones(2).tobytes(), b"dtype": "<f8", b"shape": [2]}


def test_object_arrays_are_refused_both_ways():
    with pytest.raises(CodecError):
        packb({"x": np.array([object()], dtype=object)})
    forged = msgpack.packb({b"__ndarray__": True, b"data": b"\x80\x04N.", b"dtype": "|O", b"shape": [1]}, use_bin_type=True)
    with pytest.raises(CodecError, match="refused"):
        unpackb(forged)


@pytest.mark.parametrize("frame", [b"\xc1garbage", b"", b"\x93\x01"])
def test_garbage_is_a_codec_error(frame):
    with pytest.raises(CodecError):
        unpackb(frame)


def test_data_that_does_not_fit_the_shape_is_refused():
    forged = msgpack.packb({b"__ndarray__": True, b"data": b"\x00" * 3, b"dtype": "<f4", b"shape": [2]}, use_bin_type=True)
    with pytest.raises(CodecError, match="does not match"):
        unpackb(forged)
