"""A 2.x station's display messages (O01–O05) and customer information (N09/N10).

The display holds what the CSMS set, keyed by message id; a report is sent after the answer,
in parts, as a real station does (NotifyDisplayMessages, NotifyCustomerInformation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from joule.simulator.dialect import Outgoing
from joule.simulator.link import Reply

if TYPE_CHECKING:
    from joule.simulator.handlers import BaseHandlers, Method

Payload = dict[str, Any]

# What this display can show: plain text only (HTML/URI are NotSupportedMessageFormat, O01.FR.07).
_FORMATS = frozenset({"ASCII", "UTF8"})
PER_PART = 4  # messages per NotifyDisplayMessages, so a longer list arrives in parts (tbc)
DATA_PER_PART = 512  # NotifyCustomerInformation.data maxLength


class DisplayHandlers:
    """SetDisplayMessage, GetDisplayMessages, ClearDisplayMessage, CustomerInformation."""

    def __init__(self, handlers: BaseHandlers) -> None:
        self.h = handlers
        self.messages: dict[int, Payload] = {}  # id → MessageInfoType as set

    def table(self) -> dict[str, Method]:
        """The actions this part of the station answers."""
        return {
            "SetDisplayMessage": self.set_message,
            "GetDisplayMessages": self.get_messages,
            "ClearDisplayMessage": self.clear_message,
            "CustomerInformation": self.customer_information,
        }

    async def set_message(self, p: Payload) -> Reply:
        """SetDisplayMessage (O01/O02): a known id replaces the message (O02.FR.02)."""
        info = p["message"]
        if info["message"]["format"] not in _FORMATS:
            return Reply({"status": "NotSupportedMessageFormat"})
        tx_id = info.get("transactionId")
        if tx_id is not None and self.h.cmd.find_session(transaction_id=tx_id) is None:
            return Reply({"status": "UnknownTransaction"})  # O02.FR.16
        self.messages[info["id"]] = info
        return Reply({"status": "Accepted"})

    async def get_messages(self, p: Payload) -> Reply:
        """GetDisplayMessages (O03): Unknown when nothing matches, else the report follows."""
        ids = p.get("id")
        found = [
            info
            for info in self.messages.values()
            if (not ids or info["id"] in ids)
            and p.get("priority") in (None, info["priority"])
            and p.get("state") in (None, info.get("state"))
        ]
        if not found:
            return Reply({"status": "Unknown"})

        async def send() -> None:
            parts = [found[i : i + PER_PART] for i in range(0, len(found), PER_PART)]
            for n, part in enumerate(parts):
                payload = {"requestId": p["requestId"], "messageInfo": part}
                if n < len(parts) - 1:
                    payload["tbc"] = True
                self.h.cp.outbox.post(Outgoing("NotifyDisplayMessages", payload))

        return Reply({"status": "Accepted"}, self.h.later(send))

    async def clear_message(self, p: Payload) -> Reply:
        """ClearDisplayMessage (O05)."""
        found = self.messages.pop(p["id"], None)
        return Reply({"status": "Accepted" if found is not None else "Unknown"})

    async def customer_information(self, p: Payload) -> Reply:
        """CustomerInformation (N09/N10): what the station knows of a token, then forget it."""
        uid = (p.get("idToken") or {}).get("idToken")
        auth = self.h.cp.auth
        known = auth.lookup(uid, self.h.cp.now()) if uid else None
        text = f"idToken {uid}: {known}" if known else f"no data for {uid or 'this customer'}"
        if p["clear"] and uid:
            auth.cache.pop(uid.lower(), None)  # N10: the cache entry goes; the list is the CSMS's
        if not p["report"]:
            return Reply({"status": "Accepted"})

        async def send() -> None:
            generated = self.h.st.stamp(self.h.cp.now())
            chunks = [text[i : i + DATA_PER_PART] for i in range(0, len(text), DATA_PER_PART)]
            for seq_no, chunk in enumerate(chunks):
                payload = {
                    "data": chunk,
                    "seqNo": seq_no,
                    "generatedAt": generated,
                    "requestId": p["requestId"],
                    "tbc": seq_no < len(chunks) - 1,
                }
                self.h.cp.outbox.post(Outgoing("NotifyCustomerInformation", payload))

        return Reply({"status": "Accepted"}, self.h.later(send))
