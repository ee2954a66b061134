"""China's province-level divisions by their ISO 3166-2:CN codes (the 2017 letter codes), with
their short Chinese and English names: what offers deliver to and buyers state as their
delivery province. One table; the codes, the names a supplier writes in a sheet and the labels
the pages show are all read from it.
"""

from __future__ import annotations

WHOLE_MAINLAND = "CN"  # an offer delivering to CN delivers to every province

NAMES: dict[str, tuple[str, str]] = {
    "CN-AH": ("安徽", "Anhui"),
    "CN-BJ": ("北京", "Beijing"),
    "CN-CQ": ("重庆", "Chongqing"),
    "CN-FJ": ("福建", "Fujian"),
    "CN-GD": ("广东", "Guangdong"),
    "CN-GS": ("甘肃", "Gansu"),
    "CN-GX": ("广西", "Guangxi"),
    "CN-GZ": ("贵州", "Guizhou"),
    "CN-HA": ("河南", "Henan"),
    "CN-HB": ("湖北", "Hubei"),
    "CN-HE": ("河北", "Hebei"),
    "CN-HI": ("海南", "Hainan"),
    "CN-HK": ("香港", "Hong Kong"),
    "CN-HL": ("黑龙江", "Heilongjiang"),
    "CN-HN": ("湖南", "Hunan"),
    "CN-JL": ("吉林", "Jilin"),
    "CN-JS": ("江苏", "Jiangsu"),
    "CN-JX": ("江西", "Jiangxi"),
    "CN-LN": ("辽宁", "Liaoning"),
    "CN-MO": ("澳门", "Macao"),
    "CN-NM": ("内蒙古", "Inner Mongolia"),
    "CN-NX": ("宁夏", "Ningxia"),
    "CN-QH": ("青海", "Qinghai"),
    "CN-SC": ("四川", "Sichuan"),
    "CN-SD": ("山东", "Shandong"),
    "CN-SH": ("上海", "Shanghai"),
    "CN-SN": ("陕西", "Shaanxi"),
    "CN-SX": ("山西", "Shanxi"),
    "CN-TJ": ("天津", "Tianjin"),
    "CN-TW": ("台湾", "Taiwan"),
    "CN-XJ": ("新疆", "Xinjiang"),
    "CN-XZ": ("西藏", "Tibet"),
    "CN-YN": ("云南", "Yunnan"),
    "CN-ZJ": ("浙江", "Zhejiang"),
}

PROVINCES = frozenset(NAMES)
