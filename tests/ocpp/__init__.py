"""Tests of the fake ``ocpp`` integration and of the OCPP proxy backend."""
