"""The exact orientation test the locator's ray casts rest on."""

from __future__ import annotations

from fractions import Fraction

ERRBOUND = (3.0 + 16.0 * 2.0**-53) * 2.0**-53


def orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:
    """Exact sign of the turn a → b → c: 1 if c is left of a→b, -1 if right, 0 if collinear.

    A floating-point filter (Shewchuk's orient2d bound) decides almost every case; the rest are
    computed exactly with fractions.

    >>> orient(0, 0, 1, 0, 0.5, 1e-300), orient(0, 0, 1, 0, 0.5, 0.0), orient(0, 0, 1, 1, 1, 0)
    (1, 0, -1)
    >>> (0 - 0.3) * (1 - 0.1) - (0 - 0.1) * (3 - 0.3)   # plain floating point: "collinear"
    0.0
    >>> orient(0, 0, 3, 1, 0.3, 0.1)   # but (0.3, 0.1) as doubles lies just left of the line
    1
    """
    detleft = (ax - cx) * (by - cy)
    detright = (ay - cy) * (bx - cx)
    det = detleft - detright
    bound = ERRBOUND * (abs(detleft) + abs(detright))
    if det > bound:
        return 1
    if -det > bound:
        return -1
    fcx, fcy = Fraction(cx), Fraction(cy)
    exact = (Fraction(ax) - fcx) * (Fraction(by) - fcy) - (Fraction(ay) - fcy) * (
        Fraction(bx) - fcx
    )
    return (exact > 0) - (exact < 0)
