"""KV cache edits the model itself relies on (its action queries run on a cache and are cut off again)."""

from __future__ import annotations

from typing import Any


def crop(cache: Any, tokens: int) -> None:
    """Take the last ``tokens`` positions off ``cache`` (a ``DynamicCache`` or ``StaticCache``).

    transformers 5.24 crops both by a negative count. In 5.17 static layers cannot crop; their
    write position is ``cumulative_length``, and moving it back is what 5.24 does too: the stale
    keys are overwritten by the next write and masked until then.
    """
    if tokens <= 0:
        return
    if getattr(cache, "is_croppable", True):
        cache.crop(-tokens)
        return
    for layer in cache.layers:
        layer.cumulative_length.sub_(tokens)
