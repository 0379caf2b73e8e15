"""Shared schema pieces: paged lists, UTC datetimes, exact Wh."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

T = TypeVar("T")


def as_utc(at: datetime) -> datetime:
    """An aware UTC datetime; naive values are UTC already (SQLite keeps no offset)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


# Every time Joule returns is UTC with an explicit offset.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


def whole_wh(value: Decimal | None) -> int | None:
    """Wh rounded half-up to an integer (for display; the exact value travels beside it)."""
    return None if value is None else int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def exact(value: Decimal | None) -> str | None:
    """A Decimal as a plain decimal string without exponent or trailing zeros (never a float)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


class ReadModel(BaseModel):
    """A response model read from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class Patch(BaseModel):
    """A partial update: fields left out stay, null clears, except fields that cannot be null."""

    model_config = ConfigDict(extra="forbid")  # e.g. password_hash is refused, never ignored
    not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _not_null(self) -> Self:
        for name in self.not_null:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, by name."""
        return self.model_dump(exclude_unset=True)


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: list[T], total: int, *, limit: int, offset: int) -> Self:
        """A page of `items` out of `total`."""
        return cls(items=items, total=total, limit=limit, offset=offset)
