"""Progress bars for management commands (tqdm on the command's own stdout)."""

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def _raw(stream):
    # Django's OutputWrapper ends every write with a newline, which would stack the bar's
    # refreshes into a column of lines: write to the stream underneath it.
    return getattr(stream, "_out", stream)


def progress(
    iterable: Iterable[T], *, desc: str, total: int | None = None, stream=None
) -> Iterator[T]:
    yield from tqdm(
        iterable, desc=desc, total=total, file=_raw(stream), unit="", dynamic_ncols=True, leave=True
    )


def progress_counter(*, desc: str, total: int, stream=None) -> tqdm:
    """A bar moved on by hand (`bar.update(n)`), for work that reports counts through a
    callback instead of yielding items; use it as a context manager."""
    return tqdm(desc=desc, total=total, file=_raw(stream), unit="", dynamic_ncols=True, leave=True)
