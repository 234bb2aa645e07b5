"""Write inferenceservice-v1beta1.json from KServe's CRD file (see README.md beside it).

python deploy/kserve/schema/vendor.py serving.kserve.io_inferenceservices.yaml
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

KEPT_SPEC = ("predictor",)  # the parts ../inferenceservice.yaml uses


def vendored(crd: dict[str, object]) -> dict[str, object]:
    """The v1beta1 openAPIV3Schema less ``status`` and the ``spec`` parts not kept."""
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta1"]  # type: ignore[index]
    schema = dict(version["schema"]["openAPIV3Schema"])
    properties = {k: v for k, v in schema["properties"].items() if k != "status"}
    spec = dict(properties["spec"])
    spec["properties"] = {k: spec["properties"][k] for k in KEPT_SPEC}
    properties["spec"] = spec
    schema["properties"] = properties
    return schema


if __name__ == "__main__":
    crd = yaml.safe_load(Path(sys.argv[1]).read_text())
    target = Path(__file__).with_name("inferenceservice-v1beta1.json")
    target.write_text(json.dumps(vendored(crd), indent=1) + "\n")
