"""OCPP-J RPC error codes per version and the exception that carries one."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from joule.ocpp.versions import OcppVersion


class ErrorKind(StrEnum):
    """Version-neutral names for the CALLERROR codes (J16 Table 7, P4 §4.3)."""

    FORMAT = "format"  # 1.6 FormationViolation (sic) / 2.x FormatViolation
    RPC_FRAMEWORK = "rpc_framework"  # 2.x RpcFrameworkError
    MESSAGE_TYPE_NOT_SUPPORTED = "message_type_not_supported"  # 2.x only
    NOT_IMPLEMENTED = "not_implemented"  # action not known by the receiver
    NOT_SUPPORTED = "not_supported"  # action recognised but not supported
    OCCURRENCE = "occurrence"  # missing required field
    PROPERTY = "property"  # bad enum / value constraint
    TYPE = "type"  # wrong JSON type, string too long
    PROTOCOL = "protocol"  # payload incomplete / duplicate message id
    SECURITY = "security"  # e.g. message before boot accepted (B01.FR.10)
    INTERNAL = "internal"  # our failure: the station retries (C16 §3.7.1)
    GENERIC = "generic"


_V16: dict[ErrorKind, str] = {
    # J16 errata §5.1/§5.2: the misspellings are normative for 1.6, "do not fix".
    ErrorKind.FORMAT: "FormationViolation",
    ErrorKind.RPC_FRAMEWORK: "FormationViolation",
    ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "FormationViolation",
    ErrorKind.NOT_IMPLEMENTED: "NotImplemented",
    ErrorKind.NOT_SUPPORTED: "NotSupported",
    ErrorKind.OCCURRENCE: "OccurenceConstraintViolation",
    ErrorKind.PROPERTY: "PropertyConstraintViolation",
    ErrorKind.TYPE: "TypeConstraintViolation",
    ErrorKind.PROTOCOL: "ProtocolError",
    ErrorKind.SECURITY: "SecurityError",
    ErrorKind.INTERNAL: "InternalError",
    ErrorKind.GENERIC: "GenericError",
}

_V2X: dict[ErrorKind, str] = {
    ErrorKind.FORMAT: "FormatViolation",
    ErrorKind.RPC_FRAMEWORK: "RpcFrameworkError",
    ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "MessageTypeNotSupported",
    ErrorKind.NOT_IMPLEMENTED: "NotImplemented",
    ErrorKind.NOT_SUPPORTED: "NotSupported",
    # P4 §4.3 spells it correctly; the 2.0.1 schemas' tooling used the typo. We send the
    # spelling of the P4 text and accept both inbound.
    ErrorKind.OCCURRENCE: "OccurrenceConstraintViolation",
    ErrorKind.PROPERTY: "PropertyConstraintViolation",
    ErrorKind.TYPE: "TypeConstraintViolation",
    ErrorKind.PROTOCOL: "ProtocolError",
    ErrorKind.SECURITY: "SecurityError",
    ErrorKind.INTERNAL: "InternalError",
    ErrorKind.GENERIC: "GenericError",
}


def error_code(version: OcppVersion, kind: ErrorKind) -> str:
    """The CALLERROR code string for this kind of error in this version."""
    return (_V16 if version is OcppVersion.V16 else _V2X)[kind]


class OcppError(Exception):
    """An error to answer with a CALLERROR."""

    def __init__(
        self, kind: ErrorKind, description: str = "", details: dict[str, Any] | None = None
    ):
        super().__init__(f"{kind.value}: {description}")
        self.kind = kind
        self.description = description
        self.details: dict[str, Any] = details or {}


# Inbound, both spellings of the occurrence code are accepted (J16 errata §5.1 keeps the 1.6
# typo; 2.0.1 tooling still emits it, P4 §4.3 text and 2.1 spell it correctly).
_KIND_OF_CODE: dict[str, ErrorKind] = {
    **{code: kind for kind, code in _V2X.items()},
    **{
        code: kind
        for kind, code in _V16.items()
        if kind not in (ErrorKind.RPC_FRAMEWORK, ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED)
    },
    "OccurenceConstraintViolation": ErrorKind.OCCURRENCE,
    "OccurrenceConstraintViolation": ErrorKind.OCCURRENCE,
}


def error_kind(code: str) -> ErrorKind | None:
    """The kind of a CALLERROR code received from a station (any version), or None if unknown."""
    return _KIND_OF_CODE.get(code)
