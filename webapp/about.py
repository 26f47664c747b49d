"""The "API & about" tab and the public API endpoints (``/colorize``, ``/colorize_hints``)."""

import os

import gradio as gr

from webapp.widgets import raw_image

API_DOC = """
### Use it from Python
```python
from gradio_client import Client, handle_file
client = Client("{url}")
colorized, info = client.predict(handle_file("photo.jpg"), api_name="/colorize")
print(colorized)  # path of the colorized PNG (same size as the input)
print(info)       # model, size, seconds; PSNR of output and gray vs the input when it was in color
```
Pass `model_name="seed_cnn"` (any name from the model list) to pick a model. With color hints
(pixel column, row and 8-bit color of points whose color you know, in input pixels):
```python
colorized = client.predict(handle_file("photo.jpg"), "[[40, 30, [200, 30, 30]], [90, 100, [40, 90, 200]]]",
                           api_name="/colorize_hints")
```

### About the models
Trained on small images from CIFAR-10 and Linnaeus 5 (see the *Training* tab). The network sees a
small version of your image; its color guess is brought back to full size guided by your
image's own edges. Examples: CIFAR-10 and Linnaeus 5 **test** images (never trained on) and
Noto Color Emoji characters (SIL Open Font License 1.1) as out-of-dataset pictures.
"""


def about_tab():
    with gr.Tab("API & about", id="about"):
        gr.Markdown(API_DOC.format(url=os.environ.get("SPACE_ID") or "http://127.0.0.1:7860/"))


def api_endpoints(handlers, hint_handlers, model):
    """The public API endpoints, on hidden components: image (and hints) in, colorized image first."""
    with gr.Column(visible=False):
        api_in = raw_image(label="image")
        api_out = gr.Image(format="png", type="pil", label="colorized")
        api_info = gr.JSON(label="info")
        api_btn = gr.Button("colorize")
        api_hints = gr.Textbox(label="hints_json", value="[]")
        api_hints_btn = gr.Button("colorize_hints")
    api_btn.click(handlers.colorize_api, [api_in, model], [api_out, api_info], api_name="colorize",
                  api_description="Colorize an image; returns the colorized PNG and a dict of numbers.")
    api_hints_btn.click(hint_handlers.colorize_api, [api_in, api_hints, model], [api_out], api_name="colorize_hints",
                        api_description="Colorize an image guided by color hints, JSON [[x, y, [r, g, b]], ...] in input pixels.")
