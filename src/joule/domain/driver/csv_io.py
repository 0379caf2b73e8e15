"""CSV export of drivers and tokens, and an all-or-nothing token import with a dry run (issue 5).

The import checks every line before it writes anything: one bad line (numbered as in the file,
the header being line 1) and nothing is written; a dry run reports the same errors and counts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, driver_condition
from joule.domain.driver.ownership import changed
from joule.domain.driver.service import list_drivers
from joule.domain.driver.tokens import (
    TokenChanges,
    TokenSpec,
    check_max_concurrent,
    check_status,
    check_type,
    create_token,
    get_token,
    list_tokens,
    update_token,
)
from joule.domain.registry.rules import UNSET, check_token_uid
from joule.kit.errors import JouleError
from joule.storage.models import Driver, IdToken
from joule.storage.repositories import token as token_repo
from joule.storage.uow import UnitOfWork

DRIVER_COLUMNS = ("id", "name", "email", "status", "organisation_id")
TOKEN_COLUMNS = (
    "uid",
    "type",
    "status",
    "expiry",
    "group_id",
    "max_concurrent",
    "organisation_id",
    "driver_email",
)
MAX_IMPORT_LINES = 50_000
_PAGE = 1000


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # CSV injection (OWASP): a cell starting with = + - @ is read as a formula by spreadsheets.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


async def export_drivers(session: AsyncSession, scope: Scope) -> str:
    """The caller's drivers as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DRIVER_COLUMNS)
    offset = 0
    while True:
        page, _ = await list_drivers(session, scope, limit=_PAGE, offset=offset)
        for d in page:
            writer.writerow([_cell(getattr(d, c)) for c in DRIVER_COLUMNS])
        if len(page) < _PAGE:
            return out.getvalue()
        offset += _PAGE


async def export_tokens(session: AsyncSession, scope: Scope) -> str:
    """The caller's tokens as CSV, with their driver's e-mail."""
    emails = dict(
        (
            await session.execute(select(Driver.id, Driver.email).where(driver_condition(scope)))
        ).all()
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TOKEN_COLUMNS)
    offset = 0
    while True:
        page, _ = await list_tokens(session, scope, limit=_PAGE, offset=offset)
        for t in page:
            email = emails.get(t.driver_id) if t.driver_id is not None else None
            row = [getattr(t, c) for c in TOKEN_COLUMNS[:-1]] + [email]
            writer.writerow([_cell(v) for v in row])
        if len(page) < _PAGE:
            return out.getvalue()
        offset += _PAGE


@dataclass(frozen=True, slots=True)
class LineError:
    """What is wrong with one line of the file."""

    line: int
    error: str


@dataclass
class ImportReport:
    """What an import did (or, on a dry run or with errors, would do)."""

    dry_run: bool
    created: int = 0
    updated: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def written(self) -> bool:
        """True when the import changed the database."""
        return not self.dry_run and not self.errors


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    spec: TokenSpec
    fields: frozenset[str]  # the columns present in the file (absent = unchanged on update)


def _expiry(value: str) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expiry {value!r} is not an ISO 8601 date-time") from None
    if at.tzinfo is None:
        raise ValueError(f"expiry {value!r} needs a time zone offset (e.g. Z or +01:00)")
    return at


async def _parse(
    session: AsyncSession, scope: Scope, text: str, report: ImportReport
) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "uid" not in header:
        report.errors.append(LineError(1, "the header needs a uid column"))
        return []
    unknown = sorted(set(header) - set(TOKEN_COLUMNS))
    if unknown:
        report.errors.append(LineError(1, f"unknown columns {', '.join(unknown)}"))
        return []
    reader.fieldnames = header
    present = frozenset(header)
    emails: dict[str, int] = dict(
        (
            await session.execute(
                select(func.lower(Driver.email), Driver.id).where(driver_condition(scope))
            )
        ).all()
    )
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if line > MAX_IMPORT_LINES:
            report.errors.append(LineError(line, f"more than {MAX_IMPORT_LINES} lines"))
            break
        cells = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        try:
            uid = cells["uid"]
            check_token_uid(uid)
            if uid.lower() in seen:
                raise ValueError(f"uid {uid} repeats line {seen[uid.lower()]}")
            seen[uid.lower()] = line
            email = cells.get("driver_email", "").lower()
            if email and email not in emails:
                raise ValueError(f"no driver with e-mail {email}")
            spec = TokenSpec(
                uid=uid,
                type=check_type(cells.get("type") or "ISO14443"),
                status=check_status(cells.get("status") or "Accepted"),
                expiry=_expiry(cells.get("expiry", "")),
                group_id=cells.get("group_id") or None,
                max_concurrent=check_max_concurrent(int(cells.get("max_concurrent") or 1)),
                organisation_id=cells.get("organisation_id") or None,
                driver_id=emails[email] if email else None,
            )
        except (ValueError, JouleError) as error:
            report.errors.append(LineError(line, str(error)))
            continue
        rows.append(_Row(line, spec, present))
    return rows


async def import_tokens(
    uow: UnitOfWork, scope: Scope, text: str, *, dry_run: bool, at: datetime
) -> ImportReport:
    """Create or update tokens from CSV; nothing is written on a dry run or on any error."""
    report = ImportReport(dry_run=dry_run)
    session = uow.session
    rows = await _parse(session, scope, text, report)
    plan: list[tuple[_Row, IdToken | None]] = []
    for row in rows:
        existing = await token_repo.get_token(session, row.spec.uid)
        if existing is not None:
            # A uid of another organisation is reported as taken, never revealed or changed.
            try:
                await get_token(session, scope, existing.uid)
            except JouleError:
                report.errors.append(LineError(row.line, f"uid {row.spec.uid} is taken"))
                continue
        plan.append((row, existing))
    report.created = sum(1 for _, existing in plan if existing is None)
    report.updated = len(plan) - report.created
    if not report.written:
        return report
    for row, existing in plan:
        try:
            if existing is None:
                await create_token(uow, scope, row.spec, at=at)
            else:
                await update_token(uow, scope, existing.uid, _changes(row), at=at)
        except JouleError as error:
            # An error only the write finds (e.g. an organisation outside the scope) aborts all.
            raise type(error)(f"line {row.line}: {error}") from error
    changed(
        uow,
        scope,
        organisation_id=scope.organisation_id,
        action="token.import",
        object_type="token",
        object_id="csv",
        changes={"created": report.created, "updated": report.updated},
        reason="tokens imported",
        at=at,
    )
    return report


def _changes(row: _Row) -> TokenChanges:
    # Columns absent from the file leave the token's value as it is.
    spec, has = row.spec, row.fields
    return TokenChanges(
        type=spec.type if "type" in has else UNSET,
        status=spec.status if "status" in has else UNSET,
        expiry=spec.expiry if "expiry" in has else UNSET,
        group_id=spec.group_id if "group_id" in has else UNSET,
        max_concurrent=spec.max_concurrent if "max_concurrent" in has else UNSET,
        organisation_id=spec.organisation_id if "organisation_id" in has else UNSET,
        driver_id=spec.driver_id if "driver_email" in has else UNSET,
    )
