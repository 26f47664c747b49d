"""What keeps a public Space serving: limits checked before any work, images decoded only by
``colorizer.open_image`` (which reads the size from the header first), user errors logged on
one line.

- Request bodies over ``MAX_BODY_BYTES`` get 413 before they are read (:class:`BodyLimit`).
- Uploads over ``MAX_UPLOAD_BYTES`` are refused by Gradio (``max_file_size``); base64 data URLs
  over it are refused before they are decoded.
- Gradio decodes the images of ``gr.ImageEditor`` / ``gr.Sketchpad`` itself, before a handler
  runs (a 37 KB PNG of 13000 x 13000 took 7 GB there); :func:`raw_editor` makes them hand over
  the raw files instead, and keeps the in-memory blobs their browser side uploads bounded.
"""

import base64
import binascii
import contextlib
import logging
import types
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder
from starlette.requests import ClientDisconnect

__all__ = ["MAX_UPLOAD_BYTES", "MAX_BODY_BYTES", "EDITOR_MAX_PIXELS", "BodyLimit", "user_error", "raw_source", "raw_editor",
           "empty_cache_at_shutdown"]

log = logging.getLogger("webapp")

MAX_UPLOAD_BYTES = 40 * 2**20  # one image file (Gradio's max_file_size)
# A body carries one image at most: as a file (multipart) or as base64 (4/3 of its size), plus
# a little JSON. Hints are limited far below this by the library (MAX_HINTS_JSON_BYTES).
MAX_BODY_BYTES = MAX_UPLOAD_BYTES * 4 // 3 + 2**20
# The app's editors make their own images: the sketch canvas (384 x 384) and the hint editor's
# display copy (long side at most 768). Anything larger did not come from them.
EDITOR_MAX_PIXELS = 1024 * 1024
MAX_EDITOR_LAYERS = 8
MAX_BLOB_BYTES = 256 * 2**20  # editor uploads waiting for their event, all sessions together


def user_error(message):
    """A ``gr.Error`` for something the user did, logged here as one line: Gradio would print a
    traceback for each (28 lines, for a wrong file type)."""
    message = " ".join(str(message).split())
    log.warning("user error: %s", message)
    return gr.Error(message, print_exception=False)


class BodyLimit:
    """ASGI middleware: an HTTP request whose body is over ``max_bytes`` gets 413 and is not
    read: by its Content-Length when it has one, else counted as it arrives."""

    def __init__(self, app, max_bytes=MAX_BODY_BYTES):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.max_bytes:
            return await self._refuse(send)
        received, started = 0, False

        async def counted_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        async def watched_send(message):
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)
        except ClientDisconnect:  # a client that gave up mid-upload: no bug here, no traceback
            log.warning("client disconnected during %s %s", scope.get("method"), scope.get("path"))

    async def _refuse(self, send):
        log.warning("user error: request body over %d bytes refused", self.max_bytes)
        body = f"request body too large: the limit is {self.max_bytes:,} bytes".encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def raw_source(payload):
    """A ``FileData`` -> its file's path, or the bytes of a base64 data URL (refused unread when
    it would decode to more than ``MAX_UPLOAD_BYTES``); None for None."""
    if payload is None:
        return None
    url = payload.url or ""
    if url.startswith("data:"):  # base64 from an API call
        data = url.partition(",")[2]
        if len(data) > (MAX_UPLOAD_BYTES + 2) // 3 * 4:
            raise user_error(f"the image is too large: {len(data) * 3 // 4:,} bytes, the limit is {MAX_UPLOAD_BYTES:,}")
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error:
            raise user_error("the image is not valid base64 data") from None
    return None if payload.path is None else str(payload.path)


def _editor_preprocess(self, payload):
    """Preprocess of :func:`raw_editor`: {"background", "layers", "composite"} as file paths or
    bytes, undecoded; the handler opens them with ``colorizer.open_image``."""
    if payload is None:
        return None
    if payload.id is not None:  # the browser sent the images before, through accept_blobs
        blobs = self.blob_storage.pop(payload.id, None)
        if blobs is None:
            return None
        return {"background": blobs.background, "layers": [b for b in blobs.layers if b is not None],
                "composite": blobs.composite}
    if len(payload.layers) > MAX_EDITOR_LAYERS:
        raise user_error(f"too many layers: {len(payload.layers)}, the limit is {MAX_EDITOR_LAYERS}")
    return {"background": raw_source(payload.background), "layers": [raw_source(layer) for layer in payload.layers],
            "composite": raw_source(payload.composite)}


def _bounded_accept_blobs(self, data):
    """Gradio's ``accept_blobs``, with the layer index, each blob's size and the bytes held for
    all pending edits bounded (the original grows a list to any index a request names and
    keeps every blob that no event collects)."""
    index = data.data.get("index")
    if index not in (None, "", "null") and not (str(index).isdigit() and int(index) < MAX_EDITOR_LAYERS):
        raise user_error(f"layer index must be below {MAX_EDITOR_LAYERS}")
    if not data.files or len(data.files[0][1]) > MAX_UPLOAD_BYTES:
        raise user_error(f"an editor image must be at most {MAX_UPLOAD_BYTES:,} bytes")
    result = self._gradio_accept_blobs(data)
    stored = {key: sum(len(b or b"") for b in (v.background, v.composite, *v.layers)) for key, v in self.blob_storage.items()}
    while len(stored) > 1 and sum(stored.values()) > MAX_BLOB_BYTES:  # the oldest edits go first
        oldest = next(iter(stored))
        self.blob_storage.pop(oldest, None)
        del stored[oldest]
    return result


_bounded_accept_blobs._is_server_fn = True  # Gradio calls only functions marked so


def raw_editor(editor):
    """``editor`` (a ``gr.ImageEditor`` or ``gr.Sketchpad``) made to pass its images undecoded,
    as file paths or bytes, and to bound what it keeps in memory. Instance overrides, not a
    subclass: Gradio writes a ``.pyi`` stub next to any module that subclasses a component."""
    editor._gradio_accept_blobs = editor.accept_blobs
    editor.preprocess = types.MethodType(_editor_preprocess, editor)
    editor.accept_blobs = types.MethodType(_bounded_accept_blobs, editor)
    return editor


@contextlib.asynccontextmanager
async def empty_cache_at_shutdown(app):
    """Lifespan of the server: when it stops, every file this app put in Gradio's cache goes,
    with the folders that held them. Gradio's own ``delete_cache`` keeps the cached copies of
    the examples, the emptied folders (one per file) and the upload parser's temporary files
    of clients that disconnected mid-upload (9 after a 50-client load test)."""
    yield
    blocks = app.get_blocks()
    files = set().union(*blocks.temp_file_sets)
    for block in blocks.blocks.values():
        files |= set(getattr(block, "keep_in_cache", ()))
    # Gradio's multipart parser leaves its temporary file behind when a client disconnects mid-upload.
    files |= {str(p) for p in Path(get_upload_folder()).glob("tmp*") if p.is_file()}
    for file in files:
        path = Path(file)
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # still holds other files: kept
            if path.parent != Path(get_upload_folder()):
                path.parent.rmdir()
