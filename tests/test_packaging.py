"""pyproject.toml's dependencies and extras agree with requirements.txt's exact pins."""
from __future__ import annotations

import re
import tomllib

from helpers import ROOT


def _name(spec: str) -> str:
    return re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text))


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        spec = line.split("#")[0].strip()
        if spec:
            name, version = spec.split("==")
            pins[_name(name)] = version
    return pins


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *(s for extra in project["optional-dependencies"].values() for s in extra)]


def test_every_declared_dependency_is_pinned_at_or_above_its_lower_bound():
    pins = _pins()
    for spec in _declared():
        name = _name(spec)
        assert name in pins, f"{name} is in pyproject.toml but not pinned in requirements.txt"
        bound = re.search(r">=\s*([\w.]+)", spec)
        if bound:
            assert _version(pins[name]) >= _version(bound.group(1)), f"{spec} excludes the pin {pins[name]}"


def test_the_lazily_imported_backends_have_an_extra():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {extra: {_name(s) for s in specs} for extra, specs in extras.items()}
    assert "ray" in names["batch"]                             # vidext batch
    assert {"vmaf-torch", "yuvio"} <= names["metrics"]         # evaluate --metrics vmaf
