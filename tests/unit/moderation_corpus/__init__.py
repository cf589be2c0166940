"""The story ideas the offline moderator is measured against, and its figures on them.

dev.txt is what the rules are developed against; held_out.txt was written before the rules and
is never tuned against (docs/moderation.md). Each line is "<label> | <idea>", the label "safe"
or the category a refusal should name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kidstory.safety import TextModerator, Verdict

HERE = Path(__file__).parent
SAFE = "safe"


@dataclass(frozen=True)
class Idea:
    label: str
    text: str
    source: str

    @property
    def unsafe(self) -> bool:
        return self.label != SAFE


def ideas(*names: str) -> list[Idea]:
    """The ideas of the named files (dev, held_out)."""
    found = []
    for name in names:
        for number, line in enumerate((HERE / f"{name}.txt").read_text().splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            label, _, text = line.partition(" | ")
            assert text.strip(), f"{name}.txt:{number}: expected '<label> | <idea>'"
            found.append(Idea(label.strip(), text.strip(), f"{name}.txt:{number}"))
    return found


@dataclass
class Figures:
    """Precision and recall of refusals: an unsafe idea refused (in any category) is a true
    positive, a safe one refused a false positive."""

    verdicts: list[tuple[Idea, Verdict]] = field(default_factory=list)

    @property
    def missed(self) -> list[Idea]:
        return [idea for idea, verdict in self.verdicts if idea.unsafe and verdict.allowed]

    @property
    def wrongly_refused(self) -> list[tuple[Idea, Verdict]]:
        return [(idea, v) for idea, v in self.verdicts if not idea.unsafe and not v.allowed]

    @property
    def unsafe_count(self) -> int:
        return sum(idea.unsafe for idea, _ in self.verdicts)

    @property
    def refused_count(self) -> int:
        return sum(not verdict.allowed for _, verdict in self.verdicts)

    @property
    def recall(self) -> float:
        return (self.unsafe_count - len(self.missed)) / self.unsafe_count

    @property
    def precision(self) -> float:
        refused = self.refused_count
        return (refused - len(self.wrongly_refused)) / refused if refused else 1.0

    def recall_by_category(self) -> dict[str, tuple[int, int]]:
        """category -> (unsafe ideas of it refused, unsafe ideas of it)."""
        counts: dict[str, tuple[int, int]] = {}
        for idea, verdict in self.verdicts:
            if idea.unsafe:
                refused, total = counts.get(idea.label, (0, 0))
                counts[idea.label] = (refused + (not verdict.allowed), total + 1)
        return dict(sorted(counts.items()))

    @property
    def named_right(self) -> float:
        """Of the unsafe ideas refused, the share refused under their own category."""
        refused = [(idea, v) for idea, v in self.verdicts if idea.unsafe and not v.allowed]
        return sum(v.category == idea.label for idea, v in refused) / len(refused)

    def lines(self, title: str) -> list[str]:
        safe = len(self.verdicts) - self.unsafe_count
        shown = [
            f"{title}: {self.unsafe_count} unsafe, {safe} safe ideas: "
            f"recall {self.recall:.3f}, precision {self.precision:.3f}, "
            f"named in their own category {self.named_right:.3f}",
        ]
        shown += [
            f"  {category:<10} recall {refused / total:.3f} ({refused}/{total})"
            for category, (refused, total) in self.recall_by_category().items()
        ]
        return shown


def measure(moderator: TextModerator, given: Iterable[Idea]) -> Figures:
    return Figures([(idea, moderator.check(idea.text)) for idea in given])
