"""人民币大写 and thousands formatting, with the vectors of domain.md and the issue."""
from decimal import Decimal

import pytest

from app.services.money import format_money, to_chinese_upper


@pytest.mark.parametrize("amount, words", [
    ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
    ("10", "壹拾元整"),
    ("1409.50", "壹仟肆佰零玖元伍角"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    ("1010", "壹仟零壹拾元整"),
    ("10010", "壹万零壹拾元整"),
    ("105000", "壹拾万伍仟元整"),
    ("1000000", "壹佰万元整"),
    ("100000000", "壹亿元整"),
    ("100010000.10", "壹亿零壹万元壹角"),
    ("0.05", "伍分"),
    ("0", "零元整"),
])
def test_amount_in_words(amount, words):
    assert to_chinese_upper(Decimal(amount)) == words
    assert to_chinese_upper(amount) == words


def test_a_run_of_zeros_is_one_zero_and_fen_never_gets_zheng():
    assert to_chinese_upper("1000001.01") == "壹佰万零壹元零壹分"
    assert not to_chinese_upper("3.01").endswith("整")


def test_floats_are_refused_because_they_cannot_hold_cents():
    with pytest.raises(TypeError):
        to_chinese_upper(0.1)


def test_format_money():
    assert format_money(Decimal("12345.67")) == "12,345.67"
    assert format_money("1234567") == "1,234,567.00"
    assert format_money(Decimal("0.5")) == "0.50"
