"""Enovates ENO one over Modbus TCP."""
