"""Money leaves the emulator as exact JSON numbers (pure)."""

import json
from decimal import Decimal

import pytest

from sandbox.quickbooks import jsonio


def test_it_writes_decimals_as_exact_json_numbers():
    text = jsonio.dumps({"TotalAmt": Decimal("12345678901234567.89"), "Qty": Decimal("0.0001")})
    assert text == '{"TotalAmt": 12345678901234567.89, "Qty": 0.0001}'
    assert jsonio.loads(text)["TotalAmt"] == Decimal("12345678901234567.89")


def test_it_leaves_client_text_that_looks_like_a_marker_alone():
    sneaky = "\x00qbo-decimal-0000000000000000:1"
    assert json.loads(jsonio.dumps({"Memo": sneaky}))["Memo"] == sneaky


def test_it_refuses_a_decimal_that_is_not_a_number():
    with pytest.raises(ValueError, match="not a JSON number"):
        jsonio.dumps({"Amount": Decimal("NaN")})
