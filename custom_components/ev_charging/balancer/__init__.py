"""Dynamic load balancing of the site's chargers.

``model`` holds the configuration, inputs, state and decision types; ``readings``
turns state strings into numbers; ``loads`` reads the meter; ``allocation`` shares
the headroom between chargers; ``solar`` handles the surplus modes and phase
switching; ``dynamics`` the ramps, pauses and resumes; ``watchdog`` the overload
cut; ``algorithm`` runs one control cycle (``step``). Everything here is pure: no
Home Assistant imports, time comes in as an argument.
"""
