"""Exact integer allocation of a total over a table with fixed one-way margins.

The 2023 project registry must reproduce the seed article's table number for
number: counts and planned investment by category, by new/continuing and by
government/social investment.  Everything is done in integers (projects, and
money in 0.01 亿元 "cents") so the sums are exact: iterative proportional
fitting gives a real-valued table with the right margins, largest-remainder
rounding makes it integral per category, and a repair step moves single units
between cells of one category until the other two margins match again.

Examples
--------
>>> largest_remainder([1.0, 1.0, 1.0], 10).tolist()
[4, 3, 3]
>>> import numpy as np
>>> seed = np.ones((2, 2, 2))
>>> t = integerise(ipf(seed, ([6, 4], [5, 5], [3, 7])), ([6, 4], [5, 5], [3, 7]))
>>> margins(t)
([6, 4], [5, 5], [3, 7])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray


def largest_remainder(weights: ArrayLike, total: int) -> NDArray[np.int64]:
    """Split integer ``total`` in proportion to ``weights`` (Hamilton's method).

    Ties are broken by position, so the result is deterministic.
    """
    w = np.asarray(weights, dtype="float64")
    if total == 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = w / w.sum() * total
    out = np.floor(exact).astype(np.int64)
    rest = int(total - out.sum())
    order = np.argsort(-(exact - out), kind="stable")
    out[order[:rest]] += 1
    return out


def margins(table: NDArray) -> tuple[list[int], ...]:
    """The three one-way margins of a 3-D table, as lists of ints."""
    return tuple(
        [int(v) for v in table.sum(axis=tuple(a for a in range(3) if a != axis))]
        for axis in range(3)
    )


def ipf(seed: NDArray, targets: Sequence[Sequence[float]], iterations: int = 500) -> NDArray:
    """Iterative proportional fitting of a 3-D ``seed`` to one-way margin ``targets``."""
    x = np.asarray(seed, dtype="float64").copy()
    for _ in range(iterations):
        for axis, target in enumerate(targets):
            sums = x.sum(axis=tuple(a for a in range(3) if a != axis))
            factor = np.divide(np.asarray(target, dtype="float64"), sums,
                               out=np.zeros_like(sums), where=sums > 0)
            shape = [1, 1, 1]
            shape[axis] = -1
            x *= factor.reshape(shape)
    return x


def integerise(x: NDArray, targets: Sequence[Sequence[int]],
               floor: NDArray | None = None) -> NDArray[np.int64]:
    """Round a fitted table to integers with exactly the margins ``targets``.

    Each first-axis slice is rounded by largest remainders to its margin; then,
    for the second and third axes in turn, single units move between the two
    cells of one slice that differ only on that axis (which leaves the other
    margins unchanged), always where the rounding overshoot is largest, until
    the margin matches.  ``floor`` gives a per-cell minimum that moves respect
    (cells whose floor is 0 and value 0 stay 0: no money without a project).
    """
    x = np.asarray(x, dtype="float64")
    lo = np.zeros(x.shape, dtype=np.int64) if floor is None else np.asarray(floor)
    n = np.zeros(x.shape, dtype=np.int64)
    for c in range(x.shape[0]):
        rest = largest_remainder(np.maximum(x[c] - lo[c], 0).ravel(),
                                 int(targets[0][c]) - int(lo[c].sum()))
        n[c] = lo[c] + rest.reshape(x.shape[1:])
    open_cell = (x > 0) | (lo > 0)
    for axis in (1, 2):
        for _ in range(10_000_000):
            diff = np.asarray(margins(n)[axis]) - np.asarray(targets[axis])
            if not diff.any():
                break
            src, dst = int(np.argmax(diff)), int(np.argmin(diff))
            best, best_score = None, -np.inf
            for c in range(x.shape[0]):
                for o in range(x.shape[3 - axis]):
                    i_src = (c, src, o) if axis == 1 else (c, o, src)
                    i_dst = (c, dst, o) if axis == 1 else (c, o, dst)
                    if n[i_src] <= lo[i_src] or not open_cell[i_dst]:
                        continue
                    score = (n[i_src] - x[i_src]) - (n[i_dst] - x[i_dst])
                    if score > best_score:
                        best, best_score = (i_src, i_dst), score
            if best is None:
                raise ValueError("cannot repair the margins with these floors")
            n[best[0]] -= 1
            n[best[1]] += 1
    return n
