"""Fuzz targets: hypothesis strategies of bad and odd input, and what each reader must do with it.

A target feeds one generated input to a product entry point and classifies the result:
``accepted``, ``rejected`` (with the one-line message a person would read) or a crash (any
exception escaping the entry point; the caller catches and counts it). Used by the fast tests
(a few hundred cases, ``tests/agent/test_fuzz_inputs.py``) and by ``benchmarks/bench_fuzz.py``
(>= 10,000 cases per target, marked slow in the tests).

Targets:
- ``scenario_file``: bytes written to a ``.yaml`` file and read by ``agent.scenario.load_file``:
  mutated valid scenarios (wrong types, unicode, huge and negative numbers, long lists, extra
  keys), random YAML documents and random bytes (binary, bad UTF-8);
- ``referring_parser``: an utterance through ``perception.referring.ReferringParser``;
- ``interpret_answer``: an answer read against two or three perceived options
  (``agent.dialogue.interpret_answer``), yes/no or not;
- ``read_interjection``: mid-motion speech (``agent.interjection.read_interjection``).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Optional

import yaml
from hypothesis import strategies as st

Verdict = Literal["accepted", "rejected"]

#: A valid scenario every mutation starts from (README's example).
BASE_SCENARIO: dict[str, Any] = {
    "name": "two-red-cubes",
    "scene": {"viewpoint": "user", "objects": [
        {"id": "a", "shape": "cube", "color": "red", "size": "small", "position": [0.55, 0.12]},
        {"id": "b", "shape": "cube", "color": "red", "size": "small", "position": [0.55, -0.12]},
        {"id": "c", "shape": "bowl", "color": "green", "size": "large", "position": [0.45, 0.0]},
    ]},
    "instruction": "put the red cube in the green bowl",
    "user": {"intent": {"pick": "a", "place": "c", "relation": "in"}, "replies": ["the one on the right"],
             "channel": "text"},
    "expect": {"success": True, "ask": {"min": 1, "max": 1}},
}

#: Dotted paths a mutation may replace or delete.
FIELDS: tuple[str, ...] = (
    "name", "scene", "scene.viewpoint", "scene.objects", "scene.objects.0", "scene.objects.0.id",
    "scene.objects.0.shape", "scene.objects.0.color", "scene.objects.0.size", "scene.objects.0.position",
    "scene.objects.0.position.0", "scene.objects.1.position", "scene.objects.2.yaw", "instruction", "user",
    "user.intent", "user.intent.pick", "user.intent.place", "user.intent.relation", "user.replies",
    "user.channel", "user.patience", "user.snr_db", "user.interjections", "faults", "expect",
    "expect.success", "expect.ask", "expect.ask.min", "expect.ask.max", "extra_key",
)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["", "a", "c", "cube", "bowl", "red", "🟥", "ümlaut", "../../x", "\x00", "in", "on"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=6),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)


def _set(doc: Any, path: str, value: Any, delete: bool) -> Any:
    """``doc`` with the dotted ``path`` replaced by ``value`` (or deleted); missing parents skip."""
    parts = path.split(".")
    node = doc
    for part in parts[:-1]:
        key: Any = int(part) if part.isdigit() else part
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return doc
    last: Any = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
    try:
        if delete:
            del node[last]
        else:
            node[last] = value
    except (KeyError, IndexError, TypeError):
        pass
    return doc


@st.composite
def mutated_scenario(draw: st.DrawFn) -> Any:
    import copy

    doc: Any = copy.deepcopy(BASE_SCENARIO)
    for _ in range(draw(st.integers(1, 4))):
        doc = _set(doc, draw(st.sampled_from(FIELDS)), draw(values), draw(st.booleans()))
    if draw(st.integers(0, 9)) == 0:  # many objects (the 16-object limit, overlaps)
        n = draw(st.integers(0, 40))
        doc["scene"] = {"objects": [{"id": f"o{i}", "shape": "cube", "color": "red",
                                     "position": [0.40 + 0.02 * (i % 10), -0.2 + 0.05 * (i // 10)]} for i in range(n)]}
    if draw(st.integers(0, 4)) == 0:
        doc = [doc, draw(values)]
    return doc


def _dump(doc: Any) -> bytes:
    try:
        return yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogatepass")
    except (yaml.YAMLError, ValueError):
        return repr(doc).encode("utf-8", "surrogatepass")


scenario_bytes = st.one_of(
    mutated_scenario().map(_dump),
    values.map(_dump),
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"---\n", b"[", b"{a: [", b"&a [*a]", b"!!python/object:os.system x", b"\xff\xfe\x00\x01",
                     b"a: &x 1\nb: *x\n", b"- - - - - -\n", b"name: \"\\ud800\"\n"]),
)

#: Words the readers know, mixed with noise, so the fuzz reaches past the first branch.
WORDS = ["put", "the", "red", "cube", "in", "green", "bowl", "left", "right", "one", "no", "yes", "other", "stop",
         "block", "sphere", "on", "top", "of", "behind", "front", "next", "to", "2", "number", "two", "neither",
         "never", "mind", "small", "large", "blue", "ball", "cylinder", "it", "that", "not", "wait", "'", "-", ","]
utterances = st.one_of(
    st.text(max_size=120),
    st.lists(st.sampled_from(WORDS), max_size=20).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=12).map(" ".join),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=3000),
)


def _perceived(index: int, color: str, shape: str, size: str, x: float, y: float) -> Any:
    from perception.types import PerceivedObject

    return PerceivedObject(index=index, color=color, shape=shape, size=size, position=(x, y, 0.02),
                           box=(0, 0, 4, 4))


perceived = st.builds(
    lambda i, c, s, z, x, y: (c, s, z, x, y),
    st.integers(1, 9), st.sampled_from(["red", "green", "blue", "weird", ""]),
    st.sampled_from(["cube", "ball", "bowl", "cylinder", "?"]), st.sampled_from(["small", "medium", "large"]),
    st.floats(-1, 1), st.floats(-1, 1),
)
answer_cases = st.tuples(utterances, st.lists(perceived, min_size=1, max_size=3), st.booleans(),
                         st.sampled_from(["user", "robot"]))


# -- the targets -----------------------------------------------------------------------------


def run_scenario_file(data: bytes, folder: Optional[Path] = None) -> tuple[Verdict, list[str]]:
    """Write ``data`` as a .yaml file and load it; rejections are the ScenarioError lines."""
    from agent.scenario import load_file

    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_bytes(data)
        result = load_file(path)
        lines = [str(e) for e in result.errors]
        for line in lines:
            assert "\n" not in line, f"rejection is not one line: {line!r}"
            assert line.startswith(str(path)), f"rejection does not name the file: {line!r}"
        return ("rejected" if lines else "accepted"), lines


def run_referring_parser(text: str) -> tuple[Verdict, list[str]]:
    from perception.referring import ReferringParser

    parsed = ReferringParser().parse_instruction(text)
    if not parsed.pick.has_content:
        return "rejected", ["no object named"]
    return "accepted", []


def run_interpret_answer(case: tuple[str, list[tuple], bool, str]) -> tuple[Verdict, list[str]]:
    from agent.dialogue import interpret_answer

    text, specs, yes_no, viewpoint = case
    options = [_perceived(i + 1, *spec) for i, spec in enumerate(specs)]
    reading = interpret_answer(text, options, viewpoint, yes_no=yes_no)  # type: ignore[arg-type]
    assert {*reading.picks} <= {o.index for o in options}, f"picked an index that was not offered: {reading}"
    if reading.kind == "unusable":
        assert reading.why, "an unusable answer must say why"
        return "rejected", [reading.why]
    return "accepted", []


def run_read_interjection(text: str) -> tuple[Verdict, list[str]]:
    from agent.interjection import InterjectionReading, read_interjection

    reading = read_interjection(text)
    assert reading is None or isinstance(reading, InterjectionReading), reading
    return "accepted", []


@dataclass(frozen=True)
class FuzzTarget:
    """One entry point under fuzz: a strategy of inputs and the function that feeds one in."""

    name: str
    strategy: st.SearchStrategy[Any]
    run: Callable[[Any], tuple[Verdict, list[str]]]


TARGETS: dict[str, FuzzTarget] = {t.name: t for t in (
    FuzzTarget("scenario_file", scenario_bytes, run_scenario_file),
    FuzzTarget("referring_parser", utterances, run_referring_parser),
    FuzzTarget("interpret_answer", answer_cases, run_interpret_answer),
    FuzzTarget("read_interjection", utterances, run_read_interjection),
)}


def message_template(message: str) -> str:
    """A rejection with its quoted values and numbers blanked, so distinct KINDS are counted."""
    text = re.sub(r"^[^:]*fuzz\.yaml: ", "", message)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"\(and \d+ more\)", "", text)
    text = re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "N", text)
    return text.strip()[:160]
