"""Fictional Chinese names for the sample: communities, offices, people, roads, universities,
compounds, shops and the other units, and phone numbers; all unique."""

from __future__ import annotations

import numpy as np

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
