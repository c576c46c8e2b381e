"""An HTTP connector to the union's own member system.

The member system answers one call (documented in docs/architecture.md):

    POST {base_url}/members/lookup
    Authorization: Bearer {token}
    {"id": "<member id>"}

with 200 and the record as JSON, or 404 when no member has the id. The id
travels in the body, not the URL, so access logs on either side never hold
it. A slow or failing system must never hang the chat: each attempt has a
timeout, failed attempts are retried a few times with growing pauses, and
after several failures in a row a circuit breaker answers "unavailable" at
once for a while instead of waiting on a system that is down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from veiviser.members.errors import DirectoryUnavailable
from veiviser.members.records import (
    Enrolment,
    Invoice,
    MemberRecord,
    Representative,
)

log = logging.getLogger(__name__)

LOOKUP_PATH = "members/lookup"
MAX_RESPONSE_BYTES = 1_000_000
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class _In(BaseModel):
    # Member systems send more than veiviser needs; the rest is ignored.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class _RepresentativeIn(_In):
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)


class _EnrolmentIn(_In):
    title: str = Field(min_length=1, max_length=200)
    status: Literal["enrolled", "waitlisted", "completed", "cancelled"]
    starts_on: date | None = None
    place: str | None = Field(default=None, max_length=200)


class _InvoiceIn(_In):
    number: str = Field(min_length=1, max_length=40)
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    amount: Decimal = Field(ge=0, le=Decimal("10000000"))
    due_on: date
    paid_on: date | None = None


class _RecordIn(_In):
    member_number: str = Field(min_length=1, max_length=40)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(default="", max_length=100)
    joined_on: date | None = None
    employer: str | None = Field(default=None, max_length=200)
    representatives: list[_RepresentativeIn] = Field(
        default_factory=list, max_length=20
    )
    enrolments: list[_EnrolmentIn] = Field(default_factory=list, max_length=200)
    invoices: list[_InvoiceIn] = Field(default_factory=list, max_length=500)

    def to_record(self) -> MemberRecord:
        enrolments = sorted(
            self.enrolments, key=lambda e: (e.starts_on or date.max, e.title)
        )
        invoices = sorted(
            self.invoices, key=lambda i: (i.due_on, i.number), reverse=True
        )
        return MemberRecord(
            member_number=self.member_number,
            first_name=self.first_name,
            last_name=self.last_name,
            joined_on=self.joined_on,
            employer=self.employer,
            representatives=tuple(
                Representative(**r.model_dump()) for r in self.representatives
            ),
            enrolments=tuple(Enrolment(**e.model_dump()) for e in enrolments),
            invoices=tuple(Invoice(**i.model_dump()) for i in invoices),
        )


class CircuitBreaker:
    """Stops calling a system that keeps failing, and tries again later.

    Closed: calls go through. After ``failures`` failures in a row it opens
    for ``cool_off_seconds``: calls fail at once. Then one call is let
    through; success closes it, failure opens it again.

    The state is this process's own on purpose: each process learns for
    itself whether it can reach the member system, and a process that has
    not seen the failures simply tries.
    """

    def __init__(
        self,
        failures: int,
        cool_off_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = max(1, failures)
        self.cool_off_seconds = cool_off_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._failed_in_row = 0
        self._open_until: float | None = None

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open_until is not None and self.clock() < self._open_until

    def allow(self) -> bool:
        """Whether a call may go through now (half-open lets one through)."""
        with self._lock:
            if self._open_until is None:
                return True
            if self.clock() < self._open_until:
                return False
            # Half-open: this caller tries; others wait for its outcome.
            self._open_until = self.clock() + self.cool_off_seconds
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._failed_in_row = 0
            self._open_until = None

    def failed(self) -> None:
        with self._lock:
            self._failed_in_row += 1
            if self._failed_in_row >= self.failures:
                if self._open_until is None:
                    log.warning(
                        "member system failed %d times in a row; pausing calls "
                        "for %.0f s",
                        self._failed_in_row,
                        self.cool_off_seconds,
                    )
                self._open_until = self.clock() + self.cool_off_seconds


class _Retry(Exception):
    """An attempt failed in a way another attempt may fix."""


class HttpDirectory:
    """Looks members up in an external member system over HTTP.

    Args:
        base_url: the member system's base URL.
        token: bearer token the member system expects.
        timeout_seconds: limit for connecting and for each read.
        retries: further attempts after a failed one.
        backoff_seconds: pause before the first retry; doubled each time.
        breaker: the circuit breaker; one with 5 failures and 30 s by default.
        transport: an httpx transport (tests); the network by default.
        sleep: how to pause between attempts (tests pass their own).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_seconds: float = 2.0,
        retries: int = 1,
        backoff_seconds: float = 0.2,
        breaker: CircuitBreaker | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.retries = max(0, retries)
        self.backoff_seconds = backoff_seconds
        self.breaker = breaker or CircuitBreaker(5, 30.0)
        self.sleep = sleep
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # Limitation: httpx times each connect and read, not the whole call,
        # so a system that trickles bytes can hold a lookup longer than
        # timeout_seconds; a deadline around the call (a worker thread with
        # its own limit) would retire this.
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=False,
            # Proxy variables of the environment are not followed: the
            # member system is reached directly or not at all.
            trust_env=False,
            transport=transport,
        )

    def lookup(self, member_id: str) -> MemberRecord | None:
        """The member's record, or None when the system does not know the id.

        Raises:
            DirectoryUnavailable: the system is down, slow, refuses veiviser
                or answers with something that is not a record.
        """
        if not self.breaker.allow():
            raise DirectoryUnavailable("The member system is paused after failures.")
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                record = self._attempt(member_id)
            except _Retry as problem:
                log.info("member system attempt %d failed: %s", attempt + 1, problem)
                continue
            except DirectoryUnavailable:
                self.breaker.failed()
                raise
            self.breaker.succeeded()
            return record
        self.breaker.failed()
        raise DirectoryUnavailable("The member system did not answer in time.")

    def close(self) -> None:
        """Close the connections to the member system."""
        self._client.close()

    def _attempt(self, member_id: str) -> MemberRecord | None:
        try:
            response = self._client.post(LOOKUP_PATH, json={"id": member_id})
        except httpx.TimeoutException as error:
            raise _Retry("timeout") from error
        except httpx.TransportError as error:
            raise _Retry(type(error).__name__) from error
        if response.status_code == 404:
            return None
        if response.status_code in RETRY_STATUSES:
            raise _Retry(f"status {response.status_code}")
        if response.status_code != 200:
            log.error(
                "member system refused the lookup with status %d; check "
                "VEIVISER_MEMBER_API_TOKEN",
                response.status_code,
            )
            raise DirectoryUnavailable(
                f"The member system answered {response.status_code}."
            )
        return _parse(response)


def _parse(response: httpx.Response) -> MemberRecord:
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise DirectoryUnavailable("The member system's answer is too large.")
    try:
        return _RecordIn.model_validate_json(response.content).to_record()
    except ValidationError as error:
        # Only the fields' locations are logged, never their values.
        where = sorted({".".join(map(str, e["loc"])) for e in error.errors()})
        log.error("member system answered with an invalid record: %s", where)
        raise DirectoryUnavailable(
            "The member system's answer is not a record."
        ) from None
