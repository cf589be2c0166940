"""The state machine diagram of the README and docs/state-machine.md is the synthesized one."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from infra import diagram


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


def test_the_readme_shows_the_synthesized_workflow(definition: dict[str, Any]) -> None:
    readme = diagram.README.read_text()
    assert diagram.marked_block(readme) == diagram.readme_block(definition), (
        "README.md's state machine diagram differs from the synthesized StoryWorkflow: "
        "run `make diagram`"
    )


def test_the_docs_page_shows_the_synthesized_workflow(definition: dict[str, Any]) -> None:
    assert diagram.DOCUMENT.read_text() == diagram.document(definition), (
        "docs/state-machine.md differs from the synthesized StoryWorkflow: run `make diagram`"
    )


def test_the_diagram_sits_after_the_architecture_sketch() -> None:
    readme = diagram.README.read_text()
    architecture = readme.index("## Architecture")
    block = readme.index(diagram.BEGIN_MARKER)
    assert architecture < block < readme.index("\n## ", architecture + 1)
    assert readme[:block].rstrip().endswith("```")  # right after the ASCII sketch


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


def test_a_changed_workflow_is_caught_and_only_the_block_is_rewritten(
    definition: dict[str, Any],
) -> None:
    changed = copy.deepcopy(definition)
    del changed["States"]["WriteStory"]["Catch"]
    readme = diagram.README.read_text()
    assert diagram.readme_block(changed) != diagram.marked_block(readme)

    rewritten = diagram.with_block(readme, diagram.readme_block(changed))
    assert diagram.marked_block(rewritten) == diagram.readme_block(changed)
    before, after = readme.split(diagram.BEGIN_MARKER)[0], readme.split(diagram.END_MARKER)[1]
    assert rewritten.startswith(before) and rewritten.endswith(after)


def test_the_readme_needs_exactly_one_marked_block() -> None:
    with pytest.raises(ValueError, match="state-machine"):
        diagram.marked_block("# no diagram here\n")
    block = f"{diagram.BEGIN_MARKER}\n{diagram.END_MARKER}"
    with pytest.raises(ValueError, match="state-machine"):
        diagram.marked_block(f"{block}\n{block}\n")
