"""Where a model's weights came from, so nothing presents an untrained model's outputs as predictions.

The zoo writes `lite-tools-weights.json` beside every export (and `zoo export` copies it to the user's folder):
trained entries name the published weights they load (lite_tools/pretrained), the others say their weights are
deterministic stand-ins for tests. `read()` of a folder without the file (a user's own export) is None: nothing is
claimed either way. A damaged file is read as unknown, never as trained.

The words reports, consoles and generated apps use for it are defined here, once.
"""

from __future__ import annotations

import dataclasses
import html
import json
from pathlib import Path

FILE = "lite-tools-weights.json"
UNTRAINED_NOTE = ("untrained weights (deterministic stand-ins for tests): the outputs check the pipeline, they are "
                  "not predictions")
UNREADABLE_NOTE = (f"{FILE} is unreadable: where these weights come from is unknown, so the outputs are not "
                   "presented as predictions")
# what reports call the per-image results of weights that are not trained, instead of predictions
OUTPUTS_LABEL = "outputs (untrained weights)"
# the generated apps' permanent notice above the results, and the line their result text starts with
APP_NOTICE = "Untrained weights: results are not predictions"
APP_RESULT_PREFIX = "Outputs of untrained weights, not predictions:"


@dataclasses.dataclass(frozen=True)
class Provenance:
    zoo_model: str
    trained: bool
    source: str  # the published weights a trained entry loads; "" otherwise
    readable: bool = True  # False: the file was there but damaged (read as unknown, not trained)

    @property
    def note(self) -> str:
        """One line for reports, consoles and apps: what these weights are."""
        if self.trained:
            return f"trained weights: {self.source}"
        return UNTRAINED_NOTE if self.readable else UNREADABLE_NOTE

    def to_json(self) -> dict:
        return {"zoo_model": self.zoo_model, "trained": self.trained, "source": self.source,
                "readable": self.readable, "note": self.note}


def write(folder: Path, zoo_model: str, trained: bool, source: str = "") -> None:
    record = Provenance(zoo_model, trained, source if trained else "")
    (Path(folder) / FILE).write_text(json.dumps(record.to_json(), indent=2) + "\n")


def read(model) -> Provenance | None:
    """The provenance recorded beside a model (a folder, or a file inside one); None when nothing is recorded."""
    model = Path(model)
    folder = model if model.is_dir() else model.parent
    path = folder / FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return Provenance(str(data["zoo_model"]), data["trained"] is True, str(data.get("source") or ""))
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return Provenance("unknown", False, "", readable=False)


def record(model) -> dict | None:
    """What report.json keeps: read(model).to_json(), or None when nothing is recorded."""
    found = None if model is None else read(model)
    return None if found is None else found.to_json()


def not_predictions(weights: dict | None) -> bool:
    """Whether results of these weights (a record()) must not be presented as predictions: recorded, not trained.
    Nothing recorded (a user's own export) claims nothing either way."""
    return weights is not None and weights.get("trained") is not True


def app_notice(*weights) -> str:
    """The generated app's notice when any of its models' weights (record()s) are not trained; "" otherwise."""
    return APP_NOTICE if any(not_predictions(w) for w in weights) else ""


def banner_html(weights: dict | None, what: str = "") -> str:
    """The report's line beside its verdict: a red banner for weights that are not trained, the source line of
    trained ones, nothing when nothing is recorded. what: whose weights ("detector: "), for reports with two."""
    if weights is None:
        return ""
    e = html.escape
    if not_predictions(weights):
        return (f'<p class=untrained style="background:#fff3cd;border:2px solid #c4161c;padding:6px 10px;'
                f'font-weight:bold">&#9888; {e(what)}{e(weights["note"])}. The per-image results below are '
                f'{e(OUTPUTS_LABEL)}.</p>')
    return f"<p class=weights>{e(what)}{e(weights['note'])}.</p>"
