"""The state machine diagram, docs/state-machine.md, is the synthesized one, and the README and
docs/architecture.md lead to it."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from infra import diagram
from infra.local.synth import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
ARCHITECTURE = PROJECT_ROOT / "docs" / "architecture.md"


@pytest.fixture(scope="module")
def definition(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """StoryWorkflow as `make diagram` reads it: the local stage, synthesized."""
    return diagram.synthesized_definition(tmp_path_factory.mktemp("diagram"))


def states_of(states: dict[str, Any]) -> dict[str, Any]:
    """Every state, those of Parallel branches and Map item processors too."""
    found = dict(states)
    for state in states.values():
        for branch in state.get("Branches", []):
            found |= states_of(branch["States"])
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            found |= states_of(processor["States"])
    return found


def frames(chart: str) -> dict[str, list[str]]:
    """The frames (subgraphs) each node and frame of the chart is drawn in, outermost first."""
    inside: dict[str, list[str]] = {}
    open_frames: list[str] = []
    for line in chart.splitlines()[1:]:
        line = line.strip()
        if line == "end":
            open_frames.pop()
        elif match := re.match(r"subgraph (\w+)\[", line):
            inside[match.group(1)] = list(open_frames)
            open_frames.append(match.group(1))
        elif match := re.match(r"(\w+)[\[\(\{]", line):
            inside[match.group(1)] = list(open_frames)
    assert open_frames == []
    return inside


def test_the_docs_page_shows_the_synthesized_workflow(definition: dict[str, Any]) -> None:
    assert diagram.DOCUMENT.read_text() == diagram.document(definition), (
        "docs/state-machine.md differs from the synthesized StoryWorkflow: run `make diagram`"
    )


def test_the_diagram_is_linked_right_after_the_architecture_sketch() -> None:
    architecture = ARCHITECTURE.read_text()
    sketch_end = architecture.index("```", architecture.index("```") + 3) + 3
    link = architecture.index("(state-machine.md)")
    assert sketch_end < link < architecture.index("\n## ", sketch_end)
    assert "```" not in architecture[sketch_end:link]  # nothing drawn in between


def test_the_readme_leads_to_the_diagram_and_holds_no_copy_of_it() -> None:
    readme = README.read_text()
    assert "(docs/state-machine.md)" in readme
    assert "```mermaid" not in readme  # a copy no test compares would drift


def test_every_state_and_transition_is_drawn(definition: dict[str, Any]) -> None:
    chart = diagram.flowchart(definition)
    drawn = frames(chart)
    edges = set(chart.splitlines())
    start = diagram.node_id(definition["StartAt"])
    assert f"    __start__ --> {start}" in edges
    for name, state in states_of(definition["States"]).items():
        node = diagram.node_id(name)
        assert node in drawn, name
        assert name in chart  # the label keeps the state's own name
        if "Next" in state:
            assert f"    {node} --> {diagram.node_id(state['Next'])}" in edges
        for catcher in state.get("Catch", []):  # dashed
            assert re.search(
                rf"^    {node} -\.->\|\"[^\"]+\"\| {diagram.node_id(catcher['Next'])}$", chart, re.M
            ), (name, catcher)
        for rule in state.get("Choices", []):  # labelled with the rule
            assert re.search(
                rf"^    {node} -->\|\"\$\.\w+ == [^\"]+\"\| {diagram.node_id(rule['Next'])}$",
                chart,
                re.M,
            ), (name, rule)
        if "Default" in state:
            assert f'    {node} -->|"otherwise"| {diagram.node_id(state["Default"])}' in edges


def test_map_processors_and_parallel_branches_are_frames(definition: dict[str, Any]) -> None:
    drawn = frames(diagram.flowchart(definition))
    assert drawn["Media"] == []
    assert drawn["Images"] == ["Media"]
    assert drawn["Videos"] == ["Media"]
    for state in ("GenerateImage", "ImageFailed"):
        assert drawn[state] == ["Media", "Images"]
    for state in ("StartVideo", "WaitForVideo", "CheckVideo", "VideoReady?", "VideoFailed"):
        assert drawn[diagram.node_id(state)] == ["Media", "Videos"]
    assert drawn["MarkFailed"] == []


def test_a_changed_workflow_is_caught(definition: dict[str, Any]) -> None:
    changed = copy.deepcopy(definition)
    del changed["States"]["WriteStory"]["Catch"]
    assert diagram.document(changed) != diagram.DOCUMENT.read_text()
    assert diagram.document(changed) != diagram.document(definition)
