"""What the sample district must match: its code and name, centre, area, counts of grids,
communities, residents and units by category."""

from __future__ import annotations

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
