"""Checks of project submission files and repository links.

Contract:
- Files are stored by `exams.uploads` (private storage, random names); the
  learner's original name is kept on the row for display only.
- `check_upload(upload, *, allowed_types, archive_limit)` inspects one
  uploaded file and returns an `UploadCheck` (safe display name, extension,
  detected kind, content type, size), or raises:
  * 415 `unsupported_file_type` when the extension is not on the brief's
    allow-list or the content is not what the extension claims (magic bytes
    for pdf/zip/png/jpeg; UTF-8 text without NUL for text and code files);
  * 422 `unsafe_archive` for a zip that is unreadable, has absolute or `..`
    paths, symlinks, too many entries, or expands past `archive_limit` bytes
    (declared sizes and the real stream are both counted), or whose
    compression ratio looks like a bomb.
- `check_total_size(sizes, *, limit)` raises 413 `file_too_large`.
- `check_repository_url(url)` returns the cleaned URL or raises 422
  `invalid_repository_url` (http/https with a host, no credentials, no
  whitespace or control characters, at most 500 characters).
Nothing here writes to disk; the services store files only after every
check passed.
"""

from __future__ import annotations

import codecs
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings

from lms.errors import DomainError

# A hard ceiling whatever a brief says (the request is refused before parsing).
GLOBAL_MAX_UPLOAD_BYTES = getattr(settings, "PROJECT_UPLOAD_MAX_BYTES", 100 * 1024 * 1024)
MAX_FILES = 20
MAX_ARCHIVE_ENTRIES = 5000
# An archive may expand to this many times the brief's size limit, at most the cap.
ARCHIVE_EXPANSION_FACTOR = 10
ARCHIVE_MAX_UNCOMPRESSED_CAP = 500 * 1024 * 1024
# A member whose ratio is above this (and that is bigger than the floor) is a bomb.
MAX_COMPRESSION_RATIO = 100
RATIO_FLOOR_BYTES = 1024 * 1024
REPOSITORY_URL_MAX_LENGTH = 500
DISPLAY_NAME_MAX_LENGTH = 200
SNIFF_BYTES = 16

TEXT_EXTENSIONS = frozenset(
    "txt md markdown rst py js mjs ts tsx jsx java kt kts cs go rb php swift c h cpp hpp rs "
    "scala sql sh ps1 json yaml yml toml ini cfg xml html htm css scss csv tf gradle "
    "dockerfile env example".split()
)
KIND_EXTENSIONS = {
    "pdf": frozenset({"pdf"}),
    "zip": frozenset({"zip"}),
    "png": frozenset({"png"}),
    "jpeg": frozenset({"jpg", "jpeg"}),
    "text": TEXT_EXTENSIONS,
}
KIND_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "zip": "application/zip",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "text": "text/plain; charset=utf-8",
}
KNOWN_EXTENSIONS = frozenset().union(*KIND_EXTENSIONS.values())


class FileTooLarge(DomainError):
    status = 413
    code = "file_too_large"


class UnsupportedFileType(DomainError):
    status = 415
    code = "unsupported_file_type"


class UnsafeArchive(DomainError):
    status = 422
    code = "unsafe_archive"


class InvalidRepositoryUrl(DomainError):
    status = 422
    code = "invalid_repository_url"


# --- checks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadCheck:
    display_name: str
    extension: str
    kind: str
    content_type: str
    size: int


def display_name(raw: str | None) -> str:
    """The original name for display: base name only, no control characters, bounded."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > DISPLAY_NAME_MAX_LENGTH:
        stem, dot, ext = name.rpartition(".")
        name = stem[: DISPLAY_NAME_MAX_LENGTH - len(ext) - 1] + dot + ext if dot else name
        name = name[:DISPLAY_NAME_MAX_LENGTH]
    return name or "file"


def extension_of(name: str) -> str:
    suffix = PurePosixPath(name.lower()).suffix
    return suffix[1:] if suffix else name.lower()  # "Dockerfile" has no suffix


def check_total_size(sizes, *, limit: int) -> None:
    total = sum(sizes)
    if total > limit:
        raise FileTooLarge(
            f"The files add up to {total} bytes; this project accepts at most {limit} bytes.",
            limit=limit,
        )


def sniff_kind(upload) -> str | None:
    """What the bytes are (pdf, zip, png, jpeg, text) or None; never trusts the name."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return "text" if _is_utf8_text(upload) else None


def _is_utf8_text(upload) -> bool:
    """UTF-8 without NUL bytes, checked in chunks (no whole-file copy in memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    upload.seek(0)
    try:
        while chunk := upload.read(64 * 1024):
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        upload.seek(0)
    return True


_WINDOWS_DRIVE = re.compile(r"^[a-zA-Z]:")


def _unsafe_member_name(name: str) -> bool:
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or _WINDOWS_DRIVE.match(normalised):
        return True
    return any(part == ".." for part in normalised.split("/"))


def check_archive(upload, *, limit: int) -> None:
    """Refuse zip archives that escape their folder or expand past `limit` bytes."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_ENTRIES:
                raise UnsafeArchive(
                    f"The archive has more than {MAX_ARCHIVE_ENTRIES} entries.", reason="entries"
                )
            declared = 0
            for info in members:
                if _unsafe_member_name(info.filename):
                    raise UnsafeArchive(
                        "The archive contains an absolute or '..' path.", reason="path"
                    )
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise UnsafeArchive("The archive contains a symbolic link.", reason="symlink")
                declared += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
                    raise UnsafeArchive(
                        "The archive is compressed suspiciously well (a zip bomb?).",
                        reason="ratio",
                    )
            if declared > limit:
                raise UnsafeArchive(
                    f"The archive expands to more than {limit} bytes.", reason="too_large"
                )
            # Declared sizes can lie: decompress with a budget to be sure.
            budget = limit
            for info in members:
                if info.is_dir():
                    continue
                with archive.open(info) as member:
                    while chunk := member.read(64 * 1024):
                        budget -= len(chunk)
                        if budget < 0:
                            raise UnsafeArchive(
                                f"The archive expands to more than {limit} bytes.",
                                reason="too_large",
                            )
    except UnsafeArchive:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        RuntimeError,
        ValueError,
        OSError,
        EOFError,
    ) as error:
        # RuntimeError: encrypted members; NotImplementedError: unknown compression.
        raise UnsafeArchive("The archive cannot be read.", reason="unreadable") from error
    finally:
        upload.seek(0)


def archive_limit_for(max_upload_bytes: int) -> int:
    return min(max_upload_bytes * ARCHIVE_EXPANSION_FACTOR, ARCHIVE_MAX_UNCOMPRESSED_CAP)


def check_upload(upload, *, allowed_types, archive_limit: int) -> UploadCheck:
    name = display_name(getattr(upload, "name", ""))
    extension = extension_of(name)
    allowed = {str(ext).lower().lstrip(".") for ext in allowed_types}
    if extension not in allowed or extension not in KNOWN_EXTENSIONS:
        raise UnsupportedFileType(
            f"“{name}”: this project accepts {', '.join(sorted(allowed)) or 'no files'}.",
            allowed=sorted(allowed),
        )
    kind = sniff_kind(upload)
    if kind is None or extension not in KIND_EXTENSIONS[kind]:
        raise UnsupportedFileType(
            f"“{name}” is not a {extension} file (its content does not match its name).",
            allowed=sorted(allowed),
        )
    if kind == "zip":
        check_archive(upload, limit=archive_limit)
    return UploadCheck(
        display_name=name,
        extension=extension,
        kind=kind,
        content_type=KIND_CONTENT_TYPES[kind],
        size=upload.size,
    )


def check_repository_url(url: str | None) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    refused = InvalidRepositoryUrl(
        "The repository link must be an http:// or https:// address of a host."
    )
    if len(url) > REPOSITORY_URL_MAX_LENGTH:
        raise InvalidRepositoryUrl(
            f"The repository link is longer than {REPOSITORY_URL_MAX_LENGTH} characters."
        )
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url):
        raise refused
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise refused from None
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        raise refused
    if parts.username or parts.password:
        raise InvalidRepositoryUrl("The repository link must not contain a user name or password.")
    return url
