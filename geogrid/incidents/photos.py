"""Photos of incidents: checked (a real JPEG, PNG or WebP image, within the size limit, not a
decompression bomb), stored in the photo folder under a random name with a thumbnail beside it,
and read back. The database keeps each photo's record (:mod:`geogrid.db.incidents`).

>>> import io, tempfile
>>> from PIL import Image
>>> buf = io.BytesIO(); Image.new("RGB", (800, 600), "red").save(buf, "JPEG")
>>> folder = PhotoFolder(tempfile.mkdtemp())
>>> p = folder.save(buf.getvalue())
>>> p.content_type, p.width, p.height
('image/jpeg', 800, 600)
>>> folder.read(p.key, thumb=True)[1]
'image/jpeg'
>>> folder.save(b"GIF89a not really")
Traceback (most recent call last):
...
geogrid.errors.InputError: a photo must be a JPEG, PNG or WebP image
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, NotFound

#: The image formats accepted, by Pillow's name, and their media types.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
#: Larger images (in pixels) are refused before they are decoded.
MAX_PIXELS = 50_000_000
#: A thumbnail's longer side, in pixels.
THUMB = 320
_EXT = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


@dataclass(frozen=True)
class Photo:
    """A stored photo: its file's key and what was checked of it."""

    key: str
    content_type: str
    size: int
    width: int
    height: int


class PhotoFolder:
    """The folder photos are kept in (``GEOGRID_PHOTO_DIR``; by default ``photos/`` in the
    instance folder), and the largest photo accepted, in bytes."""

    def __init__(self, path: str | Path, *, max_bytes: int = 10 * 2**20):
        self.path = Path(path)
        self.max_bytes = max_bytes

    def check(self, data: bytes):
        """The decoded image of ``data``; :class:`InputError` saying why it is refused."""
        from PIL import Image

        if not data:
            raise InputError("a photo is empty")
        if len(data) > self.max_bytes:
            raise InputError(
                f"a photo may have at most {self.max_bytes // 2**20} MB, this one has "
                f"{len(data) / 2**20:.1f} MB"
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(io.BytesIO(data))
                if img.format not in FORMATS:
                    raise InputError("a photo must be a JPEG, PNG or WebP image")
                if img.width * img.height > MAX_PIXELS:
                    raise InputError(f"a photo may have at most {MAX_PIXELS:,} pixels")
                img.load()
        except InputError:
            raise
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
                Image.DecompressionBombError):  # fmt: skip
            raise InputError("a photo must be a JPEG, PNG or WebP image") from None
        return img

    def save(self, data: bytes) -> Photo:
        """Check ``data``, then write it and its thumbnail; the :class:`Photo` to record."""
        from PIL import ImageOps

        img = self.check(data)
        kind = FORMATS[img.format]
        key = secrets.token_hex(16) + _EXT[kind]
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / key).write_bytes(data)
        thumb = ImageOps.exif_transpose(img).convert("RGB")
        thumb.thumbnail((THUMB, THUMB))
        thumb.save(self.path / _thumb(key), "JPEG", quality=80)
        return Photo(key, kind, len(data), img.width, img.height)

    def save_all(self, files) -> list[Photo]:
        """Save every photo of ``files`` (bytes each), or none: on a refusal those already
        written are removed."""
        saved: list[Photo] = []
        try:
            for data in files:
                saved.append(self.save(data))
        except BaseException:
            self.remove(saved)
            raise
        return saved

    def remove(self, photos) -> None:
        """Delete photos' files (their record was never written)."""
        for p in photos:
            for name in (p.key, _thumb(p.key)):
                (self.path / name).unlink(missing_ok=True)

    def read(self, key: str, *, thumb: bool = False) -> tuple[bytes, str]:
        """(the bytes, media type) of a photo or its thumbnail."""
        if "/" in key or "\\" in key or key.startswith("."):
            raise NotFound("no such photo")
        name = _thumb(key) if thumb else key
        try:
            data = (self.path / name).read_bytes()
        except FileNotFoundError:
            raise NotFound("the photo's file is missing from the photo folder") from None
        kind = "image/jpeg" if thumb else next(
            (k for k, ext in _EXT.items() if key.endswith(ext)), "application/octet-stream"
        )  # fmt: skip
        return data, kind


def _thumb(key: str) -> str:
    return key.rsplit(".", 1)[0] + ".thumb.jpg"
