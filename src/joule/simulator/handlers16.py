"""A 1.6 station's answers to the Central System (C16 §5; SW16 GetLog, ExtendedTriggerMessage)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from joule.kit.clock import utc_iso
from joule.ocpp.timestamps import parse_timestamp
from joule.simulator.auth import NOT_SUPPORTED, ListEntry
from joule.simulator.charging import ProfileRejected, from_v16
from joule.simulator.effects import Reservation
from joule.simulator.handlers import BaseHandlers, Payload
from joule.simulator.link import Reply
from joule.simulator.model import IdToken
from joule.simulator.schedule import Purpose

if TYPE_CHECKING:
    from joule.simulator.station import SimulatedStation

_PURPOSES = {
    "ChargePointMaxProfile": Purpose.STATION_MAX,
    "TxDefaultProfile": Purpose.TX_DEFAULT,
    "TxProfile": Purpose.TX,
}


class Handlers16(BaseHandlers):
    """Every CALL a 1.6 Central System may send, answered as a 1.6 charge point does."""

    def __init__(self, station: SimulatedStation) -> None:
        super().__init__(station)
        self.table = {
            "CancelReservation": self.cancel_reservation,
            "ChangeAvailability": self.change_availability,
            "ChangeConfiguration": self.change_configuration,
            "ClearCache": self.clear_cache,
            "ClearChargingProfile": self.clear_charging_profile,
            "DataTransfer": self.data_transfer,
            "GetCompositeSchedule": self.get_composite_schedule,
            "GetConfiguration": self.get_configuration,
            "GetDiagnostics": self.get_diagnostics,
            "GetLocalListVersion": self.get_local_list_version,
            "GetLog": self.get_log,
            "RemoteStartTransaction": self.remote_start,
            "RemoteStopTransaction": self.remote_stop,
            "ReserveNow": self.reserve_now,
            "Reset": self.reset,
            "SendLocalList": self.send_local_list,
            "SetChargingProfile": self.set_charging_profile,
            "TriggerMessage": self.trigger_message,
            "ExtendedTriggerMessage": self.trigger_message,
            "UnlockConnector": self.unlock_connector,
            "UpdateFirmware": self.update_firmware,
        }

    async def remote_start(self, p: Payload) -> Reply:
        """RemoteStartTransaction (C16 §5.11): the connector must be free for this idTag."""
        token = IdToken(p["idTag"])
        connector = p.get("connectorId")
        if connector is not None and connector not in self.cp.evses:
            return Reply({"status": "Rejected"})
        evse = self.cp.evses[connector] if connector else self.cmd.free_evse(token)
        if evse is None or not self.cmd.can_start(evse, token):
            return Reply({"status": "Rejected"})
        profile = None
        if "chargingProfile" in p:
            # C16 §5.11: only a TxProfile may come with a remote start.
            if p["chargingProfile"].get("chargingProfilePurpose") != "TxProfile":
                return Reply({"status": "Rejected"})
            try:
                profile = from_v16(
                    p["chargingProfile"], connector_id=evse.evse_id, at=self.cp.now()
                )
            except ProfileRejected:
                return Reply({"status": "Rejected"})
        self.cmd.remote_start(evse, token, remote_start_id=None, profile=profile)
        return Reply({"status": "Accepted"})

    async def remote_stop(self, p: Payload) -> Reply:
        """RemoteStopTransaction by the Central System's transactionId."""
        session = self.cmd.find_session(csms_id=p["transactionId"])
        if session is None:
            return Reply({"status": "Rejected"})
        self.cmd.stop_session(session, reason="Remote", trigger="RemoteStop")
        return Reply({"status": "Accepted"})

    async def reset(self, p: Payload) -> Reply:
        """Reset: Soft ends transactions gracefully, Hard at once; then the charge point reboots."""
        hard = p["type"] == "Hard"
        reason = "HardReset" if hard else "SoftReset"

        async def reboot() -> None:
            await self.st.reboot(boot_reason="RemoteReset", stop_reason=reason, graceful=not hard)

        return Reply({"status": "Accepted"}, self.later(reboot))

    async def unlock_connector(self, p: Payload) -> Reply:
        """UnlockConnector: a running transaction stops (UnlockCommand), the cable is released."""
        evse = self.cp.evses.get(p["connectorId"])
        if evse is None:
            return Reply({"status": "NotSupported"})
        session = evse.active
        if session is not None:
            self.cmd.stop_session(session, reason="UnlockCommand", trigger="UnlockCommand")
        return Reply({"status": "Unlocked"})

    async def change_availability(self, p: Payload) -> Reply:
        """ChangeAvailability of a connector or (0) the whole charge point."""
        connector = p["connectorId"]
        if connector != 0 and connector not in self.cp.evses:
            return Reply({"status": "Rejected"})
        status = self.cmd.change_availability(connector, operative=p["type"] == "Operative")
        return Reply({"status": status})

    async def get_configuration(self, p: Payload) -> Reply:
        """GetConfiguration: the keys asked for (all when none); WriteOnly keys are not shown."""
        store = self.cp.config
        keys = p.get("key") or [s.v16_key for s in store.v16_keys()]
        found, unknown = [], []
        for key in keys:
            setting = store.by_v16_key(key)
            if setting is None or setting.mutability == "WriteOnly":
                unknown.append(key)
                continue
            item: Payload = {"key": key, "readonly": setting.mutability == "ReadOnly"}
            item["value"] = setting.value[:500]
            found.append(item)
        answer: Payload = {"configurationKey": found}
        if unknown:
            answer["unknownKey"] = unknown
        return Reply(answer)

    async def change_configuration(self, p: Payload) -> Reply:
        """ChangeConfiguration: Accepted, Rejected (read-only, bad value) or NotSupported."""
        setting = self.cp.config.by_v16_key(p["key"])
        if setting is None:
            return Reply({"status": "NotSupported"})
        return Reply({"status": self.cp.config.write(setting, p["value"])})

    async def clear_cache(self, p: Payload) -> Reply:
        """ClearCache."""
        self.cp.auth.clear_cache()
        return Reply({"status": "Accepted"})

    async def send_local_list(self, p: Payload) -> Reply:
        """SendLocalList (C16 §5.15): Full or Differential, versioned, within the station's limits.

        NotSupported without the LocalAuthListManagement feature profile (C16 §9.1.33).
        """
        if not self._list_supported():
            return Reply({"status": NOT_SUPPORTED})
        changes: dict[str, ListEntry | str | None] = {}
        for entry in p.get("localAuthorizationList", []):
            info = entry.get("idTagInfo")
            changes[entry["idTag"]] = (
                ListEntry(
                    info["status"],
                    parse_timestamp(info["expiryDate"]).at if "expiryDate" in info else None,
                    info.get("parentIdTag"),
                )
                if info
                else None
            )
        status = self.cp.auth.update_list(p["listVersion"], p["updateType"], changes)
        return Reply({"status": status})

    async def get_local_list_version(self, p: Payload) -> Reply:
        """GetLocalListVersion (C16 §5.10): -1 when the list is not supported or disabled."""
        supported = self._list_supported() and self.cp.auth.list_enabled
        return Reply({"listVersion": self.cp.auth.list_version if supported else -1})

    def _list_supported(self) -> bool:
        return "LocalAuthListManagement" in self.cp.config.get_list("SupportedFeatureProfiles")

    async def reserve_now(self, p: Payload) -> Reply:
        """ReserveNow on a connector (connector 0 is not supported: Rejected)."""
        connector = p["connectorId"]
        if connector not in self.cp.evses:
            return Reply({"status": "Rejected"})
        reservation = Reservation(
            id=p["reservationId"],
            token=IdToken(p["idTag"]),
            expires_at=parse_timestamp(p["expiryDate"]).at,
            group=p.get("parentIdTag"),
        )
        return Reply({"status": self.cmd.reserve(connector, reservation)})

    async def cancel_reservation(self, p: Payload) -> Reply:
        """CancelReservation."""
        found = self.cmd.cancel_reservation(p["reservationId"])
        return Reply({"status": "Accepted" if found else "Rejected"})

    async def set_charging_profile(self, p: Payload) -> Reply:
        """SetChargingProfile: the connector's power follows the new composite schedule."""
        connector = p["connectorId"]
        raw = dict(p["csChargingProfiles"])
        tx_id = raw.get("transactionId")
        try:
            profile = from_v16(raw, connector_id=connector, at=self.cp.now())
        except ProfileRejected:
            return Reply({"status": "Rejected"})
        local_tx = None
        if tx_id is not None:
            session = self.cmd.find_session(csms_id=tx_id)
            if session is None:
                return Reply({"status": "Rejected"})
            local_tx = session.transaction_id  # profiles keep the station's own id
        ok = self.cmd.install_profile(profile, transaction_id=local_tx)
        return Reply({"status": "Accepted" if ok else "Rejected"})

    async def clear_charging_profile(self, p: Payload) -> Reply:
        """ClearChargingProfile by id or by connector/purpose/stack level."""
        purpose = p.get("chargingProfilePurpose")
        removed = self.cp.profiles.clear(
            profile_id=p.get("id"),
            evse_id=p.get("connectorId"),
            purpose=_PURPOSES[purpose] if purpose else None,
            stack_level=p.get("stackLevel"),
        )
        if removed:
            self.cp.tick(self.cp.now())
        return Reply({"status": "Accepted" if removed else "Unknown"})

    async def get_composite_schedule(self, p: Payload) -> Reply:
        """GetCompositeSchedule of a connector or (0) the charge point."""
        connector = p["connectorId"]
        if connector != 0 and connector not in self.cp.evses:
            return Reply({"status": "Rejected"})
        unit = p.get("chargingRateUnit", "A")
        schedule = self.cmd.composite(connector, duration_s=p["duration"], unit=unit)
        start = utc_iso(schedule.start)
        periods = [
            {"startPeriod": period.start_s, "limit": period.limit, "numberPhases": period.phases}
            for period in schedule.periods
        ]
        return Reply(
            {
                "status": "Accepted",
                "connectorId": connector,
                "scheduleStart": start,
                "chargingSchedule": {
                    "duration": schedule.duration_s,
                    "startSchedule": start,
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": periods,
                },
            }
        )

    async def trigger_message(self, p: Payload) -> Reply:
        """TriggerMessage / ExtendedTriggerMessage: answer first, then send the message."""
        message = p["requestedMessage"]
        connector = p.get("connectorId")
        if connector is not None and connector != 0 and connector not in self.cp.evses:
            return Reply({"status": "Rejected"})
        st = self.st
        sends = {
            "BootNotification": self.send_boot,
            "Heartbeat": st.send_heartbeat,
            "StatusNotification": lambda: self.send_statuses(connector, station=not connector),
            "MeterValues": lambda: self.send_meter_values(connector),
            "FirmwareStatusNotification": self._firmware_idle,
            "DiagnosticsStatusNotification": lambda: self._log_idle(diagnostics=True),
            "LogStatusNotification": lambda: self._log_idle(diagnostics=False),
        }
        send = sends.get(message)
        if send is None:
            return Reply({"status": "NotImplemented"})
        return Reply({"status": "Accepted"}, self.later(send))

    async def _firmware_idle(self) -> None:
        status = "Downloading" if self.st.maintenance.updating else "Idle"
        self.cp.outbox.post(self.cp.dialect.firmware_status(status, None))

    async def _log_idle(self, *, diagnostics: bool) -> None:
        self.cp.outbox.post(self.cp.dialect.log_status("Idle", None, diagnostics=diagnostics))

    async def update_firmware(self, p: Payload) -> Reply:
        """UpdateFirmware: an empty answer, then FirmwareStatusNotifications (C16 §4.4)."""
        self.st.maintenance.update_firmware(
            p["location"],
            retrieve_at=parse_timestamp(p["retrieveDate"]).at,
            request_id=None,
            retries=p.get("retries", 0),
            retry_interval_s=float(p.get("retryInterval", 30)),
        )
        return Reply({})

    async def get_diagnostics(self, p: Payload) -> Reply:
        """GetDiagnostics: the file name, then DiagnosticsStatusNotifications (C16 §4.3)."""
        name = self.st.maintenance.upload_log(
            p["location"],
            kind="diagnostics",
            request_id=None,
            diagnostics=True,
            retries=p.get("retries", 0),
            retry_interval_s=float(p.get("retryInterval", 30)),
        )
        return Reply({"fileName": name})

    async def get_log(self, p: Payload) -> Reply:
        """SW16 GetLog: Accepted with the file name, then LogStatusNotifications."""
        name = self.st.maintenance.upload_log(
            p["log"]["remoteLocation"],
            kind=p["logType"],
            request_id=p["requestId"],
            diagnostics=False,
            retries=p.get("retries", 0),
            retry_interval_s=float(p.get("retryInterval", 30)),
        )
        return Reply({"status": "Accepted", "filename": name})
