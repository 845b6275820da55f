"""Load the versioned prompt files in ``prompts/``: a front matter (task, version), a system and a user part."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template

_FRONT = re.compile(r"^---\n(?P<head>.*?)\n---\n(?P<body>.*)$", re.S)
_PART = re.compile(r"^# (system|user)\s*$", re.M)


@dataclass(frozen=True)
class Prompt:
    task: str
    version: int
    system: str
    user: Template

    @property
    def tag(self) -> str:
        """What the cache and the records store: changing the file's version re-extracts."""
        return f"{self.task}@v{self.version}"

    def messages(self, **values: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user.substitute(values)}]


def parse(text: str) -> Prompt:
    m = _FRONT.match(text)
    if not m:
        raise ValueError("prompt file must start with a --- front matter block")
    head = dict(line.split(":", 1) for line in m.group("head").splitlines() if ":" in line)
    parts = _PART.split(m.group("body"))
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    return Prompt(task=head["task"].strip(), version=int(head["version"]), system=sections["system"], user=Template(sections["user"]))


@cache
def load(task: str) -> Prompt:
    text = resources.files("nianbao.prompts").joinpath(f"{task}.md").read_text(encoding="utf-8")
    prompt = parse(text)
    if prompt.task != task:
        raise ValueError(f"prompts/{task}.md declares task {prompt.task!r}")
    return prompt
