"""CSV export of drivers and tokens; token import with a dry run and line-numbered errors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel

from joule.api.deps import CommandOperator, CurrentCaller, Db, Services
from joule.domain.driver import csv_io
from joule.domain.driver.csv_io import ImportReport
from joule.storage.uow import UnitOfWork

router = APIRouter(tags=["tokens"])

MAX_CSV_BYTES = 10 * 1024 * 1024


class LineErrorRead(BaseModel):
    """One bad line (the header is line 1)."""

    line: int
    error: str


class ImportResult(BaseModel):
    """Counts of created / updated tokens; nothing is written on a dry run or with errors."""

    dry_run: bool
    written: bool
    created: int
    updated: int
    errors: list[LineErrorRead]


def _csv(text: str, name: str) -> Response:
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/drivers/export.csv", response_class=Response)
async def export_drivers(caller: CurrentCaller, db: Db) -> Response:
    """The caller's drivers as CSV."""
    return _csv(await db.read(lambda s: csv_io.export_drivers(s, caller.scope)), "drivers.csv")


@router.get("/tokens/export.csv", response_class=Response)
async def export_tokens(caller: CurrentCaller, db: Db) -> Response:
    """The caller's id tokens as CSV (the import's columns)."""
    return _csv(await db.read(lambda s: csv_io.export_tokens(s, caller.scope)), "tokens.csv")


async def _body_text(request: Request) -> str:
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail="multipart needs a 'file' part"
            )
        raw = await upload.read(MAX_CSV_BYTES + 1)
    else:
        raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, detail=f"a CSV file is at most {MAX_CSV_BYTES} bytes"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="the CSV file is not UTF-8"
        ) from None


@router.post("/tokens/import")
async def import_tokens(
    request: Request,
    caller: CommandOperator,
    services: Services,
    dry_run: Annotated[bool, Query()] = False,
) -> ImportResult:
    """Create or update tokens from CSV (text/csv body or multipart 'file'); all or nothing.

    Any line error answers 422 with every error and writes nothing; a dry run answers 200 with
    the same counts and errors and writes nothing.
    """
    text = await _body_text(request)
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> ImportReport:
        return await csv_io.import_tokens(uow, caller.scope, text, dry_run=dry_run, at=at)

    report = await services.committer.run(work)
    result = ImportResult(
        dry_run=report.dry_run,
        written=report.written,
        created=report.created,
        updated=report.updated,
        errors=[LineErrorRead(line=e.line, error=e.error) for e in report.errors],
    )
    if report.errors and not dry_run:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=result.model_dump())
    return result
