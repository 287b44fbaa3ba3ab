"""OCPP 1.6 charging profiles sent through ``ocpp.set_charge_rate`` ``custom_profile``.

A plain ``limit_amps`` makes the integration rewrite the station-wide
ChargePointMaxProfile on connector 0 first (non-volatile memory on many chargers,
and it ignores the connector).  So routine limits go as a profile of our own on the
connector: a TxProfile bound to the running transaction, or a TxDefaultProfile when
no transaction runs (it applies to the next one).  Reusing the same profile id
replaces the previous profile instead of stacking a new one.

Pure: no Home Assistant imports.
"""

from __future__ import annotations

from typing import Any, Final

# Our ids stay clear of the integration's own (1000, 2000+c, 3000+c) and of its
# documented custom examples (8, 9).
TX_PROFILE_ID_BASE: Final = 4100
DEFAULT_PROFILE_ID_BASE: Final = 4200
DEFAULT_STACK_LEVEL: Final = 1


def charging_profile(
    amps: float,
    connector: int,
    transaction_id: int | None,
    *,
    stack_level: int = DEFAULT_STACK_LEVEL,
) -> dict[str, Any]:
    """A one-period relative profile limiting the connector to ``amps``."""
    profile: dict[str, Any] = {
        "chargingProfileId": (
            TX_PROFILE_ID_BASE if transaction_id is not None else DEFAULT_PROFILE_ID_BASE
        )
        + connector,
        "stackLevel": stack_level,
        "chargingProfileKind": "Relative",
        "chargingProfilePurpose": "TxProfile" if transaction_id is not None else "TxDefaultProfile",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}],
        },
    }
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return profile
