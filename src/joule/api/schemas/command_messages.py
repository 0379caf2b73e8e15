"""Display messages and customer information (OCPP 2.0.1 and later)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from joule.api.schemas.command import CommandBody

Priority = Literal["AlwaysFront", "InFront", "NormalCycle"]
State = Literal["Charging", "Faulted", "Idle", "Unavailable"]


class DisplayMessageCommand(CommandBody):
    """SetDisplayMessage; without an id Joule picks one and returns it as `id`."""

    id: int | None = Field(default=None, ge=0)
    content: str = Field(min_length=1, max_length=512)
    format: Literal["ASCII", "HTML", "URI", "UTF8"] = "UTF8"
    language: str | None = Field(default=None, max_length=8, examples=["en"])
    priority: Priority = "NormalCycle"
    state: State | None = None
    start_at: AwareDatetime | None = None
    end_at: AwareDatetime | None = None
    transaction_id: str | None = Field(default=None, max_length=36, description="station's id")


class CertificateHash(CommandBody):
    """A certificate named by its hashes (CertificateHashDataType)."""

    hash_algorithm: Literal["SHA256", "SHA384", "SHA512"]
    issuer_name_hash: str = Field(max_length=128)
    issuer_key_hash: str = Field(max_length=128)
    serial_number: str = Field(max_length=40)


class CustomerInformationCommand(CommandBody):
    """CustomerInformation: report and/or clear what the station keeps about one customer,
    named by exactly one of customer_identifier, uid, certificate."""

    report: bool = True
    clear: bool = False
    customer_identifier: str | None = Field(default=None, max_length=64)
    uid: str | None = Field(default=None, max_length=36)
    token_type: str | None = Field(default=None, description="with uid; default Central")
    certificate: CertificateHash | None = None

    @model_validator(mode="after")
    def _one_customer(self) -> Self:
        named = [x for x in (self.customer_identifier, self.uid, self.certificate) if x]
        if len(named) != 1:
            raise ValueError(
                "name the customer by exactly one of customer_identifier, uid, certificate"
            )
        if not self.report and not self.clear:
            raise ValueError("ask for a report, a clear, or both")
        return self
