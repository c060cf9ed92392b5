"""A numpy array that grows by doubling, for per-offset flags."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class GrowableArray:
    def __init__(self, dtype: npt.DTypeLike, fill: bool | int | float = 0) -> None:
        self._data = np.full(64, fill, dtype=dtype)
        self._fill = fill
        self.size = 0

    def append(self, value: bool | int | float) -> None:
        if self.size == len(self._data):
            grown = np.full(len(self._data) * 2, self._fill, dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size] = value
        self.size += 1

    def extend(self, values: np.ndarray) -> None:
        needed = self.size + len(values)
        if needed > len(self._data):
            grown = np.full(max(needed, len(self._data) * 2), self._fill, dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : needed] = values
        self.size = needed

    def __getitem__(self, index: int) -> np.generic:
        return self.view()[index]

    def __setitem__(self, index: int, value: bool | int | float) -> None:
        self.view()[index] = value

    def view(self) -> np.ndarray:
        return self._data[: self.size]
