"""OCPP-J RPC frames: decoding what a station sends, encoding what Joule sends (J16 §4, P4 §4).

Decoding never raises anything but FrameError (answer with a CALLERROR, unless the bad frame was
itself a response) or IgnoredFrame (drop silently); the connection always stays open.

For a frame we cannot read, 2.x allows RpcFrameworkError or FormatViolation (P4 §4.2.3/§4.3).
We always answer FormatViolation (ErrorKind.FORMAT; 1.6 FormationViolation): one code for every
unreadable frame, the code OCTT and CitrineOS expect for bad message ids (scenario 20), and
the same code whether the frame failed at the JSON, array or element level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import orjson

from joule.ocpp.errors import ErrorKind, OcppError, error_code
from joule.ocpp.typed import typed_call
from joule.ocpp.versions import OcppVersion

CALL = 2
CALLRESULT = 3
CALLERROR = 4
CALLRESULTERROR = 5  # 2.1 only: the receiver of a CALLRESULT could not accept it
SEND = 6  # 2.1 only: an unconfirmed request, never answered

UNKNOWN_MESSAGE_ID = "-1"  # P4 §4.2.3: messageId to use when the frame's id cannot be read
MAX_MESSAGE_ID_LENGTH = 36  # J16 §4.1.4 Table 3, P4 §4.1.4
MAX_ERROR_DESCRIPTION = 255  # P4 §4.2.3 errorDescription


@dataclass(frozen=True, slots=True)
class Call:
    """A request: [2, messageId, action, payload]."""

    message_type_id: ClassVar[int] = CALL
    message_id: str
    action: str
    payload: dict[str, Any]
    # Decoded by ocpp/typed.py: certainly valid against the strict schema as sent, so the
    # inbound checks skip the quirk room and the validator (inbound._checked).
    validated: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Send(Call):
    """2.1: [6, messageId, action, payload], a request that must never be answered.

    A SEND is a Call without a reply, so code written for Call keeps working; a 2.1 gateway checks
    `isinstance(frame, Send)` first and answers nothing, not even a CALLERROR.
    """

    message_type_id: ClassVar[int] = SEND


@dataclass(frozen=True, slots=True)
class CallResult:
    """A successful response: [3, messageId, payload]."""

    message_type_id: ClassVar[int] = CALLRESULT
    message_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    """A failed response: [4, messageId, errorCode, errorDescription, errorDetails]."""

    message_type_id: ClassVar[int] = CALLERROR
    message_id: str
    error_code: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallResultError(CallError):
    """2.1: [5, messageId, errorCode, errorDescription, errorDetails].

    The station could not accept the CALLRESULT we sent for its CALL `message_id`; there is no
    outstanding CALL of ours to resolve, so this is logged, never answered.
    """

    message_type_id: ClassVar[int] = CALLRESULTERROR


# Send is a Call and CallResultError a CallError, so three cases cover every frame.
Frame = Call | CallResult | CallError


class FrameError(OcppError):
    """A frame that cannot be processed; answer with a CALLERROR carrying `message_id`.

    `message_type_id` is the frame's type when it could be read. For a broken CALLRESULT or
    CALLERROR (type 3/4/5) there is no CALL to answer: log it and fail the outstanding call.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message_id: str,
        description: str,
        message_type_id: int | None = None,
    ) -> None:
        super().__init__(kind, description)
        self.message_id = message_id
        self.message_type_id = message_type_id

    @property
    def answerable(self) -> bool:
        """True when a CALLERROR is the right answer (the frame was a request or unreadable)."""
        if self.kind is ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED:
            # P4 §4.4: an unknown MessageTypeId is always answered, even 5 on a 2.0.1 connection
            # (CALLRESULTERROR exists only in 2.1, so it is no answer of the station's there).
            return True
        return self.message_type_id not in (CALLRESULT, CALLERROR, CALLRESULTERROR)


class IgnoredFrame(Exception):
    """A 1.6 frame with an unknown MessageTypeId: J16 §4.1.3 says to ignore it."""

    def __init__(self, message_type_id: object) -> None:
        super().__init__(f"ignored frame with MessageTypeId {message_type_id!r}")
        self.message_type_id = message_type_id


def _echo_id(frame: list[Any]) -> str:
    """The message id to put in a CALLERROR for a broken frame: what can be echoed, else -1."""
    if len(frame) < 2:
        return UNKNOWN_MESSAGE_ID
    raw = frame[1]
    if isinstance(raw, str):
        return raw or UNKNOWN_MESSAGE_ID
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        # A numeric id (scenario 20): the station probably correlates on its text form.
        return orjson.dumps(raw).decode()
    return UNKNOWN_MESSAGE_ID


def _message_id(frame: list[Any], type_id: int) -> str:
    raw = frame[1]
    if isinstance(raw, str) and 0 < len(raw) <= MAX_MESSAGE_ID_LENGTH:
        return raw
    if isinstance(raw, str):
        problem = "empty" if not raw else f"longer than {MAX_MESSAGE_ID_LENGTH} characters"
    else:
        problem = "not a string"
    raise FrameError(ErrorKind.FORMAT, _echo_id(frame), f"messageId is {problem}", type_id)


def _payload(value: object, message_id: str, type_id: int, what: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise FrameError(ErrorKind.FORMAT, message_id, f"{what} is not a JSON object", type_id)


def _action(value: object, message_id: str, type_id: int) -> str:
    if isinstance(value, str) and value:
        return value
    raise FrameError(ErrorKind.FORMAT, message_id, "action is not a non-empty string", type_id)


def _error_parts(
    frame: list[Any], message_id: str, type_id: int
) -> tuple[str, str, dict[str, Any]]:
    # errorDetails is required by the spec, but chargers omit it or send null: default to {}.
    if len(frame) not in (4, 5):
        raise FrameError(ErrorKind.FORMAT, message_id, "error frame needs 5 elements", type_id)
    code, description = frame[2], frame[3]
    details = frame[4] if len(frame) == 5 and frame[4] is not None else {}
    if not isinstance(code, str) or not isinstance(description, str | None):
        raise FrameError(
            ErrorKind.FORMAT, message_id, "errorCode or errorDescription is not a string", type_id
        )
    return code, description or "", _payload(details, message_id, type_id, "errorDetails")


def decode_frame(version: OcppVersion, data: str | bytes) -> Frame:
    """Parse one WebSocket text message into a frame, or raise FrameError / IgnoredFrame."""
    typed = typed_call(version, data)  # T3, T9: parse and validate the hottest CALL at once
    if typed is not None:
        return Call(*typed, validated=True)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            # OCPP-J frames are UTF-8 text (J16 §4.1.2, P4 §4.1.2); scenario 29.
            raise FrameError(ErrorKind.FORMAT, UNKNOWN_MESSAGE_ID, "invalid UTF-8") from None
    try:
        frame = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # Also lone surrogates in a str, which cannot be valid UTF-8 text (scenario 29).
        raise FrameError(ErrorKind.FORMAT, UNKNOWN_MESSAGE_ID, f"invalid JSON: {exc}") from None
    if not isinstance(frame, list):
        raise FrameError(ErrorKind.FORMAT, UNKNOWN_MESSAGE_ID, "frame is not a JSON array")
    if not frame:
        raise FrameError(ErrorKind.FORMAT, UNKNOWN_MESSAGE_ID, "frame is an empty array")
    type_id = frame[0]
    if type(type_id) is not int:
        # ["2", ...]: MessageTypeId must be a JSON integer (J16 §4.1.3, P4 §4.1.3).
        raise FrameError(ErrorKind.FORMAT, _echo_id(frame), "MessageTypeId is not an integer")
    if type_id not in (CALL, CALLRESULT, CALLERROR) and not (
        version is OcppVersion.V21 and type_id in (CALLRESULTERROR, SEND)
    ):
        if version is OcppVersion.V16:
            raise IgnoredFrame(type_id)  # J16 §4.1.3
        raise FrameError(
            ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED,
            _echo_id(frame),
            f"MessageTypeId {type_id} is not supported",
            type_id,
        )
    if len(frame) < 2:
        raise FrameError(ErrorKind.FORMAT, UNKNOWN_MESSAGE_ID, "frame has no messageId", type_id)
    message_id = _message_id(frame, type_id)
    if type_id in (CALL, SEND):
        if len(frame) != 4:
            raise FrameError(ErrorKind.FORMAT, message_id, "request needs 4 elements", type_id)
        action = _action(frame[2], message_id, type_id)
        payload = _payload(frame[3], message_id, type_id, "payload")
        return (
            Call(message_id, action, payload)
            if type_id == CALL
            else Send(message_id, action, payload)
        )
    if type_id == CALLRESULT:
        if len(frame) != 3:
            raise FrameError(ErrorKind.FORMAT, message_id, "result needs 3 elements", type_id)
        return CallResult(message_id, _payload(frame[2], message_id, type_id, "payload"))
    code, description, details = _error_parts(frame, message_id, type_id)
    if type_id == CALLERROR:
        return CallError(message_id, code, description, details)
    return CallResultError(message_id, code, description, details)


def _default(value: object) -> object:
    # Money and energy are Decimal (never float): write them as exact JSON numbers.
    if isinstance(value, Decimal) and value.is_finite():
        return orjson.Fragment(str(value))
    raise TypeError(f"cannot encode {type(value).__name__} in an OCPP frame")


def _dumps(frame: list[Any]) -> str:
    # Aware datetimes are written as RFC 3339 with a Z suffix (C16 §3.14: UTC recommended).
    return orjson.dumps(frame, default=_default, option=orjson.OPT_UTC_Z).decode()


def encode_call(message_id: str, action: str, payload: dict[str, Any]) -> str:
    """The text of a CALL frame."""
    return _dumps([CALL, message_id, action, payload])


def encode_send(message_id: str, action: str, payload: dict[str, Any]) -> str:
    """The text of a 2.1 SEND frame (unconfirmed request)."""
    return _dumps([SEND, message_id, action, payload])


def encode_result(message_id: str, payload: dict[str, Any]) -> str:
    """The text of a CALLRESULT frame."""
    return _dumps([CALLRESULT, message_id, payload])


def _error_frame(
    type_id: int,
    version: OcppVersion,
    message_id: str,
    kind: ErrorKind,
    description: str,
    details: dict[str, Any] | None,
) -> str:
    if details is None:
        details = {}
    if not isinstance(details, dict):
        raise TypeError("errorDetails must be a JSON object")
    text = description[:MAX_ERROR_DESCRIPTION]
    return _dumps([type_id, message_id, error_code(version, kind), text, details])


def encode_error(
    version: OcppVersion,
    message_id: str,
    kind: ErrorKind,
    description: str = "",
    details: dict[str, Any] | None = None,
) -> str:
    """The text of a CALLERROR frame with this version's spelling of the error code."""
    return _error_frame(CALLERROR, version, message_id, kind, description, details)


def encode_result_error(
    message_id: str,
    kind: ErrorKind,
    description: str = "",
    details: dict[str, Any] | None = None,
) -> str:
    """The text of a 2.1 CALLRESULTERROR frame (a station's CALLRESULT we cannot accept)."""
    return _error_frame(CALLRESULTERROR, OcppVersion.V21, message_id, kind, description, details)


def encode_error_for(version: OcppVersion, error: FrameError) -> str:
    """The CALLERROR answering a FrameError."""
    return encode_error(version, error.message_id, error.kind, error.description, error.details)
