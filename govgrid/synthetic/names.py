"""Chinese names for synthetic places and people (deterministic from the caller's Random)."""

import random

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥建国文辉力鹏丹萍宇浩凯晨欣怡子轩梓涵一诺雨桐佳琪思远俊杰志强海燕春梅金凤晓东红霞立新"
)
PLACE_SYLLABLES = list(
    "江汉花楼民华新兴和平安康宁泰福祥瑞春长青湖桥园苑里坊台山水西东南北前后中上下大小金银玉宝丰盛昌隆德仁义礼智信忠孝荣光明辉阳月星云松柏竹梅兰菊桃李杨柳荷莲"
)

# Real names of Jianghan district's streets (江汉区), used for the demo district.
JIANGHAN_STREETS = [
    "民族街道",
    "花楼街道",
    "满春街道",
    "民权街道",
    "前进街道",
    "民意街道",
    "新华街道",
    "万松街道",
    "唐家墩街道",
    "北湖街道",
    "常青街道",
    "汉兴街道",
]

# Wuhan's 13 administrative districts with their GB/T 2260 codes and rough centres, and
# the three functional zones, whose codes here are synthetic (they have no GB/T 2260 code).
WUHAN_DISTRICTS = [
    ("420102", "江岸区", 114.31, 30.66),
    ("420103", "江汉区", 114.26, 30.60),
    ("420104", "硚口区", 114.21, 30.59),
    ("420105", "汉阳区", 114.20, 30.54),
    ("420106", "武昌区", 114.32, 30.55),
    ("420107", "青山区", 114.39, 30.63),
    ("420111", "洪山区", 114.36, 30.47),
    ("420112", "东西湖区", 114.11, 30.68),
    ("420113", "汉南区", 113.92, 30.30),
    ("420114", "蔡甸区", 113.98, 30.55),
    ("420115", "江夏区", 114.31, 30.30),
    ("420116", "黄陂区", 114.37, 30.90),
    ("420117", "新洲区", 114.78, 30.80),
    ("420171", "东湖新技术开发区", 114.48, 30.46),
    ("420172", "武汉经济技术开发区", 114.12, 30.44),
    ("420173", "东湖生态旅游风景区", 114.43, 30.56),
]

DISTRICT_DEPARTMENTS = [
    ("ga", "公安分局"),
    ("cg", "城管执法局"),
    ("zj", "住房和城市更新局"),
    ("mz", "民政局"),
    ("sf", "司法局"),
    ("wj", "卫生健康局"),
    ("sj", "市场监管局"),
    ("hb", "生态环境分局"),
]
STREET_DEPARTMENTS = [("pcs", "派出所"), ("cgzd", "城管执法中队"), ("sfs", "司法所")]


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def place_name(rng: random.Random, taken: set[str], suffix: str) -> str:
    for _ in range(200):
        name = rng.choice(PLACE_SYLLABLES) + rng.choice(PLACE_SYLLABLES) + suffix
        if name not in taken and name[0] != name[1]:
            taken.add(name)
            return name
    name = f"{rng.choice(PLACE_SYLLABLES)}{len(taken)}{suffix}"
    taken.add(name)
    return name


def phone_number(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "158", "186", "187", "133", "177"]) + "".join(
        rng.choice("0123456789") for _ in range(8)
    )
