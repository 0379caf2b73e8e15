"""Imports every inbound handler module so each registers itself with `domain.context.on`."""

from __future__ import annotations

from joule.domain.authorization import handlers as authorization_handlers
from joule.domain.datatransfer import handlers as datatransfer_handlers
from joule.domain.device import charging as device_charging
from joule.domain.device import handlers as device_handlers
from joule.domain.device import reports_21 as device_reports_21
from joule.domain.firmware import handlers as firmware_handlers
from joule.domain.metering import handlers as metering_handlers
from joule.domain.security import handlers as security_handlers
from joule.domain.station import handlers as station_handlers
from joule.domain.transaction import handlers as transaction_handlers

MODULES = (
    authorization_handlers,
    datatransfer_handlers,
    device_charging,
    device_handlers,
    device_reports_21,
    firmware_handlers,
    metering_handlers,
    security_handlers,
    station_handlers,
    transaction_handlers,
)
LOADED = True
