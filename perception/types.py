"""Typed data that perception hands to the agent: what it saw and how well words match it."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class PerceivedObject(BaseModel):
    """One object proposal, with attributes read from the image and depth."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(description="1-based number shown to the person in questions")
    color: str
    shape: str
    size: str
    position: tuple[float, float, float] = Field(description="centroid, metres, robot base frame")
    box: tuple[int, int, int, int] = Field(description="pixel box (x0, y0, x1, y1) in the camera image")
    color_scores: dict[str, float] = Field(default_factory=dict, description="colour name -> probability")
    shape_scores: dict[str, float] = Field(default_factory=dict, description="shape name -> probability")
    sim_id: Optional[str] = Field(None, description="privileged simulator label; metrics only, never for decisions")
    extent: Optional[float] = Field(None, description="largest horizontal extent, metres (measured from depth)")
    height: Optional[float] = Field(None, description="top above the table, metres (measured from depth)")
    footprint: Optional[float] = Field(None, description="radius of the circle it covers on the table, metres "
                                                         "(measured from depth)")

    def describe(self) -> str:
        return f"{self.size} {self.color} {self.shape}"


class SceneObservation(BaseModel):
    """Everything perception extracted from one camera frame."""

    model_config = ConfigDict(frozen=True)

    objects: list[PerceivedObject]
    viewpoint: Literal["user", "robot"] = "user"
    image_path: Optional[str] = None
    source: str = Field("sim-segmentation", description="how proposals were made; 'sim-segmentation' is privileged")


    def boxes_scaled(self, from_size: tuple[int, int], to_size: tuple[int, int]) -> "SceneObservation":
        """The same objects with pixel boxes moved from a (w, h) frame to another of the same
        camera (perception looks at a detailed frame; boxes are drawn on, and compared with,
        the policy's frame)."""
        if from_size == to_size:
            return self
        sx, sy = to_size[0] / from_size[0], to_size[1] / from_size[1]

        def scale(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
            x0, y0, x1, y1 = box
            return (int(x0 * sx), int(y0 * sy), max(int(x0 * sx) + 1, round(x1 * sx)), max(int(y0 * sy) + 1, round(y1 * sy)))

        return self.model_copy(update={"objects": [o.model_copy(update={"box": scale(o.box)}) for o in self.objects]})


class Candidate(BaseModel):
    """One interpretation of the instruction: an object to pick (and where to put it)."""

    model_config = ConfigDict(frozen=True)

    pick: int = Field(description="PerceivedObject.index")
    place: Optional[int] = None
    relation: Optional[str] = None
    score: float = Field(description="probability-like grounding score in [0, 1]")
    place2: Optional[int] = Field(None, description="PerceivedObject.index of the second reference ('between')")
    region: Optional[str] = Field(None, description="table region of relation 'region' (sim.relations.REGIONS)")


class GroundingResult(BaseModel):
    """Grounder output: ranked candidates, a prediction set and the confidence signals."""

    model_config = ConfigDict(frozen=True)

    candidates: list[Candidate] = Field(description="sorted by score, best first")
    prediction_set: list[Candidate] = Field(description="candidates the grounder cannot rule out")
    confidence: float = Field(description="how clearly one interpretation wins, in [0, 1]")
    consistency: Optional[float] = Field(None, description="language-vision similarity of the best pick")
    unmatched: list[str] = Field(default_factory=list, description="words in the request that matched nothing")
    parse: dict[str, Optional[str]] = Field(default_factory=dict, description="parsed pick/place expressions")
    slot_matches: dict[str, list[int]] = Field(
        default_factory=dict, description="objects each phrase matches on its own ('pick', 'place' -> indices)")
    slot_sets: dict[str, list[int]] = Field(
        default_factory=dict,
        description="per-slot conformal sets ('pick', 'place' -> PerceivedObject.index kept), when calibrated per slot")

    @property
    def best(self) -> Optional[Candidate]:
        return self.candidates[0] if self.candidates else None
