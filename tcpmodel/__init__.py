"""tcpmodel: a model checker for TCP connection management (RFC 9293).

The TCP model and the classic models are written once as transition systems of guarded
commands (`tcpmodel.kernel`); every engine reads that one definition.  See ARCHITECTURE.md.
"""

__version__ = "0.1.0"
