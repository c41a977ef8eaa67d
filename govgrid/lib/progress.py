"""Progress bars for management commands (tqdm on the command's own stdout)."""

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(
    iterable: Iterable[T], *, desc: str, total: int | None = None, stream=None
) -> Iterator[T]:
    # Django's OutputWrapper ends every write with a newline, which would stack the bar's
    # refreshes into a column of lines: write to the stream underneath it.
    stream = getattr(stream, "_out", stream)
    yield from tqdm(
        iterable, desc=desc, total=total, file=stream, unit="", dynamic_ncols=True, leave=True
    )
