"""tcpmodel: a model checker for TCP connection management (RFC 9293).

The TCP model and the classic models are written once as transition systems of guarded
commands (`tcpmodel.kernel`); every engine reads that one definition.  See ARCHITECTURE.md.

The Python API (`tcpmodel.api`): ``tcpmodel.load(path)``, ``tcpmodel.check(path_or_spec, ...)``
(the `Result` values ``tcpmodel check`` prints, as a `Results` table) and
``tcpmodel.state_diagram(...)``; ``tcpmodel.api.diff(a, b)`` compares two designs.
``tcpmodel.check`` is the function; the module that runs checks is imported by name:
``from tcpmodel.check import check_spec``.
"""

__version__ = "0.1.0"

# The API's `check` function takes the package attribute `check` from the submodule of that
# name (imported first, by the API itself), so `tcpmodel.check(...)` is the function.
from tcpmodel.api import ALL, Results, check, load, state_diagram
from tcpmodel.results import Result, Trace

__all__ = ["ALL", "Result", "Results", "Trace", "check", "load", "state_diagram"]
