"""Comparing JSON values as a signature sees them."""

from __future__ import annotations

from typing import Any

import orjson


def same_json(a: Any, b: Any) -> bool:
    """JSON-value equality that, unlike ``==``, tells 1 from 1.0 and true from 1: two
    objects that differ only there sign differently and mean different things."""
    return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        b, option=orjson.OPT_SORT_KEYS
    )
