"""Progress bars for management commands (tqdm on the command's own stdout)."""

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(
    iterable: Iterable[T], *, desc: str, total: int | None = None, stream=None
) -> Iterator[T]:
    yield from tqdm(
        iterable, desc=desc, total=total, file=stream, unit="", dynamic_ncols=True, leave=True
    )
