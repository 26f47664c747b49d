"""Colorizer web app: upload, sketch or pick an example, and see it colorized.

    python app.py            # serves on $GRADIO_SERVER_NAME:$GRADIO_SERVER_PORT (127.0.0.1:7860)

The models come from ``weights/`` (or ``$COLORIZER_WEIGHTS``), plus a Hub model repository when
``$COLORIZER_HUB_REPO`` names one. The tabs live in ``webapp/``. Tests import ``demo`` (and
``bank``, ``handlers``, ``hint_handlers``) without launching.
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if not os.environ.get("COLORIZER_HUB_REPO"):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # bundled weights only: never touch the network

from webapp import LAUNCH_OPTIONS, build_demo  # noqa: E402
from webapp.bank import Handlers, ModelBank  # noqa: E402
from webapp.hints import HintHandlers  # noqa: E402

bank = ModelBank()
handlers = Handlers(bank)
hint_handlers = HintHandlers(bank)
bank.warm_up()  # load the default model once, at start
demo = build_demo(bank, handlers, hint_handlers)

if __name__ == "__main__":
    demo.launch(**LAUNCH_OPTIONS)
