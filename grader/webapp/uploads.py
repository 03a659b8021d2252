"""An uploaded photo, read with Pillow inside fixed limits, or one clear message why not.

Uploads are hostile input like everything else: an empty body, a text file, 50 MB, a PNG that
claims 60 000 x 60 000 pixels (a decompression bomb), a file cut off in the middle, a palette image
with transparency, a phone photo stored sideways with an EXIF orientation. Each ends in an
:class:`UploadError` whose text the page shows as it is; nothing here raises anything else.

The limits are checked before the pixels are decoded: Pillow reads the header first
(``Image.open`` is lazy), so a bomb is refused by its declared size, not after it filled memory.
"""

from __future__ import annotations

import io
import warnings

from ..i18n import _

#: Bytes an upload may have (the page refuses larger files before sending them, too).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Pixels an image may declare (Pillow's own bomb warning starts at about 89 million).
MAX_PIXELS = 40_000_000
#: Formats Pillow is allowed to try (no EPS, no PDF, nothing that runs an outside program).
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
#: The longer side of the picture the page shows (the model itself sees 64 x 64).
DISPLAY_SIZE = 640


class UploadError(Exception):
    """An upload that cannot be used; ``str()`` is the message for the page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def too_large_message(size: int) -> str:
    return _("The file has {size} MB; at most {limit} MB can be uploaded. Take a smaller photo.").format(
        size=f"{size / 2**20:.1f}", limit=f"{MAX_UPLOAD_BYTES / 2**20:g}")


def read_photo(data: bytes):
    """``data`` as an RGB PIL image, upright (EXIF orientation applied), transparency on white,
    at most :data:`DISPLAY_SIZE` pixels on its longer side."""
    from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

    if not data:
        raise UploadError(_("The file is empty. Choose a photo (PNG or JPEG)."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(too_large_message(len(data)), status=413)
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except UnidentifiedImageError:
            raise UploadError(_("This is not an image Pillow can read. Upload a PNG, JPEG, WebP, GIF or BMP "
                                "photo.")) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _bomb() from None
        except Exception as exc:  # noqa: BLE001 - any other decoder complaint is a broken file
            raise UploadError(_("The image could not be read: {why}").format(why=_short(exc))) from None
        width, height = image.size
        if width < 1 or height < 1 or width * height > MAX_PIXELS:
            raise _bomb()
        try:
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
            image = image.convert("RGB")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _bomb() from None
        except Exception as exc:  # noqa: BLE001 - truncated data, a bad checksum, a broken EXIF block
            raise UploadError(_("The image is damaged or incomplete (was the upload cut off?): {why}").format(
                why=_short(exc))) from None
    image.thumbnail((DISPLAY_SIZE, DISPLAY_SIZE), Image.Resampling.LANCZOS)
    return image


def _bomb() -> UploadError:
    return UploadError(_("The image declares more pixels than it may have (a decompression bomb?); at most {limit} "
                         "million pixels.").format(limit=MAX_PIXELS // 10**6), status=413)


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
