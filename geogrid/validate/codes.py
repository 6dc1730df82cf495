"""Code checks: every grid and unit has its own code, in its layer and across layers."""

from __future__ import annotations

from collections import defaultdict

import shapely

from .layers import _Layer
from .report import _LAYER_NAMES


class CodeChecks:
    """Every grid and unit has its own code, in its layer and across layers."""

    # ------------------------------------------------------------------ codes
    def check_codes(self) -> None:
        seen: dict[str, list[tuple[_Layer, int]]] = defaultdict(list)
        for layer in (self.g1, self.g2, self.units):
            for i, code in enumerate(layer.codes):
                if code is None:
                    self.add(
                        "duplicate-code",
                        f"{layer.where(i, cap=True)} has no code.",
                        layer.name,
                        (layer.labels[i],),
                        layer.geoms[i],
                    )
                else:
                    seen[code].append((layer, i))
        for code, uses in seen.items():
            if len(uses) < 2:
                continue
            layers = []
            for layer, _ in uses:
                if layer not in layers:
                    layers.append(layer)
            kinds = ", ".join(
                f"{sum(lay is layer for lay, _ in uses)} {_LAYER_NAMES[layer.name]}s"
                for layer in layers
            )
            where = "across layers" if len(layers) > 1 else "within its layer"
            geoms = [lay.geoms[i] for lay, i in uses if lay.geoms[i] is not None]
            self.add(
                "duplicate-code",
                f"Code {code} is used {len(uses)} times {where} ({kinds}).",
                layers[-1].name,
                (code,),
                shapely.geometrycollections(geoms) if geoms else None,
            )
