"""docs/DEPLOY.md ends with the first-deployment checklist (issue 18): whatever other sections are
added, a reader who scrolls to the end finds the steps in order."""

from __future__ import annotations

import re

from tests.deploy.conftest import ROOT


def test_the_deploy_guide_ends_with_the_first_deployment_checklist() -> None:
    text = (ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    headings = re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)
    assert headings[-1] == "First-deployment checklist", headings[-3:]
    checklist = text[text.rindex("First-deployment checklist") :]
    steps = re.findall(r"^\d+\. \*\*(.+?)\*\*", checklist, flags=re.MULTILINE)
    assert [step.split(".")[0].split(",")[0] for step in steps] == [
        "Model access", "Preflight", "Deploy", "Smoke", "Watch",
    ]  # fmt: skip
    assert "manga-assist preflight" in checklist and "manga-assist smoke" in checklist
