"""The policy file: each house rule once, with its conditions, owner and home term; model and loader."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # libyaml when PyYAML has it: ~10x faster
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

POLICY_FILE = "policy.yaml"
Kind = Literal["saas", "software", "hardware", "services"]
DataKind = Literal["none", "internal", "confidential", "personal"]
Payment = Literal["card", "po"]
RULE_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
ORG_PATH = re.compile(r"^org(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


class Band(BaseModel):
    """A range of numbers with explicit boundaries: `from`/`up_to` include the value, `above`/`below` do not."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: float | str | None = Field(None, alias="from")
    above: float | str | None = None
    below: float | str | None = None
    up_to: float | str | None = None
    basis: Literal["total", "annual"] = "total"

    @model_validator(mode="after")
    def _one_bound_each_side(self) -> "Band":
        if self.from_ is not None and self.above is not None:
            raise ValueError("give either 'from' (inclusive) or 'above' (exclusive), not both")
        if self.below is not None and self.up_to is not None:
            raise ValueError("give either 'below' (exclusive) or 'up_to' (inclusive), not both")
        if all(v is None for v in (self.from_, self.above, self.below, self.up_to)):
            raise ValueError("a band needs at least one boundary: from, above, below or up_to")
        for value in (self.from_, self.above, self.below, self.up_to):
            if isinstance(value, str) and not ORG_PATH.match(value):
                raise ValueError(f"'{value}' is neither a number nor an org path such as org.thresholds.three_quotes")
        return self

    def bounds(self) -> dict[str, float | str]:
        out = {"from": self.from_, "above": self.above, "below": self.below, "up_to": self.up_to}
        return {k: v for k, v in out.items() if v is not None}


class Conditions(BaseModel):
    """When a rule applies: every condition given must hold; a list means any of its values."""

    model_config = ConfigDict(extra="forbid")

    amount: Band | None = None
    term_months: Band | None = None
    term_years: Band | None = None
    kind: list[Kind] | None = None
    data: list[DataKind] | None = None
    payment: list[Payment] | None = None
    renewal: bool | None = None
    any_of: list["Conditions"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_values_are_lists(cls, data: object) -> object:
        if isinstance(data, dict):
            data = {k: _as_list(v) if k in ("kind", "data", "payment") else v for k, v in data.items()}
        return data

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in type(self).model_fields)


class RuleSpec(BaseModel):
    """One rule as written in policy.yaml."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=rf"^{RULE_ID}$")
    term: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    text: str = Field(min_length=1)
    case: str | None = None
    when: Conditions = Field(default_factory=Conditions)
    unless: list[str] = Field(default_factory=list)


@dataclass
class Rule:
    """A validated rule with its sentences rendered and its band boundaries resolved to numbers."""

    id: str
    term: str
    owner: str
    text: str
    case: str | None
    when: Conditions
    unless: list[str]
    # Resolved boundaries per condition: {"amount": {"from": 10000.0, "below": 100000.0}, ...}
    bands: dict[str, dict[str, float]] = field(default_factory=dict)
    any_of_bands: list[dict[str, dict[str, float]]] = field(default_factory=list)
    source_line: int = 0


@dataclass
class Policy:
    """Every rule by id, in file order."""

    rules: dict[str, Rule] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        return self.rules.get(rule_id)


def node_lines(node: yaml.Node | None) -> dict[tuple, int]:
    """Map each path in a composed YAML document (('rules', 3, 'when', 'amount'), …) to its line."""
    lines: dict[tuple, int] = {}

    def walk(n: yaml.Node, path: tuple) -> None:
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                sub = (*path, key.value)
                walk(value, sub)
                lines[sub] = key.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*path, i))

    if node is not None:
        walk(node, ())
    return lines


def read_policy_file(path: Path) -> tuple[object, dict[tuple, int], str | None, int]:
    """Parse the YAML; return (data, lines by path, error message, error line)."""
    try:
        text = path.read_text(encoding="utf-8")
        # One parse (libyaml when PyYAML has it): the node tree gives both the data and the lines.
        node = yaml.compose(text, Loader=_SafeLoader)
        data = yaml.constructor.SafeConstructor().construct_document(node) if node is not None else None
        lines = node_lines(node)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
        return None, {}, f"invalid YAML: {getattr(exc, 'problem', exc)}", line
    except (OSError, UnicodeDecodeError) as exc:
        return None, {}, f"cannot read file: {exc}", 0
    except RecursionError:
        return None, {}, "invalid YAML: nested too deeply", 1
    return data, lines, None, 0


def validate_spec(raw: object, index: int, lines: dict[tuple, int]) -> tuple[RuleSpec | None, list[tuple[int, str, str]]]:
    """Validate one rule entry; return it and its problems as (line, field, message)."""
    base = ("rules", index)
    if not isinstance(raw, dict):
        return None, [(lines.get(base, 1), f"rules[{index}]", "each rule must be a mapping with id, term, owner and text")]
    try:
        return RuleSpec.model_validate(raw), []
    except ValidationError as exc:
        rule_id = raw.get("id", index)
        out = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p in ("function-after", "list[literal]"))]
            path = (*base, *loc)
            line = next((lines[path[:n]] for n in range(len(path), 1, -1) if path[:n] in lines), lines.get(base, 1))
            message = {"missing": "required field is missing", "extra_forbidden": "unknown field"}.get(err["type"], err["msg"])
            out.append((line, f"rules[{rule_id}]." + ".".join(str(p) for p in loc), message))
        return None, out
