"""Lambda event filtering (FilterCriteria), as far as template.yaml uses it: nested objects, lists of
exact values, and ``{"prefix": ...}``. Any other operator fails loudly: a pattern this evaluator
cannot judge must not pass a test by accident (teach it the operator first, from AWS's rules).

Rules followed (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html): a
record passes when any filter of the criteria matches it (no criteria: every record passes); a filter
matches when every key it names is present in the record and matches; a leaf is a list of options,
matched when any option matches; an array in the record matches when any of its elements does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

SUPPORTED_OPERATORS = frozenset({"prefix"})


class UnsupportedPattern(ValueError):
    """A pattern using syntax this evaluator does not know: teach it, do not guess."""


def passes(criteria: Mapping[str, Any] | None, record: Mapping[str, Any]) -> bool:
    """Would Lambda deliver ``record`` through this FilterCriteria (the template's property)?"""
    if not criteria:
        return True
    filters = criteria.get("Filters")
    if not isinstance(filters, list) or not filters:
        raise UnsupportedPattern(f"FilterCriteria without Filters: {criteria!r}")
    return any(matches(pattern_of(f), record) for f in filters)


def pattern_of(filter_: Mapping[str, Any]) -> dict[str, Any]:
    pattern = filter_.get("Pattern")
    if not isinstance(pattern, str):
        raise UnsupportedPattern(f"a filter's Pattern must be a JSON string here: {filter_!r}")
    parsed = json.loads(pattern)
    if not isinstance(parsed, dict) or not parsed:
        raise UnsupportedPattern(f"a pattern must be a non-empty JSON object: {pattern}")
    return parsed


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """One filter pattern against one record. The whole pattern is checked first, so syntax this
    evaluator does not know fails even where the record would not have reached it."""
    _check(pattern)
    return _match(pattern, event)


def _match(pattern: Mapping[str, Any], event: Any) -> bool:
    if not isinstance(event, Mapping):
        return False
    return all(
        key in event and (_match(sub, event[key]) if isinstance(sub, Mapping) else _leaf(sub, event[key]))
        for key, sub in pattern.items()
    )


def _leaf(options: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(_option(option, v) for option in options for v in values)


def _option(option: Any, value: Any) -> bool:
    if isinstance(option, Mapping):
        (operator, operand), *_ = option.items()
        assert operator == "prefix"  # _check lets nothing else through
        return isinstance(value, str) and value.startswith(operand)
    if isinstance(value, Mapping | list):
        return False
    return bool(value == option and type(value) is type(option))


def _options(options: Sequence[Any]) -> None:
    if not options:
        raise UnsupportedPattern("an empty list of values matches nothing: surely a mistake")
    for option in options:
        if isinstance(option, Mapping):
            if len(option) != 1 or next(iter(option)) not in SUPPORTED_OPERATORS:
                raise UnsupportedPattern(f"operator not supported by this evaluator: {option!r}")
            if not isinstance(next(iter(option.values())), str):
                raise UnsupportedPattern(f"prefix takes a string: {option!r}")
        elif isinstance(option, list):
            raise UnsupportedPattern(f"nested list in a pattern: {option!r}")


def _check(pattern: Mapping[str, Any]) -> None:
    for key, sub in pattern.items():
        if isinstance(sub, Mapping):
            _check(sub)
        elif isinstance(sub, list):
            _options(sub)
        else:
            raise UnsupportedPattern(f"{key!r}: a pattern value must be an object or a list, not {sub!r}")
