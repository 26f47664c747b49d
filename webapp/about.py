"""The "API & about" tab and the public API endpoints (``/colorize``, ``/colorize_hints``)."""

import os
import re

import gradio as gr

from webapp.widgets import fast_png, raw_image

API_DOC = """
### Use it from Python
```python
from gradio_client import Client, handle_file
client = Client("{url}")
colorized, info = client.predict(handle_file("photo.jpg"), api_name="/colorize")
print(colorized)  # path of the colorized PNG (same size as the input)
print(info)       # model, size, seconds; PSNR of output and gray vs the input when it was in color
```
Pass `model_name="seed_cnn"` (any id from the *Numbers* section at the top) to pick a model. With color hints
(pixel column, row and 8-bit color of points whose color you know, in input pixels):
```python
colorized = client.predict(handle_file("photo.jpg"), "[[40, 30, [200, 30, 30]], [90, 100, [40, 90, 200]]]",
                           api_name="/colorize_hints")
```

### About the models
Trained on small images from CIFAR-10 and Linnaeus 5; *Best* (the default) and *Vivid (trial)*
also on crops of free photographs and clip-art from Debian packages (see the *Training* tab). The
network sees a small version of your image (64 px on its long side for these two); its color
guess is brought back to full size guided by your image's own edges. Examples: CIFAR-10 and
Linnaeus 5 **test** images (never trained on) and
Noto Color Emoji characters (SIL Open Font License 1.1) as out-of-dataset pictures.
"""


def served_url(request: gr.Request):
    """What a client passes to ``Client``: the Space's id on Spaces, else the address this page
    was served from (a proxy's forwarded host and scheme first, as Gradio resolves its own root)."""
    if os.environ.get("SPACE_ID"):
        return os.environ["SPACE_ID"]
    headers = request.headers if request is not None else {}
    host = (headers.get("x-forwarded-host") or headers.get("host") or "").split(",")[0].strip()
    if not re.fullmatch(r"[A-Za-z0-9.\-]+(:[0-9]+)?|\[[0-9A-Fa-f:.]+\](:[0-9]+)?", host):
        host = "127.0.0.1:7860"  # none, or not a host name: never echo arbitrary header text into the page
    scheme = (headers.get("x-forwarded-proto") or getattr(getattr(request, "url", None), "scheme", "") or "http").split(",")[0].strip()
    return f"{'https' if scheme == 'https' else 'http'}://{host}/"


def api_doc(request: gr.Request):
    return API_DOC.format(url=served_url(request))


def about_tab(demo):
    with gr.Tab("API & about", id="about"):
        doc = gr.Markdown(API_DOC.format(url=os.environ.get("SPACE_ID") or "http://127.0.0.1:7860/"), elem_id="api-doc")
    demo.load(api_doc, None, [doc], api_visibility="undocumented", queue=False)


def api_endpoints(handlers, hint_handlers, model):
    """The public API endpoints, on hidden components: image (and hints) in, colorized image first."""
    with gr.Column(visible=False):
        api_in = raw_image(label="image")
        api_out = fast_png(gr.Image(format="png", type="pil", label="colorized"))
        api_info = gr.JSON(label="info")
        api_btn = gr.Button("colorize")
        api_hints = gr.Textbox(label="hints_json", value="[]")
        api_hints_btn = gr.Button("colorize_hints")
    api_btn.click(handlers.colorize_api, [api_in, model], [api_out, api_info], api_name="colorize",
                  api_description="Colorize an image; returns the colorized PNG and a dict of numbers.")
    api_hints_btn.click(hint_handlers.colorize_api, [api_in, api_hints, model], [api_out], api_name="colorize_hints",
                        api_description="Colorize an image guided by color hints, JSON [[x, y, [r, g, b]], ...] in input pixels.")
