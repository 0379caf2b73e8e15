"""ORM models: the version-neutral data model of Joule (see docs/glossary.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from joule.ocpp.sampled import unpack

# Alembic-friendly constraint names (architecture.md: naming convention on MetaData).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite's INTEGER PRIMARY KEY is the rowid; BIGINT on PostgreSQL.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Energy = Numeric(20, 4)  # Wh with sub-Wh precision; Decimal in Python, never float


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, Decimal: Energy}


class Setting(Base):
    """Key/value settings Joule keeps for itself (e.g. the generated JWT secret)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Organisation(Base):
    """A CPO or one of its sub-operators / site hosts; owns sites, stations, drivers and tokens.

    Organisations form a tree: an operator of an organisation sees its own data and that of every
    organisation below it, never a sibling's or a parent's (issue 5: 404 outside the scope).
    """

    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Site(Base):
    """A location with stations; tariffs, load limits and reports hang off it later."""

    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True, index=True
    )
    latitude: Mapped[float | None] = mapped_column(Numeric(9, 6, asdecimal=False), nullable=True)
    longitude: Mapped[float | None] = mapped_column(Numeric(9, 6, asdecimal=False), nullable=True)
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # public: any valid token; private: only groups with a rule here; mixed: private inside the
    # rules' windows, public outside (issue 5). Stations may override (Station.access_mode).
    access_mode: Mapped[str] = mapped_column(String(16), default="public", server_default="public")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Operator(Base):
    """A person (or integration) who operates the network through the API and dashboard."""

    __tablename__ = "operators"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32), default="admin")  # admin | operator | viewer
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True, index=True
    )
    # Login throttling and session expiry (issue 5): sessions issued before password_changed_at
    # are void; locked_until is set after repeated failures.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OperatorSiteGrant(Base):
    """A site-scoped role: the operator may act on this site with this role (issue 5)."""

    __tablename__ = "operator_site_grants"
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32))  # operator | viewer
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PasswordReset(Base):
    """A one-time password reset token (only its hash is kept), for operators and drivers."""

    __tablename__ = "password_resets"
    token_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), nullable=True
    )
    driver_id: Mapped[int | None] = mapped_column(
        ForeignKey("drivers.id", ondelete="CASCADE"), nullable=True
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """A key for integrations: scoped to an organisation and a role, revocable (issue 5).

    The secret is shown once; only its hash is stored, looked up by the public prefix.
    """

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True, index=True
    )
    role: Mapped[str] = mapped_column(String(32))  # admin | operator | viewer
    created_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    """Append-only record of a change to users, tokens, groups, rules and settings (issue 5).

    Commands to stations have their own log (command_log); this one is for data changes.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str | None] = mapped_column(String(320), nullable=True)
    actor_type: Mapped[str] = mapped_column(String(16))  # operator | api_key | driver | system
    organisation_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(64))  # e.g. token.create, group.rule.delete
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(160))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Station(Base):
    """A charging station (1.6 'charge point'), identified by the last segment of its URL."""

    __tablename__ = "stations"
    id: Mapped[str] = mapped_column(String(48), primary_key=True)  # P4 §3.1.1: ≤ 48 chars
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"), nullable=True)
    # The owner when the station has no site (a site's organisation wins when it has one).
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True, index=True
    )
    # Overrides the site's access mode: public | private | mixed (None: the site's).
    access_mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    latitude: Mapped[float | None] = mapped_column(Numeric(9, 6, asdecimal=False), nullable=True)
    longitude: Mapped[float | None] = mapped_column(Numeric(9, 6, asdecimal=False), nullable=True)
    # 'accepted' | 'pending' (unknown, awaiting an operator) | 'rejected'
    registration: Mapped[str] = mapped_column(String(16), default="accepted")
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # 0 = no auth (lab), 1 = basic auth, 2 = TLS + basic, 3 = mutual TLS
    security_profile: Mapped[int] = mapped_column(Integer, default=1)
    # A00.FR.002 / A05.FR.07: once a station connected with a higher profile, never accept lower.
    min_security_profile: Mapped[int] = mapped_column(Integer, default=0)
    ocpp_version: Mapped[str | None] = mapped_column(String(8), nullable=True)
    vendor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model: Mapped[str | None] = mapped_column(String(64), nullable=True)
    serial_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    firmware_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    iccid: Mapped[str | None] = mapped_column(String(32), nullable=True)
    imsi: Mapped[str | None] = mapped_column(String(32), nullable=True)
    meter_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    meter_serial_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Last answer to BootNotification: Accepted | Pending | Rejected (gates B01.FR.10)
    boot_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    connected_node: Mapped[str | None] = mapped_column(String(64), nullable=True)
    connected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_boot_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Connector 0 of 1.6 / the station as a whole
    status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    firmware_status: Mapped[str | None] = mapped_column(String(48), nullable=True)
    diagnostics_status: Mapped[str | None] = mapped_column(String(48), nullable=True)
    # Scenario 45: station clock minus CSMS clock, seconds (from timestamps it sends)
    clock_skew_s: Mapped[float | None] = mapped_column(Numeric(12, 3), nullable=True)
    # Q7: IANA zone assumed for timestamps the station sends without an offset
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Q1: subprotocol assumed when a station offers none (opt-in per station)
    assume_subprotocol: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Scenario 27: accept and strip unknown properties from this station
    lenient: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # Scenario 40: counters of tolerated quirks, e.g. {"numeric_value": 12}
    quirks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BootRecord(Base):
    """One BootNotification, kept as history."""

    __tablename__ = "boot_records"
    # The boot-loop rule reads the boots of the last minutes on every evaluation.
    __table_args__ = (Index("ix_boot_records_at", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class Evse(Base):
    """An EVSE of a station (1.6: one per connector, auto-provisioned, Q27)."""

    __tablename__ = "evses"
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Connector(Base):
    """A connector of an EVSE with its current status."""

    __tablename__ = "connectors"
    __table_args__ = (
        ForeignKeyConstraint(["station_id", "evse_id"], ["evses.station_id", "evses.evse_id"]),
    )
    station_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    vendor_error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    info: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StatusInterval(Base):
    """Connector (or station, evse 0 / connector 0) status history as non-overlapping intervals."""

    __tablename__ = "status_intervals"
    __table_args__ = (
        Index("ix_status_intervals_lookup", "station_id", "evse_id", "connector_id", "started_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48))
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IdToken(Base):
    """An id token (1.6 idTag) a driver presents."""

    __tablename__ = "id_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(255), unique=True)  # 2.0.1 idToken ≤ 36, 1.6 ≤ 20
    type: Mapped[str] = mapped_column(String(32), default="ISO14443")
    status: Mapped[str] = mapped_column(String(16), default="Accepted")
    expiry: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    group_id: Mapped[str | None] = mapped_column(String(255), nullable=True)  # parentIdTag
    max_concurrent: Mapped[int] = mapped_column(Integer, default=1)
    driver_id: Mapped[int | None] = mapped_column(
        ForeignKey("drivers.id", ondelete="SET NULL"), nullable=True, index=True
    )
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Driver(Base):
    """A person who charges: any number of tokens, member of access groups (issue 5)."""

    __tablename__ = "drivers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="Active")  # Active | Blocked
    # The driver's own login (separate from operators); None: no login.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccessGroup(Base):
    """A group of drivers/tokens (public, employees, residents, fleet, custom) with access rules.

    `id_token_group` is the OCPP group id (1.6 parentIdTag / 2.0.1 groupIdToken): a token whose
    group_id equals it is a member too, so a family or fleet card shares the group's rights.
    """

    __tablename__ = "access_groups"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="custom")
    id_token_group: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    # Energy each member may take per calendar month (site time zone), Wh; None: unlimited.
    monthly_energy_budget_wh: Mapped[Decimal | None] = mapped_column(Energy, nullable=True)
    # For the billing capability: the price group and a discount in percent.
    pricing_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    discount_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GroupDriver(Base):
    """A driver's membership of a group: all of the driver's tokens share the group's rights."""

    __tablename__ = "group_drivers"
    group_id: Mapped[str] = mapped_column(
        ForeignKey("access_groups.id", ondelete="CASCADE"), primary_key=True
    )
    driver_id: Mapped[int] = mapped_column(
        ForeignKey("drivers.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class GroupToken(Base):
    """A single token's membership of a group (a token without a driver, e.g. a fleet card)."""

    __tablename__ = "group_tokens"
    group_id: Mapped[str] = mapped_column(
        ForeignKey("access_groups.id", ondelete="CASCADE"), primary_key=True
    )
    token_id: Mapped[int] = mapped_column(
        ForeignKey("id_tokens.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AccessRule(Base):
    """Where and when a group may charge: a site, station or EVSE, days and a time window.

    Times are local to the site's time zone. Null scope fields widen the rule (no site = all the
    organisation's sites); no days = every day; no window = all day. end < start spans midnight.
    """

    __tablename__ = "access_rules"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(
        ForeignKey("access_groups.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[str | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), nullable=True
    )
    station_id: Mapped[str | None] = mapped_column(String(48), nullable=True)
    evse_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    days: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)  # ISO 1=Mon … 7=Sun
    start_time: Mapped[str | None] = mapped_column(String(5), nullable=True)  # "HH:MM"
    end_time: Mapped[str | None] = mapped_column(String(5), nullable=True)
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LocalListState(Base):
    """What Joule last pushed to a station's local authorization list (D01/D02, 1.6 §5.15)."""

    __tablename__ = "local_lists"
    station_id: Mapped[str] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, default=0)  # the version the station confirmed
    target_version: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # in_sync | pending | failed
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LocalListEntry(Base):
    """One entry of a station's local list as the station holds it (for differential updates)."""

    __tablename__ = "local_list_entries"
    station_id: Mapped[str] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    uid: Mapped[str] = mapped_column(String(255), primary_key=True)
    token_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    expiry: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    group_id: Mapped[str | None] = mapped_column(String(255), nullable=True)


class Reservation(Base):
    """A reservation made with ReserveNow (1.6 §5.13, 2.0.1 H01); id = reservationId."""

    __tablename__ = "reservations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48), index=True)
    evse_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    connector_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    id_token: Mapped[str] = mapped_column(String(255))
    group_id_token: Mapped[str | None] = mapped_column(String(255), nullable=True)
    expiry: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Requested | Accepted | Rejected | Faulted | Occupied | Unavailable | Used | Expired |
    # Cancelled | Removed (2.0.1 ReservationUpdateStatusEnumType)
    status: Mapped[str] = mapped_column(String(16))
    transaction_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    operator: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Transaction(Base):
    """A charging transaction, version-neutral."""

    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("station_id", "transaction_uid", name="uq_transactions_station_uid"),
        Index("ix_transactions_station_status", "station_id", "status"),
    )
    # 1.6: this integer is the transactionId we issue; 2.0.1: the station's id is transaction_uid.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_uid: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"))
    evse_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    connector_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    id_token: Mapped[str | None] = mapped_column(String(255), nullable=True)
    id_token_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    auth_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Why the starting token got its status (issue 5: 1.6 can only say Invalid / Blocked).
    auth_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | completed
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    meter_start_wh: Mapped[Decimal | None] = mapped_column(Energy, nullable=True)
    meter_stop_wh: Mapped[Decimal | None] = mapped_column(Energy, nullable=True)
    last_meter_wh: Mapped[Decimal | None] = mapped_column(Energy, nullable=True)
    last_meter_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    stop_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    charging_state: Mapped[str | None] = mapped_column(String(32), nullable=True)
    remote_start_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reservation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    # E §1.3.2: complete when Started, Ended and every seqNo between have arrived
    seq_nos: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"seen": [..]}
    missing_seq_nos: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Scenario 11: closed by the CSMS on reboot evidence, may still receive a late stop
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TransactionEvent(Base):
    """A 2.0.1 TransactionEvent, deduplicated by (transaction, seqNo, eventType, timestamp)."""

    __tablename__ = "transaction_events"
    __table_args__ = (
        UniqueConstraint(
            "transaction_pk", "seq_no", "event_type", "timestamp", name="uq_transaction_events_key"
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_pk: Mapped[int] = mapped_column(ForeignKey("transactions.id"), index=True)
    seq_no: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(16))
    trigger_reason: Mapped[str] = mapped_column(String(48))
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


# The fields of one sampled value as read from `MeterValue.sampled_values` (ocpp/sampled.unpack).
SAMPLE_FIELDS = (
    "measurand",
    "phase",
    "location",
    "context",
    "value",  # normalised to SI units, exact decimal text (None: not a number, or too large)
    "unit",
    "raw_value",  # as the station sent it
    "raw_unit",
    "signed_data",  # OCMF / signed meter data, byte for byte as the station sent it
)


@dataclass(frozen=True, slots=True)
class SampledValue:
    """One sampled value of a stored MeterValue, with its reading's station, EVSE, transaction
    and time: what the API, charts and reports read (OCPP's SampledValue)."""

    station_id: str
    evse_id: int
    connector_id: int | None
    transaction_pk: int | None
    timestamp: datetime
    measurand: str
    phase: str | None
    location: str | None
    context: str | None
    value: Decimal | None
    unit: str | None
    raw_value: str
    raw_unit: str | None
    signed_data: str | None


class MeterValue(Base):
    """One OCPP MeterValue: a station timestamp and its sampled values, one row per reading
    (ADR 0014: ten index entries per message were most of T3's SQLite cost). The sampled values
    are the station's own `sampledValue` list as JSON, normalised when read (ADR 0015; rows
    written before it hold SAMPLE_FIELDS arrays, see ocpp/sampled.py); the whole-EVSE import
    register and active power, normalised, are columns too, so network figures and charts read
    them without unpacking."""

    __tablename__ = "meter_values"
    __table_args__ = (
        Index("ix_meter_values_tx_ts", "transaction_pk", "timestamp"),
        Index("ix_meter_values_station_ts", "station_id", "timestamp"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48))
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    transaction_pk: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    energy_wh: Mapped[Decimal | None] = mapped_column(Numeric(24, 6), nullable=True)
    power_w: Mapped[Decimal | None] = mapped_column(Numeric(24, 6), nullable=True)
    sampled_values: Mapped[str] = mapped_column(Text)

    def samples(self) -> list[SampledValue]:
        """The reading's sampled values, in the order the station sent them, normalised to SI."""
        head = (self.station_id, self.evse_id, self.connector_id, self.transaction_pk)
        at = self.timestamp
        return [SampledValue(*head, at, *fields) for fields in unpack(self.sampled_values)]


def sampled_values(readings: Iterable[MeterValue]) -> list[SampledValue]:
    """Stored MeterValues as their sampled values, reading by reading."""
    return [sample for reading in readings for sample in reading.samples()]


class SecurityEvent(Base):
    """A SecurityEventNotification (A04), acknowledged and kept."""

    __tablename__ = "security_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48), index=True)
    type: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tech_info: Mapped[str | None] = mapped_column(Text, nullable=True)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DataTransferRecord(Base):
    """A DataTransfer in either direction, its data size-capped."""

    __tablename__ = "data_transfers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    vendor_id: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    data: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StationReport(Base):
    """Any other station-initiated notification, stored as received (NotifyReport, …)."""

    __tablename__ = "station_reports"
    __table_args__ = (Index("ix_station_reports_station_action", "station_id", "action"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48))
    action: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeviceVariable(Base):
    """A 1.6 configuration key or a 2.0.1 device-model variable attribute, latest value."""

    __tablename__ = "device_variables"
    __table_args__ = (
        UniqueConstraint(
            "station_id", "component", "variable", "attribute_type", name="uq_device_variables_key"
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48))
    # component incl. instance/evse/connector as "Name[instance]@evse.connector"; '' for 1.6 keys
    component: Mapped[str] = mapped_column(String(160))
    variable: Mapped[str] = mapped_column(String(160))  # incl. instance as "Name[instance]"
    attribute_type: Mapped[str] = mapped_column(String(16), default="Actual")
    value: Mapped[str | None] = mapped_column(Text, nullable=True)
    mutability: Mapped[str | None] = mapped_column(String(16), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ParkedMessage(Base):
    """A transaction message that could not be matched (Q18, scenario 12), kept to reconcile."""

    __tablename__ = "parked_messages"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48), index=True)
    action: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)


class MessageLogEntry(Base):
    """The bounded per-station OCPP message log (both directions)."""

    __tablename__ = "message_log"
    __table_args__ = (Index("ix_message_log_station_id", "station_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48))
    direction: Mapped[str] = mapped_column(String(4))  # in | out
    message_type: Mapped[int] = mapped_column(Integer)  # 2 CALL, 3 CALLRESULT, 4 CALLERROR
    message_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64), nullable=True)
    frame: Mapped[str] = mapped_column(Text)  # truncated to a bounded size
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConnectionAudit(Base):
    """Refused or notable connection attempts (scenarios 30, 31, 33): no passwords, ever."""

    __tablename__ = "connection_audit"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    remote: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # accepted | refused
    reason: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CommandRecord(Base):
    """An operator command sent to a station, with its answer (append-only audit)."""

    __tablename__ = "command_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48), index=True)
    operator: Mapped[str | None] = mapped_column(String(320), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16))  # answered | callerror | timeout | offline
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertRule(Base):
    """An alert rule's editable settings; rules without a row run with their defaults."""

    __tablename__ = "alert_rules"
    rule: Mapped[str] = mapped_column(String(48), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The predicate of ux_alerts_unresolved (and of its ON CONFLICT target: repositories/alert.py).
ALERT_UNRESOLVED_SQL = "state <> 'resolved'"


class Alert(Base):
    """A raised alert: at most one not-yet-resolved alert per (rule, target)."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_rule_target_state", "rule", "target", "state"),
        Index("ix_alerts_state_raised", "state", "raised_at"),
        # The "one unresolved alert" rule, kept by the database: evaluators on several workers
        # or nodes that find the same condition at once cannot both raise it (PostgreSQL runs
        # their transactions side by side; the re-check inside the write does not see the
        # other's uncommitted row).
        Index(
            "ux_alerts_unresolved",
            "rule",
            "target",
            unique=True,
            sqlite_where=text(ALERT_UNRESOLVED_SQL),
            postgresql_where=text(ALERT_UNRESOLVED_SQL),
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(48))
    target: Mapped[str] = mapped_column(String(160))  # e.g. "CS-1", "CS-1/1/1", "CS-1/tx/42"
    station_id: Mapped[str | None] = mapped_column(String(48), nullable=True, index=True)
    site_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    severity: Mapped[str] = mapped_column(String(16))  # critical | warning | info
    state: Mapped[str] = mapped_column(String(16))  # open | acknowledged | resolved
    message: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Webhook(Base):
    """An HTTP endpoint alerts are delivered to, HMAC-signed with its secret."""

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    rules: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # None: every rule
    site_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: every site
    organisation_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One delivery attempt of an alert change to a webhook (the delivery log)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    alert_id: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(32))  # alert.raised | alert.resolved | …
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertSubscription(Base):
    """An e-mail address that receives alerts, optionally only of some rules or one site."""

    __tablename__ = "alert_subscriptions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320))
    rules: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # None: every rule
    site_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: every site
    organisation_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
