"""Tests of the Enovates ENO one backend through the Modbus simulator."""
