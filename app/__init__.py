"""The Litestar application: HTTP, settings, composition root and the management CLI.

Two installed packages are kept out of every process that imports the app, because merely being
importable makes a library load them and nothing here uses them:

- ``pydantic`` (a dependency of Piccolo): Litestar registers its pydantic plugins, and so imports
  pydantic, whenever it can;
- ``rich`` (a dependency of Litestar's CLI): structlog imports it for pretty tracebacks whenever it
  can (we render tracebacks plainly).

Together they cost each Granian worker about 15 MB of its 100 MB budget (benchmarks/README.md).
Marking a module ``None`` in ``sys.modules`` is Python's own way to say it cannot be imported; it is
done here, the first module of the app anything imports (Granian's main process too, for its log
format), and only for a module nothing has imported yet. To use one of them, delete its name here.
"""

import sys

for _unused in ("pydantic", "rich"):
    sys.modules.setdefault(_unused, None)  # type: ignore[arg-type]
