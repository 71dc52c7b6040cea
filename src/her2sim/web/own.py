"""Your own model in the explorer: an uploaded file read, edited and simulated, framework-free.

An upload is one model file (``.bnet``, SBML-qual ``.sbml``/``.xml``, ``.booleannet``) or a
MaBoSS network with its configuration (``.bnd`` and ``.cfg`` chosen together), at most
:data:`MAX_UPLOAD` bytes in all. It is read by the package's own parsers
(:mod:`her2sim.formats`), so a bad file is refused with their one-line error
(``file:line:col: what is wrong (hint)``). A run fixes nodes ON or OFF
(MaBoSS's mutations) and sets parameters as a runtime :class:`~her2sim.engine.scenario.Scenario`,
so the model's compiled kernel serves every run of it, and simulates with the engine; the
answer is JSON-ready data: the interaction graph, node trajectories and the distribution of
final states, cached on disk by files and request.

Examples
--------
>>> upload = Upload((("toy.bnet", "A, A\\nB, A & !C\\nC, B"),))
>>> model, config = read_upload(upload)
>>> model.names, config.max_time
(('A', 'B', 'C'), 50.0)
>>> parse_own_request(model, {"on": ["A"], "off": ["A"]})
Traceback (most recent call last):
...
her2sim.errors.ConfigError: A is fixed both ON and OFF; choose one
>>> parse_own_request(model, {"samples": "50000"})
Traceback (most recent call last):
...
her2sim.errors.ConfigError: trajectories must be an integer from 100 to 10000, got '50000'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from her2sim.errors import ConfigError, Her2simWarning, ModelFormatError, closest
from her2sim.web.service import JobSlots, _answer, _integer, _real, shown

if TYPE_CHECKING:
    from her2sim.model.config import SimulationConfig
    from her2sim.model.network import Model

__all__ = [
    "EXAMPLE",
    "MAX_UPLOAD",
    "OWN_LIMITS",
    "OwnRequest",
    "Upload",
    "decode_upload",
    "example_upload",
    "own_answer",
    "parse_own_request",
    "read_upload",
]

#: Most bytes an upload may hold, all its files together.
MAX_UPLOAD = 2 * 1024 * 1024
#: Bounds of a run: trajectories, max time (model rate units), nodes drawn, flips of one run
#: (about a minute of computing), state-table entries kept per thread.
OWN_LIMITS = {
    "min_samples": 100,
    "max_samples": 10_000,
    "min_time": 0.1,
    "max_time": 10_000.0,
    "max_nodes": 1000,
    "max_flips": 5e8,
    "max_states": 200_000,
}
#: The model the tab opens on: the package's example, a small ERBB core (``example:erbb_core``).
EXAMPLE = "erbb_core"
#: Max time of a model whose files set none, in model rate units.
DEFAULT_TIME = 50.0
#: Time windows drawn when the configuration's time tick would give more than MAX_WINDOWS.
WINDOWS, MAX_WINDOWS = 100, 500
#: Final states shown by name; the rest are one "others" slice.
MAX_STATES_SHOWN = 8
_SBML = (".sbml", ".xml")
_KINDS = ".bnet, .bnd with its .cfg, .sbml (SBML-qual) or .booleannet"


@dataclass(frozen=True)
class Upload:
    """The text of an uploaded model: (file name, text) pairs, one model or a ``.bnd`` + ``.cfg``."""

    files: tuple[tuple[str, str], ...]

    @property
    def digest(self) -> str:
        """A hash of the names and texts: the answer cache's key for these files."""
        hashed = hashlib.sha256()
        for name, text in sorted(self.files):
            hashed.update(f"{len(name)}:{name}{len(text)}:{text}".encode("utf-8", "surrogatepass"))
        return hashed.hexdigest()

    @classmethod
    def from_json(cls, value: Any) -> Upload:
        """The upload a page keeps (``{"files": [[name, text], ...]}``), checked: it comes from the browser."""
        files = value.get("files") if isinstance(value, Mapping) else None
        if not (
            isinstance(files, list)
            and files
            and all(isinstance(f, list) and len(f) == 2 and all(isinstance(x, str) for x in f) for f in files)
        ):
            raise ConfigError(f"upload a model first ({_KINDS})")
        return cls(tuple((name, text) for name, text in files))

    def to_json(self) -> dict[str, Any]:
        """What a page keeps of the upload (:meth:`from_json` reads it back)."""
        return {"files": [list(f) for f in self.files]}

    @property
    def label(self) -> str:
        """The file names, as the page names the model: ``erbb_core.bnd + erbb_core.cfg``."""
        return " + ".join(name for name, _ in self.files)


def decode_upload(names: Sequence[Any], contents: Sequence[Any]) -> Upload:
    """The files a browser uploaded: ``contents`` are data URLs (``data:...;base64,...``).

    Refused with one line: nothing uploaded, a file that is not base64 text, more than
    :data:`MAX_UPLOAD` bytes in all (named with the size), binary files (the formats' decoder).
    """
    from her2sim.files import decode

    if not names or not contents or len(names) != len(contents):
        raise ConfigError(f"choose a model file to upload: {_KINDS}")
    if not all(isinstance(n, str) and isinstance(c, str) for n, c in zip(names, contents, strict=True)):
        raise ConfigError(f"an upload is file names and their contents as text, got {shown(names)}")
    labels = [_plain_name(name) for name in names]
    total = sum(len(content.partition(",")[2]) * 3 // 4 for content in contents)  # before decoding any
    if total > MAX_UPLOAD:
        raise ConfigError(f"{' + '.join(labels)} is {total / 1024 / 1024:.1f} MB, more than the "
                          f"{MAX_UPLOAD / 1024 / 1024:g} MB the explorer reads; simulate larger models with "
                          "`her2sim simulate`")  # fmt: skip
    files = []
    for label, content in zip(labels, contents, strict=True):
        head, _, data = content.partition(",")
        if not head.endswith(";base64"):
            raise ConfigError(f"{label}: the upload is not a base64 data URL")
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"{label}: the upload is not valid base64") from None
        files.append((label, decode(raw, label)))
    return Upload(tuple(files))


def _plain_name(name: str) -> str:
    """A file name without any folder a browser may send, cut to a length a message can show."""
    plain = PurePath(name.replace("\\", "/")).name or "the file"
    return plain if len(plain) <= 60 else f"{plain[:57]}..."


def example_upload() -> Upload:
    """The shipped example model (:data:`EXAMPLE`), as if uploaded."""
    from her2sim.examples import example_path

    bnd = example_path(EXAMPLE)
    return Upload(tuple((path.name, path.read_text(encoding="utf-8")) for path in (bnd, bnd.with_suffix(".cfg"))))


def read_upload(upload: Upload) -> tuple[Model, SimulationConfig]:
    """The model of an upload, read by the format its file names choose, and its run settings
    (those of a MaBoSS ``.cfg``; :data:`DEFAULT_TIME` and 1,000 trajectories otherwise)."""
    from her2sim.formats.maboss import parse_maboss
    from her2sim.model.config import SimulationConfig

    total = sum(len(text) for _, text in upload.files)  # characters: at most the bytes they were read from
    if total > MAX_UPLOAD:  # a forged request: the page checks sizes before sending
        raise ConfigError(f"the upload is too large: the explorer reads models of up to {MAX_UPLOAD // 1024**2} MB")
    defaults = SimulationConfig(max_time=DEFAULT_TIME, time_tick=DEFAULT_TIME / WINDOWS, sample_count=1000)
    names = [name for name, _ in upload.files]
    suffix = {name: PurePath(name).suffix.lower() for name in names}
    bnd = [name for name in names if suffix[name] == ".bnd"]
    cfg = [name for name in names if suffix[name] == ".cfg"]
    texts = dict(upload.files)
    if len(bnd) == 1 and len(names) == len(bnd) + len(cfg) and len(cfg) <= 1:
        model, stated = parse_maboss(texts[bnd[0]], texts[cfg[0]] if cfg else None, bnd[0],
                                     cfg[0] if cfg else "<cfg>")  # fmt: skip
        config = stated.over(defaults)
    elif cfg and not bnd:
        raise ConfigError(f"{cfg[0]} is a MaBoSS configuration: choose it together with its .bnd network")
    elif len(names) != 1:
        raise ConfigError(f"choose one model file (or a .bnd with its .cfg), got {len(names)}: {', '.join(names)}")
    else:
        model, config = _parse_one(names[0], texts[names[0]]), defaults
    if len(model) > OWN_LIMITS["max_nodes"]:
        raise ConfigError(f"{upload.label}: {len(model)} nodes, more than the {OWN_LIMITS['max_nodes']} the "
                          "explorer draws (simulate it with `her2sim simulate`)")  # fmt: skip
    return model, config


def _parse_one(name: str, text: str) -> Model:
    """One model file, by its suffix: the format's ``parse_*`` function on the text (``.xml``
    is read as SBML-qual, as BioModels names its files)."""
    from importlib import import_module

    from her2sim.formats import format_for

    if PurePath(name).suffix.lower() in _SBML:
        from her2sim.formats.sbmlqual import parse_sbmlqual

        return parse_sbmlqual(text, name)
    try:
        fmt = format_for(name)
    except ModelFormatError:
        raise ModelFormatError("unknown model file type", name, hint=f"upload a {_KINDS}") from None
    parse: Callable[[str, str], Model] = getattr(import_module(fmt.module), fmt.reader.replace("read_", "parse_", 1))
    return parse(text, name)


@dataclass(frozen=True)
class OwnRequest:
    """A checked run of an uploaded model: nodes fixed ON and OFF, parameter values, trajectories
    and max time."""

    on: tuple[str, ...] = ()
    off: tuple[str, ...] = ()
    parameters: tuple[tuple[str, float], ...] = ()
    samples: int = 1000
    max_time: float | None = None

    def key(self, upload: Upload) -> str:
        return f"own {upload.digest} {self!r}"


def _nodes(model: Model, value: Any, what: str) -> tuple[str, ...]:
    """Node names from a list of strings, each one the model has."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{what} must be a list of node names, got {shown(value)}")
    for name in value:
        if name not in model:
            hits = closest(name, model.names)
            hint = f" (did you mean {', '.join(repr(h) for h in hits)}?)" if hits else ""
            raise ConfigError(f"{what}: unknown node {shown(name)}{hint}")
    return tuple(dict.fromkeys(value))


def _parameters(model: Model, value: Any) -> tuple[tuple[str, float], ...]:
    """Parameter values that differ from the model's, from ``{name: value}`` or table rows
    ``{"parameter": name, "value": v}``; a value is a number or its decimal text."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        rows = list(value.items())
    elif isinstance(value, (list, tuple)) and all(isinstance(r, Mapping) for r in value):
        rows = [(r.get("parameter"), r.get("value")) for r in value]
    else:
        raise ConfigError(f"parameters must be an object of name: value, got {shown(value)}")
    known = model.parameter_values
    out = {}
    for name, raw in rows:
        name = name.lstrip("$") if isinstance(name, str) else name
        if name not in known:
            hits = closest(str(name), known)
            hint = f" (did you mean {', '.join('$' + h for h in hits)}?)" if hits else ""
            raise ConfigError(f"unknown parameter {shown(name)}{hint}")
        number = _real(raw)
        if not math.isfinite(number):
            raise ConfigError(f"parameter ${name} must be a number, got {shown(raw)}")
        if number != known[name]:  # a table sends every row: keep what was changed
            out[name] = number
    return tuple(out.items())


def parse_own_request(model: Model, params: Mapping[str, Any]) -> OwnRequest:
    """A checked :class:`OwnRequest` for ``model`` from the page's values: ``on`` and ``off``
    (node names), ``parameters``, ``samples`` and ``max_time`` (numbers or their text). A bad
    value raises one line that echoes what was typed."""
    on, off = _nodes(model, params.get("on"), "fixed ON"), _nodes(model, params.get("off"), "fixed OFF")
    both = [name for name in on if name in off]
    if both:
        raise ConfigError(f"{both[0]} is fixed both ON and OFF; choose one")
    low, high = OWN_LIMITS["min_samples"], OWN_LIMITS["max_samples"]
    raw_samples = params.get("samples", 1000)
    samples = _integer(raw_samples)
    if samples is None or not low <= samples <= high:
        raise ConfigError(f"trajectories must be an integer from {low} to {high}, got {shown(raw_samples)}")
    raw_time = params.get("max_time")
    max_time = None if raw_time in (None, "") else _real(raw_time)
    if max_time is not None and not OWN_LIMITS["min_time"] <= max_time <= OWN_LIMITS["max_time"]:
        raise ConfigError(f"max time must be a number from {OWN_LIMITS['min_time']:g} to "
                          f"{OWN_LIMITS['max_time']:g} (model rate units), got {shown(raw_time)}")  # fmt: skip
    return OwnRequest(on, off, _parameters(model, params.get("parameters")), samples, max_time)


def _run_config(config: SimulationConfig, request: OwnRequest) -> SimulationConfig:
    """The run settings: the files' (seed, time tick), the request's trajectories and max time,
    at most :data:`MAX_WINDOWS` windows, and the explorer's bounds on work and memory."""
    max_time = request.max_time or config.max_time
    tick = config.time_tick if max_time / config.time_tick <= MAX_WINDOWS else max_time / WINDOWS
    return config.with_(max_time=max_time, time_tick=min(tick, max_time), sample_count=request.samples,
                        max_flips=OWN_LIMITS["max_flips"], max_states=OWN_LIMITS["max_states"])  # fmt: skip


def _states(frame: Any) -> list[dict[str, Any]]:
    """The likeliest final states by name, the rest as one "others (k states)" row."""
    ordered = frame.sort_values("probability", ascending=False)
    shown_rows = ordered.head(MAX_STATES_SHOWN)
    rows = [{"state": str(r.state), "probability": float(r.probability)} for r in shown_rows.itertuples()]
    rest = ordered.iloc[MAX_STATES_SHOWN:]
    if len(rest) and float(rest["probability"].sum()) > 0:
        rows.append({"state": f"others ({len(rest)} states)", "probability": float(rest["probability"].sum())})
    return rows


def _compute(upload: Upload, request: OwnRequest, step: Callable[[int, str], None]) -> dict[str, Any]:
    from her2sim.engine.scenario import Scenario
    from her2sim.engine.simulate import simulate

    step(1, "reading the model")
    model, config = read_upload(upload)
    # mutations and parameters as a runtime scenario: the model's kernel, compiled on its first
    # run (seconds), serves every later run of it, whatever is fixed
    fixed = {**dict.fromkeys(request.on, True), **dict.fromkeys(request.off, False)}
    scenario = Scenario("page", dict(request.parameters), fixed=fixed)
    run = _run_config(config, request)
    step(2, f"simulating {run.sample_count} trajectories to time {run.max_time:g} (a new model compiles first)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", Her2simWarning)
        result = simulate(model, run, scenario, states=True)
    step(3, "tables")
    frame = result.nodes()
    return {
        "model": model.name or upload.label,
        "files": upload.label,
        "on": list(request.on),
        "off": list(request.off),
        "parameters": dict(request.parameters),
        "samples": run.sample_count,
        "max_time": run.max_time,
        "time_tick": run.time_tick,
        "seed": run.seed,
        "time": [float(t) for t in frame.index],
        "trajectories": {str(name): [float(v) for v in frame[name]] for name in frame.columns},
        "final": {str(name): float(frame[name].iloc[-1]) for name in frame.columns},
        "final_states": _states(result.final_states()),
        "notes": [str(w.message) for w in caught if issubclass(w.category, Her2simWarning)],
    }


def own_answer(
    upload: Upload,
    request: OwnRequest,
    cache_dir: str | None = None,
    step: Callable[[int, str], None] | None = None,
    slots: JobSlots | None = None,
) -> dict[str, Any]:
    """The answer to a run of an uploaded model, from the disk cache when asked before.

    The keys: ``model``, ``files``; the run's ``on``, ``off``, ``parameters``, ``samples``,
    ``max_time``, ``time_tick``, ``seed``; ``time`` (window starts) and ``trajectories`` (per
    node, the probability it is on in each window); ``final`` (per node, in the last window);
    ``final_states`` (``state``, ``probability``: the likeliest by name, the rest as one
    "others" row); ``notes`` (the engine's warnings).
    """
    return _answer(request.key(upload), lambda tell: _compute(upload, request, tell), cache_dir, step, slots)
