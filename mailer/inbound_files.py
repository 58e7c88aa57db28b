"""The files of an emailed post: attachments and inline images become post attachments through
threads.attachments, with the same checks of kind and size as the web. A file that cannot be accepted is left out
and named to the sender; it never costs them the post."""

import mimetypes
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from threads.attachments import check_upload

from .inbound_text import Reply


@dataclass
class Files:
    accepted: list[ContentFile] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # why, one line per file, for the sender


def files_of(message: MimeMessage, reply: Reply) -> Files:
    files = Files()
    for number, part in enumerate(_file_parts(message), start=1):
        refs = _refs(part)
        # Pictures in the quoted original or in the signature that was set aside (a logo) are not the member's.
        if not part.is_attachment() and refs & reply.quoted_images and not refs & reply.images:
            continue
        upload = ContentFile(_payload(part), name=_name(part, number))
        try:
            check_upload(upload)
        except ValidationError as error:
            files.left_out.extend(error.messages)
        else:
            files.accepted.append(upload)
    return files


def _file_parts(message: MimeMessage):
    """Every part that is a file rather than the text, not looking inside attached messages."""
    for part in message.iter_parts():
        if part.get_content_type() == "message/rfc822":
            yield part
        elif part.is_multipart():
            yield from _file_parts(part)
        elif part.is_attachment() or part.get_filename() or part.get_content_maintype() not in ("text", "multipart"):
            yield part


def _refs(part: MimeMessage) -> set[str]:
    """How the text may name this part: [cid:<Content-ID>] or [image: <file name>]."""
    refs = {(part.get("Content-ID") or "").strip().strip("<>").lower(), (part.get_filename() or "").lower()}
    return refs - {""}


def _name(part: MimeMessage, number: int) -> str:
    if part.get_content_type() == "message/rfc822":
        subject = part.get_payload(0).get("Subject", "") if part.get_payload() else ""
        return f"{str(subject).strip() or 'Attached message'}.eml"
    return part.get_filename() or f"file-{number}{mimetypes.guess_extension(part.get_content_type()) or ''}"


def _payload(part: MimeMessage) -> bytes:
    if part.get_content_type() == "message/rfc822":
        return part.as_bytes()
    return part.get_payload(decode=True) or b""
