"""The pure register decoding and the status table, without Home Assistant."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ev_charging.backends.enovates import registers as reg
from custom_components.ev_charging.backends.enovates.backend import (
    STATUS_TABLE,
    derive_status,
)
from custom_components.ev_charging.models import ChargerStatus


@given(st.integers(min_value=-0x8000, max_value=0x7FFF))
@settings(max_examples=200)
def test_int16_round_trip(value: int) -> None:
    """Every signed 16-bit value survives the trip through its register word."""
    assert 0 <= reg.to_word(value) <= 0xFFFF
    assert reg.int16(reg.to_word(value)) == value


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
@settings(max_examples=200)
def test_int32_big_endian_words(value: int) -> None:
    """Most significant word first, two's complement."""
    word = value & 0xFFFF_FFFF
    assert reg.int32(word >> 16, word & 0xFFFF) == value


def test_int16_edges() -> None:
    """-1 is 0xFFFF; -32768 is 0x8000 (the value some decoders get wrong)."""
    assert reg.int16(0xFFFF) == -1
    assert reg.int16(0x8000) == -32768
    assert reg.int16(0x7FFF) == 32767


def test_string_strips_nul_padding() -> None:
    """Two characters a register, high byte first; NUL ends the text."""
    assert reg.string([0x4332, 0x0000]) == "C2"
    assert reg.string([0x0000] * 16) == ""
    assert reg.string([0x4142, 0x4300, 0x4444]) == "ABC"


def test_unknown_enum_values_do_not_fail_the_block() -> None:
    """A LED colour or lock state a newer firmware adds decodes as unknown (None)."""
    block = reg.StateBlock.decode([3, 16, 1, 0, 7, 1, 42])
    assert block.lock_state is None
    assert block.led_color is None
    assert block.contactor_closed is True
    assert reg.Mode3Block.decode([99, 0, 0, 0, 1000, 0, 12, 12]).state is None


def test_short_block_is_rejected() -> None:
    """A reply of the wrong length never decodes into shifted values."""
    with pytest.raises(ValueError, match="expected 7"):
        reg.StateBlock.decode([1, 2, 3])


@pytest.mark.parametrize(
    ("version", "supported"),
    [((1, 2), True), ((1, 3), True), ((1, 1), False), ((2, 0), False), ((0, 9), False)],
)
def test_api_versions(version: tuple[int, int], supported: bool) -> None:
    """Only API 1.2 and later 1.x carry the map."""
    assert reg.api_supported(version) is supported


def test_limit_decoding() -> None:
    """-1 is no limit; other values are mA."""
    assert reg.decode_limit(0xFFFF) is None
    assert reg.decode_limit(16000) == 16.0
    assert reg.decode_limit(0) == 0.0


_IDLE_STATE = reg.StateBlock(3, 16, True, False, reg.LockState.UNLOCKED, False, None)
_NO_FLOW = reg.MeasurementsBlock((0, 0, 0), (230, 230, 230), 0, (0, 0, 0), (0, 0, 0), 1.0)


@pytest.mark.parametrize("mode3", list(reg.Mode3State))
def test_every_mode3_state_has_a_status(mode3: reg.Mode3State) -> None:
    """The table covers the whole enum; B1 while paused by us is suspended by the charger."""
    assert derive_status(mode3, _IDLE_STATE, _NO_FLOW, paused=False) is STATUS_TABLE[mode3]
    paused = derive_status(mode3, _IDLE_STATE, _NO_FLOW, paused=True)
    if mode3 is reg.Mode3State.B1:
        assert paused is ChargerStatus.SUSPENDED_EVSE
    else:
        assert paused is STATUS_TABLE[mode3]


def test_current_flow_wins_over_a_stale_mode3_state() -> None:
    """A closed contactor with current flowing is charging, whatever Mode 3 said 10 s ago."""
    flowing = reg.MeasurementsBlock((10, 10, 10), (230, 230, 230), 6900, (2300,) * 3, (0,) * 3, 1)
    closed = reg.StateBlock(3, 16, True, False, reg.LockState.LOCKED, True, None)
    assert derive_status(reg.Mode3State.A1, closed, flowing, False) is ChargerStatus.CHARGING
    assert derive_status(None, _IDLE_STATE, _NO_FLOW, False) is ChargerStatus.UNKNOWN
