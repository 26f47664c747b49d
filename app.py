"""Colorizer web app: upload, sketch or pick an example, and see it colorized.

    python app.py            # serves on $GRADIO_SERVER_NAME:$GRADIO_SERVER_PORT (127.0.0.1:7860)

The models come from ``weights/`` (or ``$COLORIZER_WEIGHTS``), plus a Hub model repository when
``$COLORIZER_HUB_REPO`` names one. Tests import ``demo`` (and ``handlers``) without launching.
"""

import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if not os.environ.get("COLORIZER_HUB_REPO"):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # bundled weights only: never touch the network

import gradio as gr  # noqa: E402

import app_training  # noqa: E402
from app_hints import EXAMPLE_FILES, HintHandlers, editor_value, hint_editor  # noqa: E402
from app_support import Handlers, ModelBank, raw_image  # noqa: E402

bank = ModelBank()
handlers = Handlers(bank)
hint_handlers = HintHandlers(bank)
bank.warm_up()  # load the default model once, at start

INTRO = """
# 🎨 Colorizer
Black-and-white in, color out. A small convolutional network guesses the colors of a gray image;
the app keeps every detail of your picture (the output has your image's exact brightness and full
resolution) and only adds the color. Give it a **color** photo and it is first turned gray with the
original project's formula, so you can see how close the guess comes to the truth.
"""

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

CSS = """
.pixelated img, .pixelated canvas { image-rendering: pixelated; }
.result-image img { width: 100%; height: 100%; object-fit: contain; }
#intro { max-width: 900px; }
"""

THEME = gr.themes.Soft(primary_hue="orange", secondary_hue="violet", neutral_hue="slate")
# state_session_capacity: gradio keeps ~170 KB per session (measured), 10,000 sessions by default.
LAUNCH_OPTIONS = {"theme": THEME, "css": CSS, "max_file_size": "40mb", "state_session_capacity": 1000}
GRAYS = ["#000000", "#333333", "#666666", "#999999", "#cccccc", "#ffffff"]


def image_out(label, elem_id, height=300, **kwargs):
    return gr.Image(label=label, format="png", type="pil", interactive=False, height=height, elem_id=elem_id,
                    buttons=["download", "fullscreen"], elem_classes=["pixelated", "result-image"], **kwargs)


def result_panel(tab):
    """The outputs every colorize action fills: (colorized, gray, original, slider, metrics);
    element ids ``<tab>-colorized`` etc. (the browser tests find them by these)."""
    with gr.Row(equal_height=True):
        gray = image_out("Gray input", f"{tab}-gray")
        colorized = image_out("Colorized", f"{tab}-colorized")
        original = image_out("Original", f"{tab}-original", visible=False)
    slider = gr.ImageSlider(label="Before / after (drag)", format="png", type="pil", interactive=False,
                            max_height=420, elem_classes="pixelated", elem_id=f"{tab}-slider")
    metrics = gr.Markdown(elem_id=f"{tab}-metrics")
    return [colorized, gray, original, slider, metrics]


PRIVATE = {"api_visibility": "undocumented"}

with gr.Blocks(title="Colorizer: gray to color") as demo:
    gr.Markdown(INTRO, elem_id="intro")
    model = gr.Dropdown(choices=bank.choices(), value=bank.default, label="Model",
                        info="Every model in weights/, with its training epochs and validation PSNR; the best is preselected.")
    with gr.Tabs():
        with gr.Tab("Upload", id="upload"):
            with gr.Row():
                with gr.Column(scale=2):
                    upload = raw_image(elem_id="upload-input", label="Your image: any format, color or gray",
                                      sources=["upload", "clipboard"], height=320)
                    with gr.Accordion("Options", open=False):
                        mode = gr.Radio([("Full resolution (keeps every detail)", "full"),
                                         ("Raw network output, resized (as the original project showed it)", "seed")],
                                        value="full", label="Output")
                    upload_btn = gr.Button("Colorize", variant="primary", elem_id="upload-button")
                with gr.Column(scale=3):
                    upload_out = result_panel("upload")
            gr.on([upload.upload, upload_btn.click], handlers.colorize_upload, [upload, model, mode], upload_out, **PRIVATE)

        with gr.Tab("Sketch", id="sketch"):
            with gr.Row():
                with gr.Column(scale=2):
                    sketch = gr.Sketchpad(elem_id="sketch-input", label="Draw in gray on white", type="numpy", image_mode="RGBA",
                                          canvas_size=(384, 384), layers=False, transforms=(), format="png",
                                          brush=gr.Brush(colors=GRAYS, default_color="#333333", color_mode="fixed", default_size=8))
                    sketch_btn = gr.Button("Colorize my drawing", variant="primary", elem_id="sketch-button")
                with gr.Column(scale=3):
                    sketch_out = result_panel("sketch")
            sketch_btn.click(handlers.colorize_sketch, [sketch, model], sketch_out, **PRIVATE)

        with gr.Tab("Hints", id="hints"):
            gr.Markdown(hint_handlers.notice(), elem_id="hints-notice")
            hint_source = gr.State()  # the image being worked on (PIL, full size)
            hint_btn = gr.Button("Colorize with hints", variant="primary", elem_id="hints-button", scale=2, render=False)
            hint_clear = gr.Button("Clear hints", elem_id="hints-clear", scale=1, render=False)
            with gr.Row():
                with gr.Column(scale=2):
                    with gr.Row():
                        with gr.Column(min_width=160):
                            hint_input = raw_image(elem_id="hints-input", label="1 · Your image", sources=["upload", "clipboard"],
                                                   height=150)
                        with gr.Column(min_width=160):
                            gr.Examples([[path] for path, _ in handlers.examples if Path(path).name in EXAMPLE_FILES],
                                        [hint_input], label="or an example", **PRIVATE)

                    # A fresh editor for each image and for "Clear hints": Gradio's editor misbehaves when
                    # an event sets the value of one that was painted on (strokes land in the wrong place).
                    @gr.render(inputs=[hint_source], triggers=[demo.load, hint_source.change, hint_clear.click])
                    def hint_canvas(source):
                        editor = hint_editor(editor_value(source))
                        hint_btn.click(hint_handlers.colorize_with_hints, [editor, hint_source, model], hint_panel, **PRIVATE)

                    with gr.Row():
                        hint_btn.render()
                        hint_clear.render()
                with gr.Column(scale=3):
                    with gr.Row(equal_height=True):
                        hint_gray = image_out("Gray", "hints-gray")
                        hint_auto = image_out("No hints", "hints-auto")
                        hint_out = image_out("With hints", "hints-colorized")
                    with gr.Row():
                        hint_original = image_out("Original", "hints-original", height=220, visible=False, scale=1)
                        hint_notes = gr.Markdown(elem_id="hints-metrics")
            hint_panel = [hint_gray, hint_auto, hint_out, hint_original, hint_notes]
            hint_input.change(hint_handlers.load_image, [hint_input, model], [hint_source, *hint_panel], **PRIVATE)

        with gr.Tab("Examples", id="examples"):
            gr.Markdown("Validation images the models never trained on (CIFAR-10, Linnaeus 5 test sets) and cartoon "
                        "characters from Noto Color Emoji. **Click one** to colorize it and compare with its true colors.")
            with gr.Row():
                with gr.Column(scale=2):
                    gallery = gr.Gallery(elem_id="example-gallery", value=handlers.examples, label="Examples", columns=4, height=620,
                                         allow_preview=False, object_fit="cover", format="png", elem_classes="pixelated")
                with gr.Column(scale=3):
                    example_out = result_panel("example")
            gallery.select(handlers.colorize_example, [model], example_out, **PRIVATE)

        with gr.Tab("Compare models", id="compare"):
            compare_gallery = gr.Gallery(label="Gray input · each model · original", columns=4, height=320, render=False,
                                         object_fit="contain", format="png", elem_classes="pixelated")
            compare_table = gr.Markdown(render=False, elem_id="compare-table")
            compare_panel = gr.Image(label="All in one picture (gray · models · original), to download", format="png",
                                     type="pil", interactive=False, render=False, height=220, elem_classes="pixelated",
                                     buttons=["download", "fullscreen"])
            with gr.Row():
                with gr.Column(scale=1):
                    compare_in = raw_image(elem_id="compare-input", label="One image for every model", sources=["upload", "clipboard"], height=260)
                    compare_btn = gr.Button("Run every model", variant="primary")
                    gr.Examples([[path] for path, _ in handlers.examples[::5]], [compare_in], label="or take an example",
                                fn=handlers.compare_models, outputs=[compare_gallery, compare_table, compare_panel], run_on_click=True, cache_examples=False,
                                **PRIVATE)
                with gr.Column(scale=3):
                    compare_gallery.render()
                    compare_table.render()
                    compare_panel.render()
            compare_btn.click(handlers.compare_models, [compare_in], [compare_gallery, compare_table, compare_panel], **PRIVATE)

        with gr.Tab("Training", id="training"):
            gr.Markdown("How each shipped model trained. Errors are in the original project's scale: the sum over an "
                        "epoch's batches of the per-batch loss (MSE for the seed networks).")
            gr.Dataframe(app_training.error_table(bank.folders, bank.configs), label="Final errors", interactive=False, wrap=True)
            with gr.Row():
                curve_model = gr.Dropdown(choices=bank.choices(), value=bank.default, label="Loss curves of", scale=1)
            with gr.Row():
                loss_plot = gr.LinePlot(elem_id="training-loss", value=app_training.loss_frame(bank.folders[bank.default]), x="epoch", y="error", color="split",
                                        title="Training and validation error per epoch", height=320)
                gr.LinePlot(app_training.psnr_frame(bank.folders), x="epoch", y="val PSNR (dB)", color="model",
                            title="Validation PSNR per epoch", height=320)
            curve_model.change(lambda name: app_training.loss_frame(bank.folders[name]), [curve_model], [loss_plot], **PRIVATE)

        with gr.Tab("API & about", id="about"):
            gr.Markdown(API_DOC.format(url=os.environ.get("SPACE_ID") or "http://127.0.0.1:7860/"))

    with gr.Column(visible=False):  # the public API endpoints: image (and hints) in, colorized image first
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

# A 2-core Space: two requests at once keep both cores busy (part of each request is single-
# threaded PNG and metric work); more only multiplies peak memory. Measured with
# scripts/load_test.py: 5.95 req/s at 2 vs 4.72 at 1. A short queue answers "full" at once
# instead of making people wait minutes.
demo.queue(default_concurrency_limit=2, max_size=32)

if __name__ == "__main__":
    demo.launch(**LAUNCH_OPTIONS)
