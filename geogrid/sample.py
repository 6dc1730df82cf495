"""The bundled sample district: a realistic, reproducible, *fictional* Xianlin sub-district.

The real grid boundaries of 仙林街道 are not public, so geogrid ships a sample made by this seeded
generator and written to ``boundaries/`` by ``geogrid sample``. Everything about it is generated:
outline, grids, unit names and every person's name and phone number. What is real is its shape of
the problem: placement on Xianlin, the area (32.67 km²), the counts (10 communities, 156 grids,
1786 units, 12 universities, 40 residential compounds, 9 commercial blocks, 26万 residents) and the
national coding style.

How it is made (all geometry in metres, EPSG:4549):

1. an irregular, star-shaped outline around (118.93 E, 32.11 N);
2. 156 seeds from k-means over samples of a density map (dense residential core, sparse campuses,
   so grids range from compact compounds to large campuses), cut by a Voronoi diagram;
3. the cells are re-noded (``union_all`` of all edges, ``polygonize``), densified every 12 m and
   bent by a smooth displacement field so edges wander like streets; each shared edge is built once,
   so neighbours share identical vertices;
4. cells are grown into 10 contiguous communities of 13 to 18 grids; first-level grids are the
   union of their second-level grids, so nesting holds by construction;
5. the whole map is scaled about its centre to exactly 32.67 km² and converted to WGS-84;
6. codes in reading order (west to east, then north to south): 320113005 + 3-digit community,
   + 3-digit grid, + 4-digit unit.

>>> d = generate(seed=DEFAULT_SEED)
>>> len(d.grids1), len(d.grids2), len(d.units)
(10, 156, 1786)
>>> round(float(area_m2(d.outline)) / 1e6, 2)
32.67
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.strtree import STRtree

from .crs import area_m2, from_metric, geometry_from_metric, to_metric
from .model import COORD_DECIMALS, GRID1_COLUMNS, GRID2_COLUMNS, UNIT_COLUMNS, District, _frame

DEFAULT_SEED = 320113005
DISTRICT_CODE = "320113005"
DISTRICT_NAME = "仙林街道"
TARGET_AREA_M2 = 32.67e6
CENTRE = (118.930, 32.110)
#: The sample must lie inside this lon/lat box (Xianlin).
EXTENT = (118.88, 32.07, 118.98, 32.15)
N_COMMUNITIES = 10
N_GRIDS = 156
COMMUNITY_SIZE = (13, 18)
#: Spacing of vertices along every edge, metres.
VERTEX_SPACING = 12.0
TOTAL_RESIDENTS = 260_000

#: Unit categories and how many of each the sample holds (sum 1786).
UNIT_COUNTS = {
    "高校": 12,
    "住宅小区": 40,
    "商业街区": 9,
    "中小学幼儿园": 38,
    "医疗机构": 24,
    "机关事业单位": 56,
    "企业": 680,
    "商铺": 820,
    "宾馆酒店": 47,
    "社会组织": 60,
}

#: Which kinds of grid each category prefers (weights), kinds being set by the density zones.
_CATEGORY_KINDS = {
    "中小学幼儿园": {"住宅": 3, "混合": 2, "商业": 1},
    "医疗机构": {"住宅": 2, "混合": 2, "商业": 2},
    "机关事业单位": {"混合": 3, "商业": 2, "住宅": 1, "产业": 1},
    "企业": {"产业": 6, "混合": 3, "商业": 2, "住宅": 1, "校园": 1},
    "商铺": {"商业": 5, "住宅": 3, "混合": 3, "校园": 1, "产业": 1},
    "宾馆酒店": {"商业": 4, "混合": 2, "校园": 1},
    "社会组织": {"住宅": 3, "混合": 2, "商业": 1},
}

_COMMUNITY_NAMES = [
    "仙鹤社区", "文澜社区", "学海社区", "仙林湖社区", "杉湖社区",
    "灵山社区", "东阳社区", "元化社区", "九乡河社区", "羊山社区",
]  # fmt: skip
_OFFICES = [
    ("党政办公室", "025-85790101"),
    ("城市管理科", "025-85790102"),
    ("社会事业科", "025-85790103"),
    ("经济发展科", "025-85790104"),
    ("平安建设办公室", "025-85790105"),
    ("规划建设科", "025-85790106"),
    ("社区建设科", "025-85790107"),
    ("安全生产监管科", "025-85790108"),
    ("民政和社会保障科", "025-85790109"),
    ("网格化服务管理中心", "025-85790110"),
]
_LEADER_TITLES = [
    "街道党工委书记", "街道办事处主任", "街道党工委副书记", "街道人大工委主任", "街道纪工委书记",
    "街道办事处副主任", "街道办事处副主任", "街道党工委委员", "街道武装部部长", "街道办事处副主任",
]  # fmt: skip
_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶贺顾毛郝龚邵万钱严武戴孔汤"
)
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国玉文斌志海燕红梅晓东春生丹凯鹏辉婷雪颖琳晨宇浩然欣怡萱思远鸣佳俊峰瑶琪慧蕾睿博涵轩")  # fmt: skip
_ROADS = [
    "仙林大道", "文苑路", "学海路", "元化路", "杉湖东路", "仙隐北路", "纬地路", "九乡河东路", "学林路",
    "灵山北路", "仙鹤街", "白象路", "东阳路", "文澜路", "学则路", "仙境路", "羊山北路", "南大路",
]  # fmt: skip
_FINE_WORDS = list(
    "文澜学府仙林东方翠谷银杏桂山月湖和园锦绣书香枫林紫荆栖霞钟灵尚品嘉禾恒泰九华明珠凤凰云庭"
)
_UNI_PREFIX = [
    "钟山",
    "紫金",
    "栖霞",
    "石城",
    "金陵",
    "白鹭",
    "江海",
    "长江",
    "秦淮",
    "玄武",
    "灵谷",
    "龙蟠",
]
_UNI_FIELD = ["理工", "师范", "财经", "医科", "邮电", "中医药", "信息工程", "外国语", "农林", "艺术", "科技", "工业"]  # fmt: skip
_COMPOUND_SUFFIX = ["花园", "苑", "家园", "小区", "公寓", "新村", "雅居", "华庭"]
_BLOCK_SUFFIX = ["商业街区", "广场", "天地", "商业中心", "步行街"]
_TRADES = ["科技", "信息技术", "生物医药", "电子", "软件", "网络科技", "环保科技", "建筑工程", "物流", "文化传媒", "教育咨询", "智能装备", "新材料", "检测技术", "物业管理", "餐饮管理"]  # fmt: skip
_SHOPS = ["便利店", "超市", "餐厅", "面馆", "水果店", "大药房", "理发店", "干洗店", "咖啡馆", "茶饮店", "书店", "五金店", "烘焙坊", "花店", "眼镜店", "快餐店", "手机维修", "文具店"]  # fmt: skip
_SCHOOLS = ["小学", "中学", "幼儿园", "实验学校", "初级中学"]
_CLINICS = ["社区卫生服务站", "医院", "门诊部", "口腔诊所", "中医诊所"]
_AGENCIES = ["派出所", "城管中队", "市场监管所", "税务所", "供电营业厅", "邮政支局", "消防救援站", "司法所", "自来水服务站", "燃气服务站", "社区党群服务中心", "图书馆分馆", "文体中心", "养老服务中心"]  # fmt: skip
_HOTELS = ["酒店", "宾馆", "公寓酒店", "商务酒店", "青年旅舍"]
_SOCIAL = ["志愿者协会", "社工服务社", "老年协会", "慈善工作站", "青少年活动中心", "调解委员会", "业主委员会", "残疾人之家"]  # fmt: skip
_KINDS = ("住宅", "商业", "校园", "产业", "生态", "混合")


class _Sample:
    """One attempt at building the sample from a random generator (see :func:`generate`)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.cx, self.cy = (float(v) for v in to_metric(*CENTRE))

    # ---------------------------------------------------------------- geometry
    def outline(self) -> shapely.Polygon:
        rng = self.rng
        theta = np.linspace(0.0, 2 * math.pi, 1440, endpoint=False)
        r = np.ones_like(theta)
        for k in range(2, 10):
            r += (
                rng.uniform(0.02, 0.10)
                / math.sqrt(k)
                * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
            )
        stretch, angle = rng.uniform(1.15, 1.35), rng.uniform(-0.4, 0.4)
        x, y = 3200.0 * r * np.cos(theta) * stretch, 3200.0 * r * np.sin(theta) / stretch
        ca, sa = math.cos(angle), math.sin(angle)
        return shapely.Polygon(
            np.column_stack([self.cx + ca * x - sa * y, self.cy + sa * x + ca * y])
        )

    def zones(self, outline: shapely.Polygon):
        """Density zones: (kind, centre, radii, density) ellipses; elsewhere 混合 at density 1."""
        rng = self.rng
        minx, miny, maxx, maxy = outline.bounds
        w, h = maxx - minx, maxy - miny

        def spot(fx, fy):
            p = shapely.Point(minx + fx * w, miny + fy * h)
            if not outline.contains(p):
                p = shapely.ops.nearest_points(outline.buffer(-600), p)[0]
            return p.x + rng.normal(0, 150), p.y + rng.normal(0, 150)

        return [
            ("商业", spot(0.52, 0.48), (700.0, 550.0), 3.0),
            ("商业", spot(0.80, 0.30), (450.0, 400.0), 3.0),
            ("校园", spot(0.72, 0.62), (1900.0, 1300.0), 0.10),
            ("校园", spot(0.30, 0.70), (1300.0, 1000.0), 0.10),
            ("产业", spot(0.15, 0.35), (1100.0, 900.0), 0.8),
            ("生态", spot(0.50, 0.88), (900.0, 700.0), 0.2),
            ("住宅", spot(0.45, 0.28), (1300.0, 900.0), 2.5),
            ("住宅", spot(0.82, 0.22), (800.0, 700.0), 2.2),
        ]

    @staticmethod
    def zone_of(zones, x, y):
        """Kind and density at points (x, y): the first zone containing them wins."""
        kind = np.full(np.shape(x), "混合", dtype=object)
        dens = np.ones(np.shape(x))
        free = np.ones(np.shape(x), dtype=bool)
        for name, (zx, zy), (rx, ry), d in zones:
            inside = free & (((x - zx) / rx) ** 2 + ((y - zy) / ry) ** 2 <= 1.0)
            kind[inside], dens[inside] = name, d
            free &= ~inside
        return kind, dens

    def seeds(self, outline, zones) -> np.ndarray:
        """156 seed points: k-means centres over points drawn from the density map."""
        rng = self.rng
        minx, miny, maxx, maxy = outline.bounds
        pts = []
        while sum(len(p) for p in pts) < 24000:
            x, y = rng.uniform(minx, maxx, 20000), rng.uniform(miny, maxy, 20000)
            keep = shapely.contains_xy(outline, x, y)
            _, dens = self.zone_of(zones, x, y)
            keep &= rng.uniform(0, 3.5, x.size) < dens
            pts.append(np.column_stack([x[keep], y[keep]]))
        pts = np.concatenate(pts)[:24000]
        centres = pts[rng.choice(len(pts), N_GRIDS, replace=False)]
        for _ in range(40):
            label = (centres**2).sum(1)[None, :] - 2.0 * pts @ centres.T
            label = label.argmin(axis=1)
            counts = np.bincount(label, minlength=N_GRIDS)
            for axis in (0, 1):
                sums = np.bincount(label, weights=pts[:, axis], minlength=N_GRIDS)
                centres[:, axis] = np.where(
                    counts > 0, sums / np.maximum(counts, 1), centres[:, axis]
                )
        return centres

    def cells(self, outline, seeds) -> list[shapely.Polygon]:
        """Voronoi cells of ``seeds`` clipped to ``outline``, re-noded and densified; one per seed."""
        box = shapely.box(*outline.buffer(3000).bounds)
        vor = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=box, ordered=True)
        )
        # One union nodes the Voronoi edges and the outline together: clipping first would leave
        # cut points a hair off the outline, and dangling edges.
        noded = shapely.union_all(np.append(shapely.boundary(vor), outline.boundary))
        faces = shapely.get_parts(
            shapely.polygonize(shapely.get_parts(shapely.segmentize(noded, VERTEX_SPACING)))
        )
        faces = faces[shapely.contains(outline, shapely.point_on_surface(faces))]
        owner = STRtree(vor).query(shapely.point_on_surface(faces), predicate="within")
        face_cell = np.empty(len(faces), dtype=int)
        face_cell[owner[0]] = owner[1]
        # A cell cut in pieces by the outline keeps the piece holding its seed; every other piece
        # goes to the neighbour it shares the longest edge with.
        seed_pts = shapely.points(seeds)
        for cell in range(len(seeds)):
            idx = np.flatnonzero(face_cell == cell)
            if len(idx) > 1:
                keep = idx[shapely.covers(faces[idx], seed_pts[cell])]
                keep = keep[0] if len(keep) else idx[np.argmax(shapely.area(faces[idx]))]
                for f in idx[idx != keep]:
                    shared = shapely.length(
                        shapely.intersection(faces[f].boundary, shapely.boundary(faces))
                    )
                    shared[face_cell == cell] = 0.0
                    face_cell[f] = face_cell[int(np.argmax(shared))]
        return [shapely.coverage_union_all(faces[face_cell == c]) for c in range(len(seeds))]

    def displacement(self):
        """A smooth displacement field (max slope < 0.5) that bends straight edges into streets."""
        rng = self.rng
        waves = []
        for _ in range(4):
            wavelength = rng.uniform(350.0, 900.0)
            amp = rng.uniform(4.0, 9.0)
            ang = rng.uniform(0, 2 * math.pi)
            k = 2 * math.pi / wavelength
            waves.append(
                (
                    amp,
                    k * math.cos(ang),
                    k * math.sin(ang),
                    rng.uniform(0, 2 * math.pi),
                    rng.uniform(0, 2 * math.pi),
                )
            )

        def apply(coords: np.ndarray) -> np.ndarray:
            x, y = coords[:, 0], coords[:, 1]
            dx, dy = np.zeros_like(x), np.zeros_like(y)
            for amp, kx, ky, p1, p2 in waves:
                phase = kx * (x - self.cx) + ky * (y - self.cy)
                dx += amp * np.sin(phase + p1)
                dy += amp * np.sin(phase + p2)
            return np.column_stack([x + dx, y + dy])

        return apply

    # ---------------------------------------------------------------- communities
    def communities(self, cells: list) -> np.ndarray | None:
        """Grow 10 contiguous communities of 13-18 cells; ``None`` when this attempt fails."""
        rng = self.rng
        geoms = np.array(cells, dtype=object)
        tree = STRtree(geoms)
        a, b = tree.query(geoms, predicate="intersects")
        keep = a < b
        a, b = a[keep], b[keep]
        shared = shapely.length(
            shapely.intersection(shapely.boundary(geoms[a]), shapely.boundary(geoms[b]))
        )
        adj = [set() for _ in cells]
        for i, j in zip(a[shared > 1.0], b[shared > 1.0], strict=True):
            adj[i].add(int(j))
            adj[j].add(int(i))
        cent = shapely.get_coordinates(shapely.centroid(geoms))
        pick = rng.choice(len(cells), N_COMMUNITIES, replace=False)
        centres = cent[pick].copy()
        for _ in range(30):
            lab = ((cent[:, None] - centres[None]) ** 2).sum(2).argmin(1)
            for c in range(N_COMMUNITIES):
                if (lab == c).any():
                    centres[c] = cent[lab == c].mean(0)
        starts = [int(((cent - centres[c]) ** 2).sum(1).argmin()) for c in range(N_COMMUNITIES)]
        if len(set(starts)) < N_COMMUNITIES:
            return None
        owner = np.full(len(cells), -1)
        for c, s in enumerate(starts):
            owner[s] = c
        while (owner < 0).any():
            sizes = np.bincount(owner[owner >= 0], minlength=N_COMMUNITIES)
            grown = False
            for c in np.argsort(sizes, kind="stable"):
                members = np.flatnonzero(owner == c)
                frontier = sorted({n for m in members for n in adj[m] if owner[n] < 0})
                if frontier:
                    mean = cent[members].mean(0)
                    best = min(frontier, key=lambda n: ((cent[n] - mean) ** 2).sum())
                    owner[best] = c
                    grown = True
                    break
            if not grown:
                return None
        sizes = np.bincount(owner, minlength=N_COMMUNITIES)
        if sizes.min() < COMMUNITY_SIZE[0] or sizes.max() > COMMUNITY_SIZE[1]:
            return None
        return owner


def _reading_order(x: np.ndarray, y: np.ndarray, band: float) -> np.ndarray:
    """Indices in reading order: rows of height ``band`` from north to south, west to east in each."""
    order = np.argsort(-y, kind="stable")
    rows, row, top = [], [], None
    for i in order:
        if top is not None and top - y[i] > band:
            rows.append(row)
            row = []
        if not row:
            top = y[i]
        row.append(i)
    rows.append(row)
    return np.array([i for r in rows for i in sorted(r, key=lambda k: x[k])], dtype=int)


class _Namer:
    """Plausible, unique, fictional Chinese names and phone numbers."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: set[str] = set()

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def person(self) -> str:
        given = "".join(self.pick(_GIVEN) for _ in range(int(self.rng.integers(1, 3))))
        return self.pick(_SURNAMES) + given

    def mobile(self) -> str:
        return (
            f"1{self.pick('3578')}{self.rng.integers(0, 10)}{self.rng.integers(0, 100_000_000):08d}"
        )

    def landline(self) -> str:
        return f"025-8{self.rng.integers(0, 10_000_000):07d}"

    def word(self, n=2) -> str:
        return "".join(self.pick(_FINE_WORDS) for _ in range(n))

    def unique(self, make) -> str:
        for _ in range(50):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("name space exhausted")  # pragma: no cover - vocabularies are large

    def unit_name(self, category: str, road: str) -> str:
        p = self.pick
        makers = {
            "住宅小区": lambda: self.word() + p(_COMPOUND_SUFFIX),
            "商业街区": lambda: self.word() + p(_BLOCK_SUFFIX),
            "中小学幼儿园": lambda: f"南京市{self.word()}{p(_SCHOOLS)}",
            "医疗机构": lambda: self.word() + p(_CLINICS),
            "机关事业单位": lambda: f"仙林{self.word()}{p(_AGENCIES)}",
            "企业": lambda: f"南京{self.word()}{p(_TRADES)}有限公司",
            "商铺": lambda: f"{self.word()}{p(_SHOPS)}（{road}店）",
            "宾馆酒店": lambda: self.word() + p(_HOTELS),
            "社会组织": lambda: f"仙林{self.word()}{p(_SOCIAL)}",
        }
        return self.unique(makers[category])


def _round(geoms):
    return shapely.transform(geoms, lambda c: np.round(c, COORD_DECIMALS))


def generate(seed: int = DEFAULT_SEED) -> District:
    """Build the sample district deterministically from ``seed``.

    Attempts that miss a constraint (outline outside Xianlin's box, community sizes outside 13-18,
    an invalid coverage after rounding) are redrawn from the same random stream, so the result
    depends on ``seed`` alone.
    """
    rng = np.random.default_rng(seed)
    for _attempt in range(200):
        built = _attempt_build(_Sample(rng))
        if built is not None:
            return built
    raise RuntimeError(f"no valid sample district found for seed {seed}")  # pragma: no cover


def _attempt_build(s: _Sample) -> District | None:
    outline = s.outline()
    zones = s.zones(outline)
    seeds = s.seeds(outline, zones)
    cells = s.cells(outline, seeds)
    if any(c.geom_type != "Polygon" or len(c.interiors) for c in cells):
        return None
    owner = s.communities(cells)
    if owner is None:
        return None
    # Bend, scale to the exact area, convert to lon/lat and round; all per coordinate, so shared
    # vertices stay shared.
    bent = shapely.transform(np.array(cells, dtype=object), s.displacement())
    scale = math.sqrt(TARGET_AREA_M2 / float(shapely.area(shapely.coverage_union_all(bent))))
    metric = shapely.transform(
        bent,
        lambda c: np.column_stack(
            [s.cx + scale * (c[:, 0] - s.cx), s.cy + scale * (c[:, 1] - s.cy)]
        ),
    )
    grids = _round(geometry_from_metric(metric))
    if not (shapely.is_valid(grids).all() and shapely.coverage_is_valid(grids)):
        return None
    outline_ll = shapely.coverage_union_all(grids)
    if outline_ll.geom_type != "Polygon" or len(outline_ll.interiors):
        return None
    minx, miny, maxx, maxy = outline_ll.bounds
    if minx < EXTENT[0] or miny < EXTENT[1] or maxx > EXTENT[2] or maxy > EXTENT[3]:
        return None
    level1 = [shapely.coverage_union_all(grids[owner == c]) for c in range(N_COMMUNITIES)]
    if any(g.geom_type != "Polygon" or len(g.interiors) for g in level1):
        return None
    kinds, _ = s.zone_of(zones, seeds[:, 0], seeds[:, 1])
    return _assemble(
        s.rng, grids, metric, np.asarray(level1, dtype=object), owner, kinds, outline_ll
    )


def _assemble(rng, grids, metric, level1, owner, kinds, outline) -> District:
    namer = _Namer(rng)
    cent1 = shapely.get_coordinates(shapely.centroid(level1))
    band1 = math.sqrt(float(np.median(shapely.area(level1)))) * 0.8
    order1 = _reading_order(cent1[:, 0], cent1[:, 1], band1)
    cent2 = shapely.get_coordinates(shapely.centroid(grids))
    band2 = math.sqrt(float(np.median(shapely.area(grids)))) * 0.8

    g1_rows, g1_geoms, g2_rows, g2_geoms, g2_metric, g2_kind = [], [], [], [], [], []
    for seq1, c in enumerate(order1, start=1):
        code1 = f"{DISTRICT_CODE}{seq1:03d}"
        office, office_phone = _OFFICES[seq1 - 1]
        g1_rows.append(
            {
                "code": code1,
                "name": _COMMUNITY_NAMES[seq1 - 1],
                "parent": DISTRICT_CODE,
                "leader": namer.person(),
                "leader_title": _LEADER_TITLES[seq1 - 1],
                "leader_phone": namer.mobile(),
                "office": f"{DISTRICT_NAME}{office}",
                "office_phone": office_phone,
            }
        )
        g1_geoms.append(level1[c])
        members = np.flatnonzero(owner == c)
        for seq2, m in enumerate(
            members[_reading_order(cent2[members, 0], cent2[members, 1], band2)], 1
        ):
            g2_rows.append(
                {
                    "code": f"{code1}{seq2:03d}",
                    "name": f"{_COMMUNITY_NAMES[seq1 - 1]}第{seq2:02d}网格",
                    "parent": code1,
                    "kind": kinds[m],
                    "worker": namer.person(),
                    "worker_phone": namer.mobile(),
                }
            )
            g2_geoms.append(grids[m])
            g2_metric.append(metric[m])
            g2_kind.append(kinds[m])

    g2_kind = np.array(g2_kind, dtype=object)
    g2_area = shapely.area(np.array(g2_metric, dtype=object))
    # The twelve campuses take the largest campus grids (and the largest others if too few).
    campus = [i for i in np.argsort(-g2_area) if g2_kind[i] == "校园"][:12]
    campus += [i for i in np.argsort(-g2_area) if i not in campus and g2_kind[i] != "住宅"][
        : 12 - len(campus)
    ]
    for i in campus:
        g2_kind[i] = "校园"
    for row, k in zip(g2_rows, g2_kind, strict=True):
        row["kind"] = k

    units = _units(rng, namer, g2_rows, np.array(g2_metric, dtype=object), g2_kind, campus)
    grids1 = _frame(g1_rows, GRID1_COLUMNS, g1_geoms)
    grids2 = _frame(g2_rows, GRID2_COLUMNS, g2_geoms)
    unit_rows, unit_geoms = units
    return District(
        DISTRICT_CODE,
        DISTRICT_NAME,
        grids1,
        grids2,
        _frame(unit_rows, UNIT_COLUMNS, unit_geoms),
        outline,
        {
            "area_m2": round(float(area_m2(outline)), 1),
            "residents": TOTAL_RESIDENTS,
            "sample": True,
            "note": "示例数据：边界、名称、人员与电话均为生成的虚构数据，仅位置、面积与数量参照仙林街道。",
            "generator": f"geogrid sample --seed {DEFAULT_SEED}",
        },
    )


def _units(rng, namer, g2_rows, g2_metric, g2_kind, campus):
    """1786 units: (category, grid index) plan, then a point well inside the grid for each."""
    n = len(g2_rows)
    plan: list[tuple[str, int]] = [("高校", int(i)) for i in campus]
    residential = [i for i in range(n) if g2_kind[i] == "住宅"]
    plan += [("住宅小区", int(residential[i % len(residential)])) for i in rng.permutation(40)]
    commercial = [i for i in range(n) if g2_kind[i] == "商业"] or residential
    plan += [("商业街区", int(commercial[i % len(commercial)])) for i in range(9)]
    area = shapely.area(g2_metric)
    for cat, prefs in _CATEGORY_KINDS.items():
        w = np.array([prefs.get(k, 0.3) for k in g2_kind], dtype=float) * np.sqrt(area)
        plan += [(cat, int(i)) for i in rng.choice(n, UNIT_COUNTS[cat], p=w / w.sum())]

    # Residents: 26万 in all, split between compounds and campus dormitories.
    compound_res = rng.uniform(1500, 5500, 40)
    campus_res = rng.uniform(5000, 16000, 12)
    both = np.concatenate([compound_res, campus_res])
    both = np.floor(both / both.sum() * TOTAL_RESIDENTS).astype(int)
    both[0] += TOTAL_RESIDENTS - both.sum()
    compound_res, campus_res = list(both[:40]), list(both[40:])

    roads = {i: _ROADS[int(rng.integers(len(_ROADS)))] for i in range(n)}
    uni_names = [
        f"{p}{f}大学"
        for p, f in zip(rng.permutation(_UNI_PREFIX), rng.permutation(_UNI_FIELD), strict=True)
    ]
    inner = shapely.buffer(g2_metric, -8.0)
    per_grid: dict[int, list] = {}
    for cat, gi in plan:
        x, y = _point_in(rng, inner[gi])
        road = roads[gi]
        rec = {
            "name": "",
            "category": cat,
            "address": f"南京市栖霞区{road}{int(rng.integers(1, 400))}号",
            "head": namer.person(),
            "head_phone": namer.mobile() if rng.uniform() < 0.7 else namer.landline(),
            "grid": g2_rows[gi]["code"],
            "households": None,
            "residents": None,
        }
        if cat == "高校":
            rec["name"] = uni_names.pop() + "仙林校区"
            rec["residents"] = int(campus_res.pop())
        elif cat == "住宅小区":
            rec["name"] = namer.unit_name(cat, road)
            residents = int(compound_res.pop())
            rec["residents"] = residents
            rec["households"] = int(round(residents / rng.uniform(2.5, 3.1)))
        else:
            rec["name"] = namer.unit_name(cat, road)
        per_grid.setdefault(gi, []).append((x, y, rec))

    rows, geoms = [], []
    for gi in sorted(per_grid):
        items = per_grid[gi]
        xs = np.array([it[0] for it in items])
        ys = np.array([it[1] for it in items])
        lon, lat = from_metric(xs, ys)
        for seq, k in enumerate(_reading_order(xs, ys, 60.0), start=1):
            rec = {"code": f"{g2_rows[gi]['code']}{seq:04d}", **items[k][2]}
            rows.append(rec)
            geoms.append(
                shapely.Point(
                    round(float(lon[k]), COORD_DECIMALS), round(float(lat[k]), COORD_DECIMALS)
                )
            )
    order = sorted(range(len(rows)), key=lambda i: rows[i]["code"])
    return [rows[i] for i in order], [geoms[i] for i in order]


def _point_in(rng, poly) -> tuple[float, float]:
    minx, miny, maxx, maxy = poly.bounds
    while True:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(poly, x, y):
            return float(x), float(y)
