"""The registry of models a spec can name (``model = "..."``)."""

from __future__ import annotations

from types import MappingProxyType

from tcpmodel.models import abp, mutex
from tcpmodel.models.base import LibraryProperty, Model, Param, ParamValue
from tcpmodel.tcp import connection, listener

MODELS: MappingProxyType[str, Model] = MappingProxyType(
    {m.name: m for m in (abp.MODEL, mutex.MODEL, connection.MODEL, listener.MODEL)}
)

__all__ = ["MODELS", "LibraryProperty", "Model", "Param", "ParamValue"]
