"""The exceptions tcpmodel raises.

Every error is a `TcpModelError` and also a builtin type, so callers can catch either.  Messages
name the place (file, key, column), what was expected, and how to fix it; the CLI prints them on
one line and exits with status 2, never with a traceback.
"""

from __future__ import annotations


class TcpModelError(Exception):
    """Root of every error tcpmodel raises on purpose."""


class SpecError(TcpModelError, ValueError):
    """A spec file is unreadable, malformed, or names something that does not exist."""


class FormulaError(SpecError):
    """A property formula does not parse or does not type-check."""


class ModelError(TcpModelError, TypeError):
    """A model is built wrongly: an ill-typed expression, an update out of a variable's range."""


class UsageError(TcpModelError, ValueError):
    """The command line asks for something impossible (an unknown engine, a negative bound)."""


class ReplayError(TcpModelError, AssertionError):
    """A trace does not replay through the concrete semantics: an internal soundness failure."""


class NativeError(UsageError):
    """The native engine cannot check this system (no gcc, gcc failed, a value beyond its 64
    bits, too many properties, no memory for its tables); the Python explorer can."""
