"""What the demo's car and driver do at one connector, one step per tick.

Pure: it only drives a :class:`ChargePointModel` (no Home Assistant).  The next move
follows the connector's state, so commands sent from Home Assistant (a remote start
or stop, a current limit) change the story and the loop carries on from there:

    Available -> plugged in -> RFID card + StartTransaction -> Charging (energy rises,
    the current follows the offered current) -> SuspendedEV (car full) ->
    StopTransaction -> Finishing -> unplugged -> Available ...
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.simulators.fake_ocpp import ChargePointModel

DEMO_TAGS: tuple[str, ...] = ("04A1B2C3D4E5F6", "AABBCCDD")
CAR_MAX_AMPS = 16.0  # what the demo car draws per phase when the charger offers more
MIN_AMPS = 6.0  # below this a car stops drawing (IEC 61851)


@dataclass(slots=True)
class DemoScenario:
    """The story at one connector; ``step`` is called every ``tick`` seconds."""

    model: ChargePointModel
    connector: int = 1
    tick: float = 10.0
    idle_ticks: int = 3  # Available before the car arrives
    charge_ticks: int = 24  # in a transaction before the car is full
    full_ticks: int = 2  # SuspendedEV before the driver stops
    leave_ticks: int = 2  # Finishing (or plugged without a session) before unplugging
    tags: tuple[str, ...] = DEMO_TAGS
    sessions: int = 0
    _seen: tuple[str, int | None] | None = field(default=None, repr=False)
    _ticks: int = field(default=0, repr=False)

    def step(self) -> str:
        """Move the story on by one tick; returns what happened (for logs and tests)."""
        conn = self.model.connector(self.connector)
        now = (conn.status, conn.transaction_id)
        if now != self._seen:  # a new phase, ours or commanded from Home Assistant
            self._seen = now
            self._ticks = 0
        self._ticks += 1
        if conn.transaction_id is not None:
            return self._in_transaction(conn.status)
        if conn.status == "Available":
            if self._ticks > self.idle_ticks:
                self.model.plug_in(self.connector)
                return "plug_in"
            return "idle"
        if conn.status == "Preparing" and self._ticks == 2:
            tag = self.tags[self.sessions % len(self.tags)]
            self.sessions += 1
            self.model.authorize(self.connector, tag)
            self.model.start_transaction(self.connector, tag)
            return f"start {tag}"
        if self._ticks > self.leave_ticks + 1:
            self.model.unplug(self.connector)
            return "unplug"
        return "wait"

    def _in_transaction(self, status: str) -> str:
        if self._ticks_in_transaction() >= self.charge_ticks + self.full_ticks:
            self.model.stop_transaction(self.connector, "Local")
            return "stop"
        if status == "Charging" and self._ticks_in_transaction() >= self.charge_ticks:
            self.model.suspend_ev(self.connector)
            self._meter(0.0)
            return "car_full"
        offered = self.model.offered_current(self.connector)
        amps = min(CAR_MAX_AMPS, offered) if status == "Charging" else 0.0
        self._meter(amps if amps >= MIN_AMPS else 0.0)
        return f"meter {amps:g} A"

    def _ticks_in_transaction(self) -> int:
        started = self.model.connector(self.connector).tx_started
        if started is None:  # pragma: no cover - a transaction always has a start time
            return 0
        return int((self.model.clock() - started).total_seconds() // self.tick)

    def _meter(self, amps: float) -> None:
        conn = self.model.connector(self.connector)
        volts = conn.sample.voltages
        watts = sum(amps * v for v in volts)
        energy = conn.register_wh / 1000 + watts * self.tick / 3_600_000
        self.model.meter(self.connector, currents=(amps,) * 3, energy_kwh=energy)
