"""The scene vocabulary (ARCHITECTURE.md, "Scenario file"): what objects can be called.

Neutral ground: the simulator paints and builds these (``sim/scene.py``), perception and the
agent name them, and the policy writes them, without any of them importing another's layer.
"""

from __future__ import annotations

from typing import Literal

Shape = Literal["cube", "ball", "cylinder", "bowl"]
Size = Literal["small", "medium", "large"]
#: Whose left/right the person's words use: the person across the table ('user') or the robot.
Viewpoint = Literal["user", "robot"]

#: The contract's colour names.
COLOR_NAMES: tuple[str, ...] = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan", "brown",
                                "gray", "white", "black")
SHAPES: tuple[str, ...] = ("cube", "ball", "cylinder", "bowl")
#: Shapes the gripper can pick up; a bowl is a place target only.
GRASPABLE_SHAPES: tuple[str, ...] = ("cube", "ball", "cylinder")
SIZES: tuple[str, ...] = ("small", "medium", "large")
