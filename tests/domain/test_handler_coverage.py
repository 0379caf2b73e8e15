"""Every station-initiated action of 1.6 and 2.0.1 has a handler (a sensible answer to all)."""

from __future__ import annotations

import pytest

from joule.domain import handlers_index
from joule.domain.context import HANDLERS, STATELESS
from joule.ocpp.catalogue import station_actions
from joule.ocpp.versions import OcppVersion

# 2.1-only requests needing infrastructure Joule lacks yet: answered NotSupported (P4 §4.3).
V21_NOT_SUPPORTED = {
    "GetCertificateChainStatus",
    "PullDynamicScheduleUpdate",
    "VatNumberValidation",
}


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
def test_every_station_action_has_a_handler(version: OcppVersion) -> None:
    assert handlers_index.LOADED
    handled = {a for (family, a) in (*HANDLERS, *STATELESS) if family == version.family}
    assert station_actions(version) - handled == set()


def test_ocpp21_handles_all_but_the_documented_actions() -> None:
    handled = {a for (family, a) in (*HANDLERS, *STATELESS) if family == "2.x"}
    assert station_actions(OcppVersion.V21) - handled == V21_NOT_SUPPORTED
