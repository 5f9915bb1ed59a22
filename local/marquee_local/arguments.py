"""argparse types for the numbers of `marquee`'s options: a value out of range is refused when the command line is
read (usage and exit status 2, as for any malformed option), not at bind or deep inside a command."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free one). ArgumentTypeError otherwise."""
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: give 1 to 65535, or 0 for any free one")
    return value


def int_at_least(low: int) -> Callable[[str], int]:
    """A type for whole numbers from `low` up; ArgumentTypeError otherwise."""

    def parse(text: str) -> int:
        value = _integer(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is less than {low}; give {low} or more")
        return value

    parse.__name__ = f"integer from {low}"
    return parse


def int_between(low: int, high: int) -> Callable[[str], int]:
    """A type for whole numbers from `low` to `high`; ArgumentTypeError otherwise."""

    def parse(text: str) -> int:
        value = _integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range; give {low} to {high}")
        return value

    parse.__name__ = f"integer from {low} to {high}"
    return parse


def seconds(text: str) -> float:
    """A duration in seconds, 0 or more (fractions allowed; not inf or nan). ArgumentTypeError otherwise."""
    try:
        value = float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text.strip()} is not a number of seconds: give 0 or more")
    return value
