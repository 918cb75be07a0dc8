"""DynamoDB's item size rules: the 400 KB limit is checked before anything is written, and the
capacity units a write or read costs are computed from the same sizes.

The size of an item is the sum, over its attributes, of the UTF-8 length of the attribute's name and
the size of its value: a string's UTF-8 length, a binary's byte length, a number's 1 byte per two
significant digits plus 1, 1 byte for a boolean or null, and for a list or map 3 bytes plus 1 byte
per element plus the elements (a map's element counts its name too).

The largest reply that can be stored. A turn is one item, its text zlib-compressed into
``content_compressed``; everything else on the item (keys, role, ids of at most 128 characters,
counts, times) takes under ``TURN_OVERHEAD_BYTES`` = 1 KB. zlib never grows its input by more than
about 0.03 % plus 13 bytes, so **any reply of at most 400,000 bytes of UTF-8 is always stored**:
400,000 ASCII characters, 133,333 CJK characters, 100,000 emoji, whatever their content. Real prose
compresses three- to fourfold, so the actual ceiling for an English reply is above a million
characters. A reply whose compressed item would still exceed 400 KB raises ``MessageTooLarge``
before any write is attempted (it never happens with the model's ``LLM_MAX_TOKENS`` of 1,024, about
4 KB of text). The same check guards the user's turn, which ``MAX_MESSAGE_CHARS`` keeps far smaller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal

from adapters.dynamodb.layout import AttributeValue
from domain.errors import MessageTooLarge

MAX_ITEM_BYTES = 400 * 1024
TURN_OVERHEAD_BYTES = 1024
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096


def number_size(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    significant = len(digits) if any(digits) else 1
    return math.ceil(significant / 2) + 1 + (1 if text.lstrip().startswith("-") else 0)


def value_size(value: AttributeValue) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode("utf-8"))
    if kind == "B":
        return len(bytes(content))
    if kind == "N":
        return number_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in content)
    if kind == "NS":
        return sum(number_size(n) for n in content)
    if kind == "BS":
        return sum(len(bytes(b)) for b in content)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + value_size(v) for name, v in content.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Mapping[str, AttributeValue]) -> int:
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in item.items())


def ensure_fits(item: Mapping[str, AttributeValue], what: str) -> int:
    """The item's size, or ``MessageTooLarge`` if DynamoDB would refuse it: we never try."""
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise MessageTooLarge(f"{what} would take {size} bytes in the table; the limit is {MAX_ITEM_BYTES}")
    return size


def write_units(size: int, transactional: bool = False) -> int:
    """WCU of writing one item of ``size`` bytes: 1 per started KB, doubled inside a transaction."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES)) * (2 if transactional else 1)


def read_units(sizes: Iterable[int], consistent: bool) -> float:
    """RCU of one Query (or GetItem) that reads items of these sizes: the total, rounded up to 4 KB,
    at 1 unit per 4 KB strongly consistent and half of that eventually consistent."""
    blocks = max(1, math.ceil(sum(sizes) / READ_UNIT_BYTES))
    return blocks * (1.0 if consistent else 0.5)
