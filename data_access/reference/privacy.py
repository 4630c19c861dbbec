"""What a reporter's identity looks like in an uploaded file, so that it is never shown, logged or kept.

A column is identity-like when its header names a person, a contact or free text (举报人, 联系电话,
身份证号, 住址, 反映内容 …) or when its values have the shape of a personal number (mobile, landline,
citizen ID, e-mail), a name (张某, 王女士), an address (… 路 12 号) or a free-text summary. Such a column
is masked: the importer never imports it, and a preview shows only that it was masked and how many
values it held. A single value of that shape anywhere else (a sample, a problem's value) is hidden.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

MASKED_LABEL = "已屏蔽（不导入）"
HIDDEN_VALUE = "（疑似个人信息，已隐藏）"

# Header words of a reporter's or another person's identity, contact, or words (free text)
IDENTITY_HEADER_WORDS = (
    "姓名", "名字", "举报人", "控告人", "检举人", "申诉人", "反映人", "信访人", "来信人", "来访人", "来电人", "投诉人",
    "当事人", "联系人", "电话", "手机", "联系方式", "号码", "身份证", "证件", "地址", "住址", "住所", "居住地", "户籍",
    "邮箱", "微信", "QQ", "摘要", "内容", "诉求", "事由", "问题描述", "反映问题", "简要情况", "具体情况", "详情", "原文",
)
IDENTITY_HEADER_TOKENS = frozenset({
    "name", "phone", "mobile", "tel", "telephone", "address", "email", "mail", "summary", "content", "reporter",
    "complainant", "idcard", "id_card", "id_number",
})

MOBILE = re.compile(r"(?<!\d)1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 18-digit citizen ID with a birth date (checked further by its check digit), and the old 15-digit one
_ID18 = re.compile(r"(?<![\dXx])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dXx])")
_ID15 = re.compile(r"(?<!\d)\d{6}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?!\d)")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
PERSON_NAME = re.compile(r"^[\u4e00-\u9fff]{1,2}(?:某{1,2}|先生|女士|同志|老师)$")
ADDRESS = re.compile(r"[\u4e00-\u9fff]{2,}(?:路|街|巷|道|村|组|小区|社区|大厦|花园)[\u4e00-\u9fff\d-]*?\d+\s*(?:号|栋|幢|楼|室|单元|弄)")
FREE_TEXT_LENGTH = 40  # a value this long is someone's words, not a code or a date
SHAPE_SAMPLE = 2000  # the first non-empty values of a column whose shape is looked at


def _citizen_id(text: str) -> bool:
    for match in _ID18.finditer(text):
        digits = match.group(0).upper()
        if _ID_CHECK[sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS, strict=True)) % 11] == digits[17]:
            return True
    return bool(_ID15.search(text))


def looks_personal(text: str) -> bool:
    """Whether one value holds something shaped like a phone or citizen ID number, an e-mail address,
    a person's name (张某), an address, or a free-text summary."""
    if not text:
        return False
    return bool(MOBILE.search(text) or LANDLINE.search(text) or EMAIL.search(text) or _citizen_id(text)
                or PERSON_NAME.match(text) or ADDRESS.search(text) or len(text) >= FREE_TEXT_LENGTH)


def shown_value(text: str | None) -> str | None:
    """A value as it may be shown or logged: itself, or a placeholder when it looks personal."""
    return HIDDEN_VALUE if text and looks_personal(text) else text


def identity_header(name: str) -> bool:
    """Whether a header names a person, a contact or free text (举报人, 联系电话, 身份证号, 反映内容, phone …)."""
    text = name.strip()
    if any(word in text for word in IDENTITY_HEADER_WORDS):
        return True
    tokens = set(re.split(r"[^0-9a-z]+", text.lower()))
    return bool(tokens & IDENTITY_HEADER_TOKENS) or "idcard" in text.lower().replace("_", "")


def identity_values(values: pd.Series) -> bool:
    """Whether a column's values look personal: any of its first SHAPE_SAMPLE non-empty values does."""
    present = values[values != ""].head(SHAPE_SAMPLE)
    return bool(np.fromiter((looks_personal(str(v)) for v in present), dtype=bool, count=len(present)).any())
