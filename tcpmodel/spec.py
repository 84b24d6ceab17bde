"""Spec files: TOML that names a model, its parameters, and properties with expectations.

Shape (every key is checked; anything else is an error that names the file and key)::

    [spec]
    name = "alternating-bit"          # required
    model = "alternating-bit"         # required: a registered model (`tcpmodel list`)
    description = "..."               # optional
    disable = ["..."]                 # optional: actions or action groups to remove, to ask
                                      # "what if this rule did not exist"
    fairness = "model"                # optional, for LTL properties: "model" (the model's own
                                      # weak/strong fairness), "none", or a list such as
                                      # ["strong:b.recv", "weak:clock"] (also in [[variant]])

    [params]                          # optional: the model's parameters, validated
    capacity = 2

    [bounds]                          # optional: bounds for this spec's checks, used where the
    max_states = 200000               # command line gives none: max_states, max_depth,
    timeout = 900                     # timeout (seconds), max_memory_mb

    [[property]]                      # one or more
    name = "delivers-in-order"        # a library property of the model, or a new name ...
    formula = "always(...)"           # ... with a formula (see `tcpmodel.formula`)
    expect = "holds"                  # holds | violated | reachable | unreachable
    description = "..."               # optional

    [[invariant]]                     # optional: a state invariant for k-induction (kind)
    formula = "always(...)"           # always(<state predicate>), nothing else
    name = "..."                      # optional (default: the formula)
    description = "..."               # optional

    [[variant]]                       # optional, each checked as its own configuration
    name = "reordering"
    disable = ["..."]                 # optional: actions or action groups removed (also in [spec])
    params = { channel = "reordering" }
    expect = { delivers-in-order = "violated" }   # optional: override inherited expectations
    [[variant.property]]              # optional: the variant's own properties instead
    ...
    [[variant.invariant]]             # optional: invariants added to the spec's
    ...

Invariants strengthen k-induction (`tcpmodel.engines.kind`, Houdini-style): each is checked
first (true initially, inductive together with the others kept); one that is not is dropped,
never assumed, and named with why in the reason of every outcome (``--engine kind``, and
``auto`` when it falls back on kind).  Other engines ignore them.

`load` returns a `Spec` whose every configuration (the base, then each variant) has a built
`System` and parsed properties, so every error surfaces before any checking starts.
"""

from __future__ import annotations

import datetime
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from tcpmodel.engines.search import Bounds
from tcpmodel.errors import FormulaError, ModelError, SpecError, UsageError
from tcpmodel.formula import Property, parse_property
from tcpmodel.kernel.system import Fairness, System
from tcpmodel.models import MODELS, Model, ParamValue
from tcpmodel.results import EXPECTATIONS, Expectation

_EXPECT_OF_KIND = {
    "always": ("holds", "violated"),
    "reachable": ("reachable", "unreachable"),
    "ltl": ("holds", "violated"),
    "exists_forall": ("reachable", "unreachable"),
}


@dataclass(frozen=True, slots=True)
class Check:
    """A property of one configuration with what the spec expects of it."""

    prop: Property
    expect: Expectation


@dataclass(frozen=True, slots=True)
class Configuration:
    variant: str | None
    params: Mapping[str, ParamValue]
    system: System
    checks: tuple[Check, ...]
    fairness: tuple[Fairness, ...] = ()
    invariants: tuple[Property, ...] = ()
    # The `disable` names and the action labels they removed from the model.
    disabled: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    file: str
    model: Model
    description: str
    params: Mapping[str, ParamValue]
    configurations: tuple[Configuration, ...]
    bounds: Bounds = field(default_factory=Bounds)
    profile: str = ""


@dataclass(frozen=True, slots=True)
class _PropDecl:
    name: str
    formula: str | None
    expect: str
    description: str
    key: str
    expect_key: str


@dataclass(frozen=True, slots=True)
class _InvDecl:
    name: str
    formula: str
    description: str
    key: str


def configuration(spec: Spec, variant: str | None) -> Configuration:
    """The base configuration of ``spec`` (``variant`` None) or the named variant; a
    `UsageError` naming the variants there are."""
    for cfg in spec.configurations:
        if cfg.variant == variant:
            return cfg
    names = ", ".join(c.variant for c in spec.configurations if c.variant) or "none"
    raise UsageError(f"{spec.file} has no variant {variant!r}; its variants: {names}")


def spec_files(paths: Sequence[str]) -> list[Path]:
    """The spec files named by ``paths``: files as given, directories as their ``*.toml``."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(p.glob("*.toml"))
            if not found:
                raise SpecError(
                    f"{raw}: no *.toml spec files in this directory; "
                    "expected a folder holding at least one spec file"
                )
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise SpecError(
                f"{raw}: no such file or directory; expected a spec file or a folder of them"
            )
    return out


def load(path: Path) -> Spec:
    where = str(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SpecError(
            f"{where}: cannot read the file ({e.strerror or e}); expected a readable spec file"
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise SpecError(
            f"{where}: not UTF-8 text (byte {e.start + 1}, line {line}); "
            "expected UTF-8: save the spec as UTF-8"
        ) from None
    return loads(text, where)


def loads(text: str, where: str) -> Spec:
    """The spec in TOML ``text``, read from file ``where`` (named in errors and in
    `Spec.file`): what `load` does once the file is read, for a process that has the text but
    not the file (a Ray worker on another machine, `tcpmodel.cluster`)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{where}: invalid TOML: {e}; expected valid TOML (toml.io)") from None
    return _Loader(where).spec(doc)


class _Loader:
    def __init__(self, where: str) -> None:
        self.where = where

    def err(self, key: str, msg: str) -> SpecError:
        return SpecError(f"{self.where}: {key}: {msg}")

    def keys(self, table: Mapping[str, Any], key: str, allowed: Sequence[str]) -> None:
        for k in table:
            if k not in allowed:
                raise self.err(
                    f"{key}{'.' if key else ''}{k}",
                    f"unknown key; expected one of: {', '.join(allowed)}",
                )

    def table(self, doc: Mapping[str, Any], key: str, required: bool) -> dict[str, Any]:
        v = doc.get(key.split(".")[-1])
        if v is None:
            if required:
                raise self.err(
                    f"[{key}]",
                    f"missing table; expected a [{key}] table (see the README's spec format)",
                )
            return {}
        if not isinstance(v, dict):
            raise self.err(key, f"expected a table, got {_tname(v)}")
        return v

    def string(self, table: Mapping[str, Any], key: str, loc: str, required: bool) -> str:
        v = table.get(key)
        if v is None:
            if required:
                raise self.err(f"{loc}.{key}", f'missing; expected a string: add {key} = "..."')
            return ""
        if not isinstance(v, str):
            raise self.err(f"{loc}.{key}", f"expected a string, got {_tname(v)} {_show(v)}")
        return v

    def name(self, table: Mapping[str, Any], loc: str) -> str:
        """A required ``name``: used in results and trace file names, so plain text only."""
        v = self.string(table, "name", loc, True)
        if not v.strip() or any(c in v for c in "/\\") or not v.isprintable():
            raise self.err(
                f"{loc}.name",
                f"{v!r} is not a usable name; expected a non-empty name without / or \\ "
                "(it names result and trace files)",
            )
        return v

    def spec(self, doc: dict[str, Any]) -> Spec:
        self.keys(doc, "", ["spec", "params", "bounds", "property", "invariant", "variant"])
        head = self.table(doc, "spec", required=True)
        self.keys(head, "spec", ["name", "model", "description", "disable", "fairness", "profile"])
        name = self.name(head, "spec")
        model_name = self.string(head, "model", "spec", True)
        model = MODELS.get(model_name)
        if model is None:
            raise self.err(
                "spec.model",
                f"unknown model {model_name!r}; expected one of: {', '.join(sorted(MODELS))}",
            )
        description = self.string(head, "description", "spec", False)
        base = model.defaults()
        profile = self.string(head, "profile", "spec", False)
        if profile:
            if profile not in model.profiles:
                offered = ", ".join(repr(k) for k in sorted(model.profiles)) or "none"
                raise self.err(
                    "spec.profile",
                    f"model {model.name} has no profile {profile!r}; expected one of: {offered}",
                )
            base.update(model.profiles[profile])
        params = self.params(model, self.table(doc, "params", False), "params", base)
        props = self.prop_list(doc.get("property"), "property", model)
        if not props:
            raise self.err(
                "[[property]]",
                "the spec has no properties; expected at least one [[property]] table",
            )
        disable = self.names(head.get("disable"), "spec.disable")
        fairness = head.get("fairness", "model")
        invs = self.invariant_list(doc.get("invariant"), "invariant", [])
        configs = [self.configuration(model, None, params, props, disable, fairness, invs)]
        variants = doc.get("variant", [])
        if not isinstance(variants, list):
            raise self.err("variant", f"expected [[variant]] tables, got {_tname(variants)}")
        names: set[str] = set()
        for k, v in enumerate(variants):
            loc = f"variant[{k}]"
            if not isinstance(v, dict):
                raise self.err(loc, f"expected a table, got {_tname(v)}")
            self.keys(
                v,
                loc,
                [
                    "name",
                    "description",
                    "params",
                    "property",
                    "invariant",
                    "expect",
                    "disable",
                    "fairness",
                ],
            )
            vname = self.name(v, loc)
            loc = f"variant {vname!r}"
            if vname in names:
                raise self.err(
                    f"{loc}.name", "two variants share this name; expected unique names: rename one"
                )
            names.add(vname)
            self.string(v, "description", loc, False)
            vp = v.get("params", {})
            if not isinstance(vp, dict):
                raise self.err(f"{loc}.params", f"expected a table, got {_tname(vp)}")
            vparams = self.params(model, vp, f"{loc}.params", params)
            own = self.prop_list(v.get("property"), f"{loc}.property", model)
            vprops = own or props
            exp = v.get("expect", {})
            if not isinstance(exp, dict):
                raise self.err(f"{loc}.expect", f"expected a table, got {_tname(exp)}")
            known = {p.name: p for p in vprops}
            over: list[_PropDecl] = []
            for pn, pe in exp.items():
                if pn not in known:
                    raise self.err(
                        f"{loc}.expect.{pn}",
                        f"no property {pn!r} in this variant; expected one of: {', '.join(known)}",
                    )
                self.expectation(pe, f"{loc}.expect.{pn}")
                over.append(known[pn])
            overridden = {d.name: d for d in over}
            vprops = [
                _PropDecl(
                    d.name,
                    d.formula,
                    str(exp[d.name]),
                    d.description,
                    d.key,
                    f"{loc}.expect.{d.name}",
                )
                if d.name in overridden
                else d
                for d in vprops
            ]
            vdisable = disable + self.names(v.get("disable"), f"{loc}.disable")
            vfair = v.get("fairness", fairness)
            vinvs = invs + self.invariant_list(v.get("invariant"), f"{loc}.invariant", invs)
            configs.append(
                self.configuration(model, vname, vparams, vprops, vdisable, vfair, vinvs)
            )
        bounds = self.bounds(self.table(doc, "bounds", False))
        return Spec(name, self.where, model, description, params, tuple(configs), bounds, profile)

    def bounds(self, table: Mapping[str, Any]) -> Bounds:
        """``[bounds]``: positive numbers; ``max_states`` and ``max_depth`` integers."""
        self.keys(table, "bounds", ["max_states", "max_depth", "timeout", "max_memory_mb"])
        got: dict[str, Any] = {}
        for k, v in table.items():
            whole = k in ("max_states", "max_depth")
            ok = isinstance(v, int) if whole else isinstance(v, int | float)
            if isinstance(v, bool) or not ok or v <= 0:
                want = "a positive integer" if whole else "a positive number"
                raise self.err(f"bounds.{k}", f"expected {want}, got {_tname(v)} {_show(v)}")
            got[k] = v
        return Bounds(**got)

    def params(
        self,
        model: Model,
        table: Mapping[str, Any],
        loc: str,
        base: Mapping[str, ParamValue],
    ) -> dict[str, ParamValue]:
        out = dict(base)
        for k, v in table.items():
            p = model.param(k)
            if p is None:
                raise self.err(
                    f"{loc}.{k}",
                    f"model {model.name} has no parameter {k!r}; expected one of: "
                    f"{', '.join(q.name for q in model.params)}",
                )
            why = p.problem(v)
            if why == "wrong type":
                raise self.err(f"{loc}.{k}", f"expected {p.describe()}, got {_tname(v)} {_show(v)}")
            if why == "out of range":
                raise self.err(f"{loc}.{k}", f"{v} is out of range; expected {p.describe()}")
            if why is not None:
                raise self.err(f"{loc}.{k}", f"{v!r} is not allowed; expected {p.describe()}")
            out[k] = v
        return out

    def names(self, raw: Any, key: str) -> list[str]:
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise self.err(key, f"expected an array of rule names, got {_show(raw)}")
        return list(raw)

    def expectation(self, v: Any, key: str) -> Expectation:
        if v not in EXPECTATIONS:
            if v is None:
                raise self.err(
                    key, f'missing; expected one of {", ".join(EXPECTATIONS)}: add expect = "..."'
                )
            raise self.err(key, f"expected one of {', '.join(EXPECTATIONS)}, got {_show(v)}")
        return cast(Expectation, v)

    def prop_list(self, raw: Any, loc: str, model: Model) -> list[_PropDecl]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise self.err(loc, "expected [[property]] tables (an array of tables)")
        out: list[_PropDecl] = []
        for k, t in enumerate(raw):
            key = f"{loc}[{k}]"
            if not isinstance(t, dict):
                raise self.err(key, f"expected a table, got {_tname(t)}")
            self.keys(t, key, ["name", "formula", "expect", "description"])
            name = self.name(t, key)
            key = f"{loc} {name!r}"
            if any(p.name == name for p in out):
                raise self.err(
                    f"{key}.name",
                    "two properties share this name; expected unique names: rename one",
                )
            formula = t.get("formula")
            if formula is not None and not isinstance(formula, str):
                raise self.err(
                    f"{key}.formula", f"expected a string, got {_tname(formula)} {_show(formula)}"
                )
            if formula is None and model.property(name) is None:
                raise self.err(
                    key,
                    f"model {model.name} has no library property {name!r}; expected a "
                    'formula = "..." for a new property, or a library property: '
                    f"{', '.join(p.name for p in model.properties)}",
                )
            expect = self.expectation(t.get("expect"), f"{key}.expect")
            desc = self.string(t, "description", key, False)
            out.append(_PropDecl(name, formula, expect, desc, key, f"{key}.expect"))
        return out

    def invariant_list(self, raw: Any, loc: str, inherited: Sequence[_InvDecl]) -> list[_InvDecl]:
        """``[[invariant]]`` tables: a ``formula``, optional ``name`` and ``description``."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise self.err(loc, "expected [[invariant]] tables (an array of tables)")
        out: list[_InvDecl] = []
        for k, t in enumerate(raw):
            key = f"{loc}[{k}]"
            if not isinstance(t, dict):
                raise self.err(key, f"expected a table, got {_tname(t)}")
            self.keys(t, key, ["name", "formula", "description"])
            name = self.name(t, key) if "name" in t else ""
            if name:
                key = f"{loc} {name!r}"
            formula = self.string(t, "formula", key, True)
            name = name or formula
            if any(d.name == name for d in (*inherited, *out)):
                raise self.err(
                    f"{key}.name" if "name" in t else f"{key}.formula",
                    "two invariants share this name; expected unique names: rename one",
                )
            desc = self.string(t, "description", key, False)
            out.append(_InvDecl(name, formula, desc, key))
        return out

    def configuration(
        self,
        model: Model,
        variant: str | None,
        params: Mapping[str, ParamValue],
        props: Sequence[_PropDecl],
        disable: Sequence[str] = (),
        fairness: object = "model",
        invariants: Sequence[_InvDecl] = (),
    ) -> Configuration:
        try:
            full = model.build(params)
        except ModelError as e:
            loc = "params" if variant is None else f"variant {variant!r}.params"
            raise self.err(
                loc, f"model {model.name} rejects these parameters: {e}; expected other values"
            ) from None
        try:
            system = full.without(disable)
        except ModelError as e:
            loc = "spec.disable" if variant is None else f"variant {variant!r}.disable"
            raise self.err(
                loc, f"{e}; expected an action or group that `tcpmodel list SPEC` shows"
            ) from None
        checks: list[Check] = []
        for d in props:
            lib = model.property(d.name)
            text = d.formula if d.formula is not None else (lib.formula if lib else "")
            doc = d.description or (lib.doc if lib else "")
            try:
                prop = parse_property(d.name, text, system, doc)
            except FormulaError as e:
                src = "formula" if d.formula is not None else f"library formula {text!r}"
                raise self.err(f"{d.key}.{src}", str(e)) from None
            allowed = _EXPECT_OF_KIND[prop.kind]
            if d.expect not in allowed:
                raise self.err(
                    d.expect_key,
                    f"{d.expect!r} does not fit {prop.kind}(...) formula {text!r}; expected "
                    f"{' or '.join(allowed)}",
                )
            checks.append(Check(prop, cast(Expectation, d.expect)))
        fair = self.fairness(fairness, system, variant)
        invs = tuple(self.invariant(d, system) for d in invariants)
        kept = {a.label for a in system.actions}
        removed = tuple(a.label for a in full.actions if a.label not in kept)
        return Configuration(
            variant,
            dict(params),
            system,
            tuple(checks),
            fair,
            invs,
            tuple(disable),
            removed,
        )

    def invariant(self, d: _InvDecl, system: System) -> Property:
        """An ``[[invariant]]`` formula: ``always`` of a state predicate, nothing else."""
        try:
            prop = parse_property(d.name, d.formula, system, d.description)
        except FormulaError as e:
            raise self.err(f"{d.key}.formula", str(e)) from None
        if prop.kind != "always":
            what = "an LTL formula" if prop.kind == "ltl" else f"a {prop.kind}(...) formula"
            raise self.err(
                f"{d.key}.formula",
                f"{d.formula!r} is {what}; expected always(<state predicate>): an invariant "
                "holds in every reachable state",
            )
        return prop

    def fairness(self, value: object, system: System, variant: str | None) -> tuple[Fairness, ...]:
        """``"model"``, ``"none"`` or a list of ``"weak:GROUP"`` / ``"strong:GROUP"``."""
        loc = "spec.fairness" if variant is None else f"variant {variant!r}.fairness"
        if value == "model":
            return system.fairness
        if value == "none":
            return ()
        want = 'expected "model", "none" or a list such as ["strong:b.recv", "weak:clock"]'
        if not isinstance(value, list):
            raise self.err(loc, f"got {_show(value)}; {want}")
        out: list[Fairness] = []
        names = system.rule_names()
        for k, item in enumerate(value):
            kind, sep, group = str(item).partition(":") if isinstance(item, str) else ("", "", "")
            if not sep or kind not in ("weak", "strong"):
                raise self.err(f"{loc}[{k}]", f"got {_show(item)}; {want}")
            if group not in names:
                raise self.err(
                    f"{loc}[{k}]",
                    f"no action or group {group!r}; expected one of: {', '.join(names)}",
                )
            out.append(Fairness(kind, group))  # type: ignore[arg-type]
        return tuple(out)


def _show(v: object) -> str:
    """A TOML value as the user wrote it (``true``, ``1979-05-27``), strings quoted."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime.date | datetime.time):
        return v.isoformat()
    if isinstance(v, str | int | float):
        return repr(v)
    return _tname(v)


def _tname(v: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
        datetime.datetime: "a date-time",
        datetime.date: "a date",
        datetime.time: "a time",
    }.get(type(v), type(v).__name__)
