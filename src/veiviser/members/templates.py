"""The placeholder language of personal answers.

A personal answer is Markdown with placeholders in braces, filled from the
member's record. Nothing in a template is ever executed: a placeholder is a
name looked up in a fixed table, so an editor can write only what this module
offers.

- ``{fornavn}``, ``{tillitsvalgt.navn}``: one value, escaped so that a name
  holding Markdown or HTML shows as text.
- ``{kurs:liste}``: a Markdown list; it must stand on a line of its own.
- ``{{`` and ``}}``: literal braces.

A value the record lacks is shown as the text ``member_missing`` ("ikke
registrert"), an empty list as its own "none" text. Every word a member reads
comes from the dialogue's texts file through ``words``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from veiviser.members.errors import PersonalTemplateError
from veiviser.members.records import Enrolment, Invoice, MemberRecord, Representative

# words(key, **values) -> text; the dialogue's Texts.get fits.
Words = Callable[..., str]

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]{0,80})\}|[{}]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&\"'=:])")
_EMAIL = re.compile(r"^[^@\s<>()\[\]]+@[^@\s<>()\[\]]+\.[A-Za-z]{2,}$")
NBSP = "\u00a0"
# The newest invoices shown in a list; older ones are on Min side.
MAX_INVOICES_LISTED = 6


def escape(value: str) -> str:
    """A member's value as Markdown that renders exactly as the text itself."""
    flat = " ".join(value.split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def norwegian_date(value: date) -> str:
    """``20.03.2027``: the numeric date form used in Norway."""
    return value.strftime("%d.%m.%Y")


def norwegian_amount(amount: Decimal) -> str:
    """``1 234,50``: comma decimals and a non-breaking thousands space."""
    rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, _, cents = f"{rounded:,.2f}".partition(".")
    return whole.replace(",", NBSP) + "," + cents


@dataclass(frozen=True)
class _Fill:
    record: MemberRecord
    words: Words
    today: date

    def missing(self) -> str:
        return escape(self.words("member_missing"))

    def value(self, text: str | None) -> str:
        return escape(text) if text else self.missing()

    def amount(self, amount: Decimal) -> str:
        return escape(self.words("member_amount", amount=norwegian_amount(amount)))

    def representative(self) -> Representative | None:
        return self.record.representatives[0] if self.record.representatives else None

    def active_courses(self) -> list[Enrolment]:
        return [e for e in self.record.enrolments if e.status != "cancelled"]

    def latest_invoice(self) -> Invoice | None:
        return self.record.invoices[0] if self.record.invoices else None


def _representative_field(name: str) -> Callable[[_Fill], str]:
    def fill(context: _Fill) -> str:
        representative = context.representative()
        if representative is None:
            return context.missing()
        if name == "email":
            return _email_link(representative.email) or context.missing()
        if name == "phone":
            return _phone_link(representative.phone) or context.missing()
        return context.value(getattr(representative, name))

    return fill


def _invoice_field(name: str) -> Callable[[_Fill], str]:
    def fill(context: _Fill) -> str:
        invoice = context.latest_invoice()
        if invoice is None:
            return context.missing()
        if name == "amount":
            return context.amount(invoice.amount)
        if name == "due_on":
            return escape(norwegian_date(invoice.due_on))
        if name == "status":
            return _invoice_status(invoice, context)
        return context.value(getattr(invoice, name))

    return fill


def _email_link(email: str | None) -> str | None:
    if not email:
        return None
    if not _EMAIL.match(email):
        return escape(email)
    return f"[{escape(email)}](mailto:{email})"


def _phone_link(phone: str | None) -> str | None:
    if not phone:
        return None
    digits = "".join(c for c in phone if c.isdigit() or c == "+")
    if not digits:
        return escape(phone)
    return f"[{escape(phone)}](tel:{digits})"


def _invoice_status(invoice: Invoice, context: _Fill) -> str:
    status = invoice.status(context.today)
    if status == "paid" and invoice.paid_on is not None:
        return escape(
            context.words("member_invoice_paid", date=norwegian_date(invoice.paid_on))
        )
    return escape(context.words(f"member_invoice_{status}"))


def _next_course(context: _Fill) -> str:
    upcoming = [
        e
        for e in context.active_courses()
        if e.status == "enrolled" and e.starts_on and e.starts_on >= context.today
    ]
    if not upcoming:
        return escape(context.words("member_no_next_course"))
    first = min(upcoming, key=lambda e: e.starts_on or context.today)
    return _course_line(first, context)


def _unpaid_total(context: _Fill) -> str:
    unpaid = [i.amount for i in context.record.invoices if i.paid_on is None]
    return context.amount(sum(unpaid, Decimal(0)))


def _course_line(enrolment: Enrolment, context: _Fill) -> str:
    parts = [f"**{escape(enrolment.title)}**"]
    if enrolment.starts_on:
        parts.append(escape(norwegian_date(enrolment.starts_on)))
    if enrolment.place:
        parts.append(escape(enrolment.place))
    status = escape(context.words(f"member_course_{enrolment.status}"))
    return ", ".join(parts) + f" ({status})"


def _course_list(context: _Fill) -> str:
    courses = context.active_courses()
    if not courses:
        return escape(context.words("member_no_courses"))
    return "\n".join(f"- {_course_line(e, context)}" for e in courses)


def _representative_line(representative: Representative) -> str:
    line = f"**{escape(representative.name)}**"
    if representative.role:
        line += f" ({escape(representative.role)})"
    contact = [
        link
        for link in (
            _email_link(representative.email),
            _phone_link(representative.phone),
        )
        if link
    ]
    return line + (": " + ", ".join(contact) if contact else "")


def _representative_list(context: _Fill) -> str:
    if not context.record.representatives:
        return escape(context.words("member_no_representative"))
    return "\n".join(
        f"- {_representative_line(r)}" for r in context.record.representatives
    )


def _invoice_list(context: _Fill) -> str:
    invoices = context.record.invoices[:MAX_INVOICES_LISTED]
    if not invoices:
        return escape(context.words("member_no_invoices"))
    lines = []
    for invoice in invoices:
        text = context.words(
            "member_invoice_line",
            number=invoice.number,
            period=invoice.period,
            amount=context.words(
                "member_amount", amount=norwegian_amount(invoice.amount)
            ),
            due=norwegian_date(invoice.due_on),
        )
        lines.append(f"- {escape(text)}: {_invoice_status(invoice, context)}")
    return "\n".join(lines)


# Every placeholder there is. Values fill in place; lists need a line each.
VALUES: dict[str, Callable[[_Fill], str]] = {
    "fornavn": lambda c: c.value(c.record.first_name),
    "etternavn": lambda c: c.value(c.record.last_name),
    "navn": lambda c: c.value(c.record.full_name),
    "medlemsnummer": lambda c: c.value(c.record.member_number),
    "innmeldt": lambda c: (
        escape(norwegian_date(c.record.joined_on))
        if c.record.joined_on
        else c.missing()
    ),
    "arbeidsgiver": lambda c: c.value(c.record.employer),
    "tillitsvalgt.navn": _representative_field("name"),
    "tillitsvalgt.rolle": _representative_field("role"),
    "tillitsvalgt.epost": _representative_field("email"),
    "tillitsvalgt.telefon": _representative_field("phone"),
    "kurs.antall": lambda c: str(len(c.active_courses())),
    "kurs.neste": _next_course,
    "faktura.siste.nummer": _invoice_field("number"),
    "faktura.siste.periode": _invoice_field("period"),
    "faktura.siste.belop": _invoice_field("amount"),
    "faktura.siste.forfall": _invoice_field("due_on"),
    "faktura.siste.status": _invoice_field("status"),
    "faktura.ubetalt": _unpaid_total,
}
LISTS: dict[str, Callable[[_Fill], str]] = {
    "kurs:liste": _course_list,
    "tillitsvalgt:liste": _representative_list,
    "faktura:liste": _invoice_list,
}
PLACEHOLDERS: tuple[str, ...] = (*VALUES, *LISTS)


ProblemKind = Literal["unknown", "lone_brace", "list_not_alone"]


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong in a template, for the editor to be told in their words.

    Attributes:
        kind: ``unknown`` (no such placeholder), ``lone_brace`` (a ``{`` or
            ``}`` that is not part of a placeholder) or ``list_not_alone`` (a
            list placeholder that shares its line with other text).
        token: the text that is wrong, as written.
        line: the template line it is on, counting from 1.
    """

    kind: ProblemKind
    token: str
    line: int

    def __str__(self) -> str:
        if self.kind == "lone_brace":
            return (
                f"line {self.line}: a lone {self.token!r}; write "
                f"{self.token * 2!r} for a literal brace"
            )
        if self.kind == "list_not_alone":
            return f"line {self.line}: {self.token} must stand on a line of its own"
        return (
            f"line {self.line}: unknown placeholder {self.token}; known: "
            + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        )


def check_template(template: str) -> None:
    """Make sure a template uses only known placeholders, each where it may.

    Raises:
        PersonalTemplateError: naming every unknown placeholder, lone brace
            or list placeholder that does not stand on its own line.
    """
    problems = template_problems(template)
    if problems:
        described = [str(problem) for problem in problems]
        raise PersonalTemplateError(
            "The personal answer template is invalid: " + "; ".join(described),
            details={"problems": described},
        )


def template_problems(template: str) -> list[TemplateProblem]:
    """Every problem of a template, in the order they appear (none: it is valid)."""
    problems: list[TemplateProblem] = []
    for number, line in enumerate(template.splitlines() or [""], start=1):
        for match in _TOKEN.finditer(line):
            token = match.group(0)
            if token in ("{{", "}}"):
                continue
            name = match.group(1)
            if name is None:
                problems.append(TemplateProblem("lone_brace", token, number))
            elif name.strip() in LISTS:
                if line.strip() != token:
                    problems.append(TemplateProblem("list_not_alone", token, number))
            elif name.strip() not in VALUES:
                problems.append(TemplateProblem("unknown", token, number))
    return problems


def fill_template(
    template: str, record: MemberRecord, words: Words, today: date
) -> str:
    """The template as Markdown with the member's values filled in.

    Args:
        template: a template that passes ``check_template``.
        record: the member's record.
        words: the texts lookup (key and values to text).
        today: the date invoices and courses are judged by.

    Raises:
        PersonalTemplateError: the template is invalid.
    """
    check_template(template)
    context = _Fill(record, words, today)

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "\\{"
        if token == "}}":
            return "\\}"
        name = match.group(1).strip()
        fill = VALUES.get(name) or LISTS[name]
        return fill(context)

    return _TOKEN.sub(replace, template)
