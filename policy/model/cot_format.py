"""ECoT-style chain-of-thought text: write it from sim truth, parse it back into ``Reasoning``.

The suffix the policy writes before acting (one field per line)::

    TASK: put the red cube in the green bowl
    PLAN: reach the red cube , grasp it , lift it , move above the green bowl , release
    VISIBLE OBJECTS: red cube <loc0412><loc0300><loc0500><loc0388> , green bowl <loc...>x4
    TARGET: red cube <loc0412><loc0300><loc0500><loc0388> ; in green bowl <loc...>x4
    MOVE: forward left down , gripper open

Boxes are PaliGemma detection tokens: four ``<locNNNN>`` (y0 x0 y1 x1, each in 0..1023 of the
image side). ``Reasoning`` stores boxes as normalised (x0, y0, x1, y1) in 0..1. The prompt (the
prefix) is the instruction plus any clarifying dialogue:
``put the red cube in the bowl | Q: the left or the right one? A: the right one``.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence, Union

import numpy as np

from policy.types import ReasonedObject, Reasoning

LOC_BINS = 1024
FIELDS = ("TASK", "PLAN", "VISIBLE OBJECTS", "TARGET", "MOVE")
_LOC_RE = re.compile(r"<loc(\d{4})>")
_OBJ_RE = re.compile(r"([a-z][a-z ]*?)\s*((?:<loc\d{4}>\s*){4})")
#: A dialogue turn is a (question, answer) pair, or one already formatted string.
DialogueTurn = Union[tuple[str, str], str]


def loc_tokens(box: Sequence[float]) -> str:
    """Normalised (x0, y0, x1, y1) in 0..1 -> '<locY0><locX0><locY1><locX1>' (PaliGemma order)."""
    x0, y0, x1, y1 = (float(np.clip(v, 0.0, 1.0)) for v in box)
    bins = [min(LOC_BINS - 1, int(round(v * (LOC_BINS - 1)))) for v in (y0, x0, y1, x1)]
    return "".join(f"<loc{b:04d}>" for b in bins)


def parse_loc_tokens(text: str) -> tuple[float, float, float, float]:
    """Four '<locNNNN>' tokens -> normalised (x0, y0, x1, y1); raises ValueError otherwise."""
    values = [int(m) / (LOC_BINS - 1) for m in _LOC_RE.findall(text)]
    if len(values) != 4:
        raise ValueError(f"expected 4 <loc> tokens, got {len(values)} in {text!r}")
    y0, x0, y1, x1 = values
    return (x0, y0, x1, y1)


def _object_text(obj: ReasonedObject) -> str:
    return f"{obj.name} {loc_tokens(obj.box)}"


def format_reasoning(reasoning: Reasoning) -> str:
    """``Reasoning`` -> the tagged suffix text the policy learns to write."""
    target = ""
    if reasoning.target is not None:
        target = _object_text(reasoning.target)
        if reasoning.place is not None:
            target += f" ; {reasoning.relation or 'in'} {_object_text(reasoning.place)}"
    lines = [
        f"TASK: {reasoning.task}",
        "PLAN: " + " , ".join(reasoning.plan),
        "VISIBLE OBJECTS: " + " , ".join(_object_text(o) for o in reasoning.visible),
        f"TARGET: {target}",
        f"MOVE: {reasoning.move}",
    ]
    return "\n".join(lines)


_FIELD_RE = re.compile(r"(TASK|PLAN|VISIBLE OBJECTS|TARGET|MOVE)\s*:")
_RELATION_RE = re.compile(r"\s*(in|on|left_of|right_of|in_front_of|behind|next_to)\b")


def _split_fields(text: str) -> dict[str, str]:
    """Map each tag to the text up to the next tag (tolerant of spacing the decoder adds)."""
    marks = list(_FIELD_RE.finditer(text))
    out: dict[str, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.setdefault(mark.group(1), text[mark.end() : end].strip())
    return out


def _parse_objects(text: str) -> list[ReasonedObject]:
    objects = []
    for name, locs in _OBJ_RE.findall(text):
        clean = name.strip().strip(",;").strip()
        if clean:
            objects.append(ReasonedObject(name=clean, box=parse_loc_tokens(locs)))
    return objects


def parse_reasoning(text: str) -> Reasoning:
    """Tagged text -> ``Reasoning``; missing or malformed fields stay empty (never raises)."""
    fields = _split_fields(text)
    target: Optional[ReasonedObject] = None
    place: Optional[ReasonedObject] = None
    relation: Optional[str] = None
    if "TARGET" in fields:
        pick_text, _, place_text = fields["TARGET"].partition(";")
        picks = _parse_objects(pick_text)
        target = picks[0] if picks else None
        if place_text.strip():
            rel_match = _RELATION_RE.match(place_text)
            relation = rel_match.group(1) if rel_match else None
            places = _parse_objects(place_text[rel_match.end() :] if rel_match else place_text)
            place = places[0] if places else None
    plan = [step.strip() for step in fields.get("PLAN", "").split(",") if step.strip()]
    return Reasoning(
        task=fields.get("TASK", ""),
        plan=plan,
        visible=_parse_objects(fields.get("VISIBLE OBJECTS", "")),
        target=target,
        place=place,
        relation=relation,
        move=fields.get("MOVE", ""),
    )


def open_box_slot(text: str) -> Optional[str]:
    """The object name whose box comes next, when the partial reasoning ``text`` stops right
    before a box in the TARGET line (after the TARGET name, or after '; <relation> <name>' for
    the PLACE); None anywhere else. Used by the decoder to point the box at a listed object."""
    marks = list(_FIELD_RE.finditer(text))
    if not marks or marks[-1].group(1) != "TARGET":
        return None
    line = text[marks[-1].end() :]
    _, sep, segment = line.rpartition(";")  # no ';': segment is the whole line
    if "<loc" in segment:
        return None
    if sep:
        rel = _RELATION_RE.match(segment)
        segment = segment[rel.end() :] if rel else segment
    name = segment.strip().strip(",").strip()
    return name or None


def listed_objects(text: str) -> list[tuple[str, str]]:
    """(name, its four ``<loc>`` tokens as written) of each object in the VISIBLE OBJECTS field."""
    listed = _split_fields(text).get("VISIBLE OBJECTS", "")
    return [(name.strip().strip(",;").strip(), re.sub(r"\s+", "", locs)) for name, locs in _OBJ_RE.findall(listed)]


def rename_listed(text: str, names: Sequence[str], boxes: Optional[Sequence[Sequence[float]]] = None) -> str:
    """``text`` with the i-th object of its VISIBLE OBJECTS field renamed ``names[i]`` and, with
    ``boxes``, its box written as ``boxes[i]`` (everything else as written); one entry per listed
    object."""
    marks = [m for m in _FIELD_RE.finditer(text) if m.group(1) == "VISIBLE OBJECTS"]
    if not marks:
        raise ValueError("no VISIBLE OBJECTS field to rename")
    start = marks[0].end()
    nxt = _FIELD_RE.search(text, start)
    end = nxt.start() if nxt else len(text)
    field = text[start:end]
    count = len(_OBJ_RE.findall(field))
    if len(names) != count or (boxes is not None and len(boxes) != count):
        given = len(names) if boxes is None else len(boxes)
        raise ValueError(f"{len(names)} names and {given} boxes for {count} listed objects")
    queue = iter(zip(names, boxes if boxes is not None else [None] * count))

    def edit(match: re.Match) -> str:
        name, box = next(queue)
        locs = match.group(2) if box is None else loc_tokens(box) + match.group(2)[len(match.group(2).rstrip()):]
        return f"{name} {locs}"

    renamed = _OBJ_RE.sub(edit, field)
    return text[:start] + renamed + text[end:]


def format_prompt(instruction: str, dialogue: Sequence[DialogueTurn] = ()) -> str:
    """Instruction plus clarifying turns -> the prompt text of the prefix."""
    parts = [instruction.strip().lower()]
    for turn in dialogue:
        if isinstance(turn, str):
            parts.append(turn.strip().lower())
        else:
            question, answer = turn
            parts.append(f"Q: {question.strip().lower()} A: {answer.strip().lower()}")
    return " | ".join(p for p in parts if p)


#: The words of a prompt that say which of two same-named objects is meant: the agent's rewrite
#: ('the red cube on the left', 'the red cube at the back') or the person's answer ('A: the
#: left one', 'A: the front one'). Left/right is across the table, front/back along it.
_SIDE_RE = re.compile(r"\b(on the|at the|A: the) (left|right|front|back)\b(?! of)")  # not 'on the left of the bowl'
#: Each side word's opposite.
OPPOSITE_SIDE = {"left": "right", "right": "left", "front": "back", "back": "front"}


def named_side(prompt: str) -> Optional[str]:
    """'left', 'right', 'front' or 'back' when ``prompt`` says which twin it means, else None."""
    match = _SIDE_RE.search(prompt)
    return match.group(2) if match else None


def names_a_side(prompt: str) -> bool:
    """Whether ``prompt`` says which twin (left/right, front/back) it means."""
    return named_side(prompt) is not None


def side_phrase(side: str) -> str:
    """How a sentence names the twin's side: 'on the left', 'at the front'."""
    return f"{'at' if side in ('front', 'back') else 'on'} the {side}"


def swap_side(prompt: str) -> str:
    """The same prompt meaning the other twin: 'A: the left one' <-> 'A: the right one',
    'at the front' <-> 'at the back'."""
    return _SIDE_RE.sub(lambda m: f"{m.group(1)} {OPPOSITE_SIDE[m.group(2)]}", prompt)


def has_twin(reasoning: Reasoning) -> bool:
    """Whether the TARGET or PLACE shares its name with another visible object, so that the
    words alone cannot say which one is meant."""
    names = [obj.name for obj in reasoning.visible]
    return any(o is not None and names.count(o.name) > 1 for o in (reasoning.target, reasoning.place))


def parse_prompt(prompt: str) -> tuple[str, list[tuple[str, str]]]:
    """Inverse of :func:`format_prompt`: (instruction, [(question, answer), ...])."""
    instruction, *turns = prompt.split(" | ")
    dialogue = []
    for turn in turns:
        question, sep, answer = turn.partition(" A: ")
        dialogue.append((question.removeprefix("Q: ").strip(), answer.strip()) if sep else (turn.strip(), ""))
    return instruction, dialogue


def describe_move(actions: np.ndarray, threshold_m: float = 0.004) -> str:
    """Words for where an action chunk (chunk, 7) takes the hand: 'forward left down , gripper open'.

    Directions are in the robot base frame (x forward, y left, z up); ``threshold_m`` is the
    summed displacement below which an axis counts as still.
    """
    total = np.asarray(actions, dtype=np.float64)[:, :3].sum(axis=0)
    words = []
    for value, (pos, neg) in zip(total, (("forward", "back"), ("left", "right"), ("up", "down"))):
        if abs(value) >= threshold_m:
            words.append(pos if value > 0 else neg)
    gripper = "gripper close" if float(np.asarray(actions)[-1, 6]) > 0.5 else "gripper open"
    return f"{' '.join(words) or 'hold'} , {gripper}"


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def move_phase(reasoning: str) -> str:
    """The phase word of a reasoning's MOVE line ('' when there is none)."""
    return reasoning.partition("MOVE:")[2].split(",")[0].strip()
