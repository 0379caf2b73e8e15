"""A 2.0.1 / 2.1 station's answers to the CSMS (P2 2.0.1; 2.1 shares these messages)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from joule.kit.clock import utc_iso
from joule.ocpp.timestamps import parse_timestamp
from joule.simulator import device_model
from joule.simulator.auth import FAILED, ListEntry
from joule.simulator.charging import V2X_PURPOSE_NAMES, ProfileRejected, from_v2x
from joule.simulator.dialect import Outgoing
from joule.simulator.displays import DisplayHandlers
from joule.simulator.effects import Reservation
from joule.simulator.handlers import BaseHandlers, Payload
from joule.simulator.link import Reply
from joule.simulator.model import IdToken

if TYPE_CHECKING:
    from joule.simulator.station import SimulatedStation

_PURPOSES = {name: purpose for purpose, name in V2X_PURPOSE_NAMES.items()}


class Handlers2x(BaseHandlers):
    """Every CSMS request of 2.0.1 the simulator implements."""

    def __init__(self, station: SimulatedStation) -> None:
        super().__init__(station)
        self.table = {
            "CancelReservation": self.cancel_reservation,
            "ChangeAvailability": self.change_availability,
            "ClearCache": self.clear_cache,
            "ClearChargingProfile": self.clear_charging_profile,
            "CostUpdated": self.cost_updated,
            "DataTransfer": self.data_transfer,
            "GetBaseReport": self.get_base_report,
            "GetChargingProfiles": self.get_charging_profiles,
            "GetCompositeSchedule": self.get_composite_schedule,
            "GetLocalListVersion": self.get_local_list_version,
            "GetLog": self.get_log,
            "GetReport": self.get_report,
            "GetTransactionStatus": self.get_transaction_status,
            "GetVariables": self.get_variables,
            "RequestStartTransaction": self.request_start,
            "RequestStopTransaction": self.request_stop,
            "ReserveNow": self.reserve_now,
            "Reset": self.reset,
            "SendLocalList": self.send_local_list,
            "SetChargingProfile": self.set_charging_profile,
            "SetVariables": self.set_variables,
            "TriggerMessage": self.trigger_message,
            "UnlockConnector": self.unlock_connector,
            "UpdateFirmware": self.update_firmware,
        }
        self.displays = DisplayHandlers(self)
        self.table.update(self.displays.table())

    async def request_start(self, p: Payload) -> Reply:
        """RequestStartTransaction (F01): started after the answer, echoing remoteStartId."""
        token = IdToken(p["idToken"]["idToken"], p["idToken"]["type"])
        evse_id = p.get("evseId")
        if evse_id is not None and evse_id not in self.cp.evses:
            return Reply({"status": "Rejected"})
        evse = self.cp.evses[evse_id] if evse_id else self.cmd.free_evse(token)
        if evse is None or not self.cmd.can_start(evse, token):
            return Reply({"status": "Rejected"})
        profile = None
        if "chargingProfile" in p:
            # F01: a profile sent with a remote start is a TxProfile for that transaction.
            if p["chargingProfile"].get("chargingProfilePurpose") != "TxProfile":
                return Reply({"status": "Rejected"})
            try:
                profile = from_v2x(p["chargingProfile"], evse_id=evse.evse_id, at=self.cp.now())
            except ProfileRejected:
                return Reply({"status": "Rejected"})
        self.cmd.remote_start(evse, token, remote_start_id=p["remoteStartId"], profile=profile)
        return Reply({"status": "Accepted"})

    async def request_stop(self, p: Payload) -> Reply:
        """RequestStopTransaction (F03) by the station's transactionId."""
        session = self.cmd.find_session(transaction_id=p["transactionId"])
        if session is None:
            return Reply({"status": "Rejected"})
        self.cmd.stop_session(session, reason="Remote", trigger="RemoteStop")
        return Reply({"status": "Accepted"})

    async def get_transaction_status(self, p: Payload) -> Reply:
        """GetTransactionStatus (E14): is it running, and are its messages still queued?"""
        tx_id = p.get("transactionId")
        if tx_id is None:
            return Reply({"messagesInQueue": len(self.cp.outbox) > 0})
        ongoing = self.cmd.find_session(transaction_id=tx_id) is not None
        queued = self.cp.outbox.pending_for(tx_id) > 0
        return Reply({"ongoingIndicator": ongoing, "messagesInQueue": queued})

    async def reset(self, p: Payload) -> Reply:
        """Reset (B11/B12): Immediate ends transactions and reboots; OnIdle waits for them."""
        evse_id = p.get("evseId")
        immediate = p["type"] != "OnIdle"  # 2.1 ImmediateAndResume resets immediately too
        if evse_id is not None:
            evse = self.cp.evses.get(evse_id)
            if evse is None:
                return Reply({"status": "Rejected"})
            session = evse.active
            if session is None:
                return Reply({"status": "Accepted"})
            if immediate:
                self.cmd.stop_session(session, reason="ImmediateReset", trigger="ResetCommand")
                return Reply({"status": "Accepted"})
            return Reply({"status": "Scheduled"})  # the EVSE resets once its session ends

        async def reboot() -> None:
            await self.st.reboot(stop_reason="ImmediateReset", graceful=False)

        busy = any(e.active is not None for e in self.cp.evses.values())
        if immediate or not busy:
            return Reply({"status": "Accepted"}, self.later(reboot))
        return Reply({"status": "Scheduled"}, self.later(lambda: self.wait_idle_then(reboot)))

    async def unlock_connector(self, p: Payload) -> Reply:
        """UnlockConnector (F05): refused while an authorized transaction runs."""
        evse = self.cp.evses.get(p["evseId"])
        if evse is None or p["connectorId"] != 1:
            return Reply({"status": "UnknownConnector"})
        if evse.active is not None:
            return Reply({"status": "OngoingAuthorizedTransaction"})
        return Reply({"status": "Unlocked"})

    async def change_availability(self, p: Payload) -> Reply:
        """ChangeAvailability of an EVSE or the whole station (G03/G04)."""
        evse_id = p.get("evse", {}).get("id", 0)
        if evse_id != 0 and evse_id not in self.cp.evses:
            return Reply({"status": "Rejected"})
        operative = p["operationalStatus"] == "Operative"
        return Reply({"status": self.cmd.change_availability(evse_id, operative=operative)})

    async def get_variables(self, p: Payload) -> Reply:
        """GetVariables (B06)."""
        return Reply(
            {"getVariableResult": device_model.get_variables(self.cp.config, p["getVariableData"])}
        )

    async def set_variables(self, p: Payload) -> Reply:
        """SetVariables (B05); a new BasicAuthPassword is used from the next connection."""
        results = device_model.set_variables(self.cp.config, p["setVariableData"])
        return Reply({"setVariableResult": results})

    async def get_base_report(self, p: Payload) -> Reply:
        """GetBaseReport (B07): Accepted, then NotifyReport parts."""
        data = device_model.base_report(self.cp.config, p["reportBase"])
        return self._report(p["requestId"], data)

    async def get_report(self, p: Payload) -> Reply:
        """GetReport (B08) for components/variables; EmptyResultSet when nothing matches."""
        wanted = p.get("componentVariable")
        if wanted:
            data = device_model.criteria_report(self.cp.config, wanted)
        else:
            data = device_model.base_report(self.cp.config, "FullInventory")
        return self._report(p["requestId"], data)

    def _report(self, request_id: int, data: list[Payload]) -> Reply:
        if not data:
            return Reply({"status": "EmptyResultSet"})

        async def send() -> None:
            parts = list(device_model.chunks(data))
            generated = self.st.stamp(self.cp.now())
            for seq_no, part in enumerate(parts):
                payload = {
                    "requestId": request_id,
                    "generatedAt": generated,
                    "seqNo": seq_no,
                    "tbc": seq_no < len(parts) - 1,
                    "reportData": part,
                }
                self.cp.outbox.post(Outgoing("NotifyReport", payload))

        return Reply({"status": "Accepted"}, self.later(send))

    async def clear_cache(self, p: Payload) -> Reply:
        """ClearCache (C11)."""
        self.cp.auth.clear_cache()
        return Reply({"status": "Accepted"})

    async def send_local_list(self, p: Payload) -> Reply:
        """SendLocalList (D01): Full or Differential, versioned, within ItemsPerMessage,
        BytesPerMessage and the list's capacity (else Failed, the list unchanged)."""
        size = len(json.dumps(p, separators=(",", ":")).encode())
        if size > self.cp.config.get_int("LocalAuthListCtrlr.BytesPerMessage"):
            return Reply({"status": FAILED})
        changes: dict[str, ListEntry | str | None] = {}
        for entry in p.get("localAuthorizationList", []):
            info = entry.get("idTokenInfo")
            if not info:
                changes[entry["idToken"]["idToken"]] = None
                continue
            expiry = info.get("cacheExpiryDateTime")
            group = info.get("groupIdToken")
            changes[entry["idToken"]["idToken"]] = ListEntry(
                info["status"],
                parse_timestamp(expiry).at if expiry else None,
                group["idToken"] if group else None,
            )
        status = self.cp.auth.update_list(p["versionNumber"], p["updateType"], changes)
        self.cp.config.put("LocalAuthListCtrlr.Entries", len(self.cp.auth.entries))
        return Reply({"status": status})

    async def get_local_list_version(self, p: Payload) -> Reply:
        """GetLocalListVersion (D02)."""
        return Reply({"versionNumber": self.cp.auth.list_version})

    async def reserve_now(self, p: Payload) -> Reply:
        """ReserveNow (H01) on an EVSE, or any free one."""
        evse_id = p.get("evseId")
        if evse_id is not None and evse_id not in self.cp.evses:
            return Reply({"status": "Rejected"})
        group = p.get("groupIdToken", {}).get("idToken")
        reservation = Reservation(
            id=p["id"],
            token=IdToken(p["idToken"]["idToken"], p["idToken"]["type"]),
            expires_at=parse_timestamp(p["expiryDateTime"]).at,
            group=group,
        )
        return Reply({"status": self.cmd.reserve(evse_id, reservation)})

    async def cancel_reservation(self, p: Payload) -> Reply:
        """CancelReservation (H02)."""
        found = self.cmd.cancel_reservation(p["reservationId"])
        return Reply({"status": "Accepted" if found else "Rejected"})

    async def set_charging_profile(self, p: Payload) -> Reply:
        """SetChargingProfile (K01): the EVSE's power follows the new composite schedule."""
        try:
            profile = from_v2x(p["chargingProfile"], evse_id=p["evseId"], at=self.cp.now())
        except ProfileRejected:
            return Reply({"status": "Rejected"})
        ok = self.cmd.install_profile(profile)
        return Reply({"status": "Accepted" if ok else "Rejected"})

    async def clear_charging_profile(self, p: Payload) -> Reply:
        """ClearChargingProfile (K10) by id or criteria."""
        criteria = p.get("chargingProfileCriteria", {})
        purpose = criteria.get("chargingProfilePurpose")
        removed = self.cp.profiles.clear(
            profile_id=p.get("chargingProfileId"),
            evse_id=criteria.get("evseId"),
            purpose=_PURPOSES.get(purpose) if purpose else None,
            stack_level=criteria.get("stackLevel"),
        )
        if removed:
            self.cp.tick(self.cp.now())
        return Reply({"status": "Accepted" if removed else "Unknown"})

    async def get_charging_profiles(self, p: Payload) -> Reply:
        """GetChargingProfiles (K09): Accepted, then ReportChargingProfiles per EVSE."""
        criteria = p["chargingProfile"]
        wanted_ids = criteria.get("chargingProfileId")
        purpose = criteria.get("chargingProfilePurpose")
        found = self.cp.profiles.matching(
            evse_id=p.get("evseId"),
            purpose=_PURPOSES.get(purpose) if purpose else None,
            stack_level=criteria.get("stackLevel"),
        )
        found = [f for f in found if f.raw and (not wanted_ids or f.id in wanted_ids)]
        if not found:
            return Reply({"status": "NoProfiles"})
        by_evse = sorted({f.evse_id for f in found})

        async def send() -> None:
            for i, evse_id in enumerate(by_evse):
                payload = {
                    "requestId": p["requestId"],
                    "chargingLimitSource": "CSO",
                    "evseId": evse_id,
                    "chargingProfile": [f.raw for f in found if f.evse_id == evse_id],
                    "tbc": i < len(by_evse) - 1,
                }
                self.cp.outbox.post(Outgoing("ReportChargingProfiles", payload))

        return Reply({"status": "Accepted"}, self.later(send))

    async def get_composite_schedule(self, p: Payload) -> Reply:
        """GetCompositeSchedule (K08) of an EVSE or (0) the station."""
        evse_id = p["evseId"]
        if evse_id != 0 and evse_id not in self.cp.evses:
            return Reply({"status": "Rejected"})
        unit = p.get("chargingRateUnit", "W")
        schedule = self.cmd.composite(evse_id, duration_s=p["duration"], unit=unit)
        periods = [
            {"startPeriod": period.start_s, "limit": period.limit, "numberPhases": period.phases}
            for period in schedule.periods
        ]
        return Reply(
            {
                "status": "Accepted",
                "schedule": {
                    "evseId": evse_id,
                    "duration": schedule.duration_s,
                    "scheduleStart": utc_iso(schedule.start),
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": periods,
                },
            }
        )

    async def cost_updated(self, p: Payload) -> Reply:
        """CostUpdated (I02): a display would show it; acknowledged."""
        return Reply({})

    async def trigger_message(self, p: Payload) -> Reply:
        """TriggerMessage (F06): answer, then send what was asked."""
        message = p["requestedMessage"]
        evse_id = p.get("evse", {}).get("id")
        if evse_id is not None and evse_id != 0 and evse_id not in self.cp.evses:
            return Reply({"status": "Rejected"})
        if message == "BootNotification" and self.st.boot_status == "Accepted":
            return Reply({"status": "Rejected"})  # F06.FR.17: already accepted
        sends = {
            "BootNotification": self.send_boot,
            "Heartbeat": self.st.send_heartbeat,
            "StatusNotification": lambda: self.send_statuses(evse_id),
            "MeterValues": lambda: self.send_meter_values(evse_id),
            "TransactionEvent": lambda: self.send_transaction_events(evse_id),
            "FirmwareStatusNotification": self._firmware_idle,
            "LogStatusNotification": self._log_idle,
        }
        send = sends.get(message)
        if send is None:
            return Reply({"status": "NotImplemented"})
        return Reply({"status": "Accepted"}, self.later(send))

    async def _firmware_idle(self) -> None:
        if not self.st.maintenance.updating:
            self.cp.outbox.post(self.cp.dialect.firmware_status("Idle", None))

    async def _log_idle(self) -> None:
        self.cp.outbox.post(self.cp.dialect.log_status("Idle", None, diagnostics=False))

    async def update_firmware(self, p: Payload) -> Reply:
        """UpdateFirmware (L01): Accepted, then FirmwareStatusNotifications with requestId."""
        firmware = p["firmware"]
        started = self.st.maintenance.update_firmware(
            firmware["location"],
            retrieve_at=parse_timestamp(firmware["retrieveDateTime"]).at,
            request_id=p["requestId"],
            retries=p.get("retries", 0),
            retry_interval_s=float(p.get("retryInterval", 30)),
        )
        return Reply({"status": "Accepted" if started else "Rejected"})

    async def get_log(self, p: Payload) -> Reply:
        """GetLog (N01): Accepted with the file name, then LogStatusNotifications."""
        name = self.st.maintenance.upload_log(
            p["log"]["remoteLocation"],
            kind=p["logType"],
            request_id=p["requestId"],
            diagnostics=False,
            retries=p.get("retries", 0),
            retry_interval_s=float(p.get("retryInterval", 30)),
        )
        return Reply({"status": "Accepted", "filename": name})
