"""Attachments on posts, and the files of library resources: checked by extension and by their first bytes, stored
under an unguessable name through Django's default storage, and downloaded only through
threads.post_views.download_attachment, which calls the access check. MEDIA_URL is never served."""

import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.template.defaultfilters import filesizeformat

from community.access import can_read

from .models import Attachment, Post, Resource
from .posts import may_see_body
from .selectors import get_readable_post

PDF, PNG, JPEG, GIF, WEBP = b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", (b"GIF87a", b"GIF89a"), b"WEBP"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office (.doc, .ppt, .xls)
ZIP = b"PK\x03\x04"


@dataclass(frozen=True)
class Kind:
    content_type: str
    label: str
    sniff: str  # which check of the first bytes the file must pass
    inline: bool = False  # shown in the browser rather than saved


OFFICE = "application/vnd.openxmlformats-officedocument"
KINDS = {
    ".pdf": Kind("application/pdf", "PDF", "pdf", inline=True),
    ".png": Kind("image/png", "PNG image", "png", inline=True),
    ".jpg": Kind("image/jpeg", "JPEG image", "jpeg", inline=True),
    ".jpeg": Kind("image/jpeg", "JPEG image", "jpeg", inline=True),
    ".gif": Kind("image/gif", "GIF image", "gif", inline=True),
    ".webp": Kind("image/webp", "WebP image", "webp", inline=True),
    ".docx": Kind(f"{OFFICE}.wordprocessingml.document", "Word document", "word/"),
    ".pptx": Kind(f"{OFFICE}.presentationml.presentation", "PowerPoint slides", "ppt/"),
    ".xlsx": Kind(f"{OFFICE}.spreadsheetml.sheet", "Excel workbook", "xl/"),
    ".doc": Kind("application/msword", "Word document", "ole"),
    ".ppt": Kind("application/vnd.ms-powerpoint", "PowerPoint slides", "ole"),
    ".xls": Kind("application/vnd.ms-excel", "Excel workbook", "ole"),
    ".txt": Kind("text/plain", "Text", "text"),
}
ALLOWED = ", ".join(sorted({ext.lstrip(".").upper() for ext in KINDS} - {"JPEG"}))


def _office_zip(upload, folder: str) -> bool:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        return False
    return "[Content_Types].xml" in names and any(name.startswith(folder) for name in names)


def _plain_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The sample may end inside a multi-byte character.
        return error.start >= len(head) - 3 and error.reason == "unexpected end of data"
    return True


def _looks_like(kind: Kind, upload) -> bool:
    upload.seek(0)
    head = upload.read(8192)
    match kind.sniff:
        case "pdf":
            return head.startswith(PDF)
        case "png":
            return head.startswith(PNG)
        case "jpeg":
            return head.startswith(JPEG)
        case "gif":
            return head.startswith(GIF)
        case "webp":
            return head.startswith(b"RIFF") and head[8:12] == WEBP
        case "ole":
            return head.startswith(OLE)
        case "text":
            return _plain_text(head)
        case folder:
            return head.startswith(ZIP) and _office_zip(upload, folder)


def check_upload(upload) -> Kind:
    """The file's kind, or ValidationError with a message for the member who chose the file."""
    name = PurePath(upload.name).name
    kind = KINDS.get(PurePath(name).suffix.lower())
    if kind is None:
        raise ValidationError(f"“{name}” is not a kind of file we accept. Allowed: {ALLOWED}.")
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(f"“{name}” is {filesizeformat(upload.size)}; the limit is "
                              f"{filesizeformat(settings.ATTACHMENT_MAX_BYTES)} per file.")
    if not _looks_like(kind, upload):
        raise ValidationError(f"“{name}” does not contain what its name says ({kind.label}). "
                              "Please check the file and choose it again.")
    upload.seek(0)
    return kind


def _store(uploads, uploaded_by, **owner) -> list[Attachment]:
    """Files are checked again here, so no caller can store one the form did not see."""
    attachments = []
    for upload in uploads:
        kind = check_upload(upload)
        attachments.append(Attachment.objects.create(
            uploaded_by=uploaded_by, file=upload, original_name=PurePath(upload.name).name[:255],
            content_type=kind.content_type, size=upload.size, **owner,
        ))
    return attachments


def save_attachments(post: Post, uploads, uploaded_by) -> list[Attachment]:
    return _store(uploads, uploaded_by, post=post)


def save_resource_files(resource: Resource, uploads, uploaded_by) -> list[Attachment]:
    """A library resource's files are attachments too: the same checks, storage and download view."""
    return _store(uploads, uploaded_by, resource=resource)


def is_inline(attachment: Attachment) -> bool:
    return any(kind.inline and kind.content_type == attachment.content_type for kind in KINDS.values())


def get_readable_attachment(user, attachment_id: int) -> Attachment:
    """The attachment of a post whose text the user may see, or a file of a library resource the user may read
    (approved: any member; otherwise its submitter and the moderators); 404 otherwise."""
    attachment = (Attachment.objects.filter(Q(post__isnull=False) | Q(resource__isnull=False), pk=attachment_id)
                  .select_related("resource").defer("resource__search_vector").first())
    if attachment is None:
        raise Http404
    if attachment.resource_id is not None:
        if not can_read(user, attachment.resource):
            raise Http404
    elif not may_see_body(user, get_readable_post(user, attachment.post_id)):
        raise Http404
    return attachment
