"""Colorizer web app: upload, sketch or pick an example, and see it colorized.

    python app.py            # serves on $GRADIO_SERVER_NAME:$GRADIO_SERVER_PORT (127.0.0.1:7860)

The models come from ``weights/`` (or ``$COLORIZER_WEIGHTS``), plus a Hub model repository when
``$COLORIZER_HUB_REPO`` names one. The tabs live in ``webapp/``. Tests import ``demo`` (and
``bank``, ``handlers``, ``hint_handlers``) without launching.
"""

import os
import signal
import threading

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if not os.environ.get("COLORIZER_HUB_REPO"):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # bundled weights only: never touch the network
# Largest image the app takes (colorizer.open_image reads the limit from here): 2048 x 2048,
# 4.2 MP, so that one request stays well under 1 GB. Measured server peak over idle: 4096 x 4096
# (the library's default) /colorize +951 MiB, Upload tab +1020, Compare +1425; 2896 x 2896 Upload
# +918; 2048 x 2048 /colorize +270, Upload +542 (Compare has a smaller limit: webapp.handlers).
os.environ.setdefault("COLORIZER_MAX_PIXELS", str(2048 * 2048))

import torch  # noqa: E402

from webapp import build_demo, launch_options  # noqa: E402
from webapp.bank import ModelBank  # noqa: E402
from webapp.handlers import Handlers  # noqa: E402
from webapp.hints import HintHandlers  # noqa: E402

# Two requests run at once (webapp.build_demo's queue), one core each: torch's own threads on
# top of that oversubscribe a 2-vCPU Space. Measured on this project's busy 2-core machine, a
# 512 x 512 photo: 180-200 ms with 1 thread against 1.4-2.4 s with 2.
torch.set_num_threads(1)

bank = ModelBank()
handlers = Handlers(bank)
hint_handlers = HintHandlers(bank)
demo = build_demo(bank, handlers, hint_handlers)
LAUNCH_OPTIONS = launch_options()

if __name__ == "__main__":
    # Spaces stop the app with SIGTERM: taken as Ctrl-C, so Gradio closes the server and empties its cache.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    demo.launch(prevent_thread_lock=True, **LAUNCH_OPTIONS)
    # Run the default model once, so the first request is as fast as the rest: once the server
    # answers, so that it does not hold up the start (started before building the UI, it took
    # 0.12 s of CPU from the 2-core start, measured), then wait as launch() would have.
    threading.Thread(target=bank.warm_up, name="warm-up", daemon=True).start()
    demo.block_thread()
