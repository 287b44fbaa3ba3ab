"""Charging sessions: who charged, how much, when, and what it cost.

The pure cores live here and import nothing from Home Assistant; time always comes
in as an argument (aware UTC datetimes):

- ``engine``: the per-charger session state machine fed with ``ChargerState`` samples.
- ``snapshot``: the engine's serialisable state, persisted to survive restarts.
- ``energy``: turns session / lifetime counter readings into energy deltas.
- ``windows``: the stretches of a session during which energy flowed.
- ``directory``: users, vehicles and RFID cards; resolves a presented tag.
- ``pricing``: static, time-of-use and spot tariffs; cost integration per interval.
- ``spot_prices``: reads the price lists spot-price integrations put in attributes.
- ``records``: the completed-session record and pure edits of it.
- ``events``: what the engine reports (started, updated, completed, cancelled).
"""
