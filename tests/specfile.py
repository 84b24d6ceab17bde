"""Spec files written by tests: a model's configuration and its properties as TOML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from tcpmodel.models.base import ParamValue


def toml_value(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def write_spec(
    path: Path,
    name: str,
    params: Mapping[str, ParamValue],
    props: Sequence[Mapping[str, str]],
    model: str = "connection",
) -> Path:
    """Write a spec of ``model`` (default `connection`) with ``params`` and one [[property]]
    table per mapping."""
    text = f'[spec]\nname = "{name}"\nmodel = "{model}"\n\n[params]\n'
    text += "".join(f"{k} = {toml_value(v)}\n" for k, v in params.items())
    for prop in props:
        text += "\n[[property]]\n" + "".join(f'{k} = "{v}"\n' for k, v in prop.items())
    path.write_text(text)
    return path
