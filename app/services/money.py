"""Money for people: 人民币大写 (amounts in words on forms and certificates) and thousands separators.

Amounts are Decimal all the way; a float never enters (it cannot hold 0.1 exactly).
"""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")


def _as_decimal(amount) -> Decimal:
    if isinstance(amount, float):
        raise TypeError("money must be Decimal or str, not float")
    try:
        value = Decimal(str(amount).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not an amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not an amount: {amount!r}")
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _group(n: int) -> str:
    """A 4-digit group (0 < n < 10000) in words, with 零 for inner zeros."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        d = n // 10 ** pos % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += DIGITS[d] + SMALL_UNITS[pos]
    return out


def _below_yi(n: int) -> str:
    """0 <= n < 1 亿 in words: 万 over a 4-digit group, a 零 where the lower group lacks its thousands."""
    high, low = divmod(n, 10000)
    out = _group(high) + "万" if high else ""
    if low:
        out += ("零" if out and low < 1000 else "") + _group(low)
    return out


def _integer(n: int) -> str:
    """Whole yuan in words, by 亿 then 万: 1,000,100,000,000 is 壹万零壹亿 (10001 亿), never 壹万亿零壹亿."""
    if n >= 10 ** 16:
        raise ValueError("amount too large")
    high, low = divmod(n, 10 ** 8)
    out = _below_yi(high) + "亿" if high else ""
    if low:
        out += ("零" if out and low < 10 ** 7 else "") + _below_yi(low)
    return out


def to_chinese_upper(amount) -> str:
    """12345.67 -> 壹万贰仟叁佰肆拾伍元陆角柒分; 10 -> 壹拾元整; 0 -> 零元整."""
    value = _as_decimal(amount)
    sign = "负" if value < 0 else ""
    value = abs(value)
    yuan = int(value)
    cents = int((value - yuan) * 100)
    jiao, fen = divmod(cents, 10)
    words = _integer(yuan)
    if not words and not cents:
        return "零元整"
    out = sign + (words + "元" if words else "")
    if jiao:
        out += DIGITS[jiao] + "角"
    elif fen and words:
        out += "零"
    if fen:
        out += DIGITS[fen] + "分"
    elif not jiao:
        out += "整"
    return out


def format_money(amount) -> str:
    """Decimal('12345.67') -> '12,345.67' (always two decimals)."""
    return f"{_as_decimal(amount):,.2f}"
