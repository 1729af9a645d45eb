"""Load and validate the glossary folder, reporting every problem with file, line and field."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import ValidationError

from app.glossary.model import SECTION_HEADINGS, FrontMatter, Glossary, Term, normalize

ORG_FILE = "org.yaml"
TERMS_DIR = "terms"
PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
# The one shape a placeholder may have: a path into org, optionally through `money` (no arithmetic, no calls).
ORG_PLACEHOLDER = re.compile(r"\{\{\s*org(?:\.[A-Za-z_][A-Za-z0-9_]*)+\s*(?:\|\s*money\s*)?\}\}")
HEADING = re.compile(r"^##\s+(.+?)\s*$", re.M)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when PyYAML has it: ~10x faster
    """Safe YAML that leaves dates as text, so pydantic reports a bad date like any other field."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the glossary, located as precisely as we can."""

    file: str
    line: int
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.field}: {self.message}"


class GlossaryInvalid(Exception):
    """The glossary has errors; `problems` lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"glossary has {len(errors)} error(s):\n" + "\n".join(str(p) for p in errors))


@dataclass
class LoadResult:
    glossary: Glossary | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def ok(self) -> bool:
        return not self.errors


def _money(value: object, org: dict) -> str:
    currency = org.get("company", {}).get("currency", "")
    try:
        amount = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"{currency}{value}"
    return f"{currency}{amount:,.0f}" if amount == int(amount) else f"{currency}{amount:,.2f}"


def make_renderer(org: dict) -> SandboxedEnvironment:
    """Return the sandboxed Jinja environment term text is rendered in (only `org` is visible)."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters["money"] = lambda value: _money(value, org)
    env.globals = {"org": org}
    return env


def content_hash(glossary_dir: Path) -> str:
    """Hash the org file and every term file, so a changed glossary means a stale index."""
    digest = hashlib.sha256()
    for path in sorted(_source_files(glossary_dir)):
        digest.update(path.relative_to(glossary_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _source_files(glossary_dir: Path) -> list[Path]:
    files = sorted((glossary_dir / TERMS_DIR).glob("*.md"))
    org = glossary_dir / ORG_FILE
    return ([org] if org.exists() else []) + files


def _rel(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base.parent).as_posix()
    except ValueError:
        return path.as_posix()


def load_org(path: Path, rel: str) -> tuple[dict, list[Problem]]:
    """Read the org file; it must be a YAML mapping."""
    if not path.exists():
        return {}, [Problem(rel, 0, "org", "org file is missing; create it with the company's numbers")]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
        return {}, [Problem(rel, line, "org", f"invalid YAML: {getattr(exc, 'problem', exc)}")]
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Problem(rel, 0, "org", f"cannot read file: {exc}")]
    except RecursionError:
        return {}, [Problem(rel, 1, "org", "invalid YAML: nested too deeply")]
    if not isinstance(data, dict):
        return {}, [Problem(rel, 1, "org", "must be a YAML mapping of names to values")]
    return data, []


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Split '---' YAML front matter from the body; return (yaml, body, body_first_line)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    return None


def _key_line(front: str, key: str) -> int:
    match = re.search(rf"^{re.escape(key)}\s*:", front, re.M)
    return front[: match.start()].count("\n") + 2 if match else 1


def parse_sections(body: str, first_line: int) -> tuple[dict[str, tuple[str, int]], list[tuple[int, str]]]:
    """Split the body at '## ' headings; return {key: (raw text, line)} and unknown headings."""
    sections: dict[str, tuple[str, int]] = {}
    unknown: list[tuple[int, str]] = []
    matches = list(HEADING.finditer(body))
    for i, match in enumerate(matches):
        line = first_line + body[: match.start()].count("\n")
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        text = body[match.end() : end].strip()
        key = SECTION_HEADINGS.get(match.group(1).strip())
        if key is None:
            unknown.append((line, match.group(1).strip()))
        elif key in sections:
            unknown.append((line, f"{match.group(1).strip()} (repeated)"))
        else:
            sections[key] = (text, line + 1)
    return sections, unknown


def render_section(
    env: SandboxedEnvironment, raw: str, line: int, rel: str, field: str
) -> tuple[str, list[Problem]]:
    """Fill org placeholders in one section; report each bad placeholder at its own line."""
    problems = []
    # Compiling a Jinja template costs ~1 ms and every term has placeholders (66 distinct ones in
    # 1,100 uses): each distinct placeholder is rendered once per environment, i.e. per load.
    values: dict[str, str] = env.__dict__.setdefault("_placeholder_values", {})
    for match in PLACEHOLDER.finditer(raw):
        where = line + raw[: match.start()].count("\n")
        expr = match.group(0)
        if expr.startswith("{%") or not ORG_PLACEHOLDER.fullmatch(expr):
            problems.append(Problem(rel, where, field, f"only {{{{ org.… }}}} placeholders are allowed, not {expr}"))
            continue
        if expr in values:
            continue
        try:
            values[expr] = env.from_string(expr).render()
        except TemplateError as exc:
            problems.append(Problem(rel, where, field, f"unknown placeholder {expr}: {exc.message or exc}"))
        except Exception as exc:  # e.g. money of a value that is no number
            problems.append(Problem(rel, where, field, f"cannot render {expr}: {exc.__class__.__name__}: {exc}"))
    if problems:
        return raw, problems
    if "{" not in PLACEHOLDER.sub("", raw) and "\r" not in raw:
        # Only valid placeholders and plain text: what Jinja would output, without compiling.
        return PLACEHOLDER.sub(lambda m: values[m.group(0)], raw), []
    try:
        return env.from_string(raw).render(), []
    except Exception as exc:  # e.g. an unclosed {# comment
        return raw, [Problem(rel, line, field, f"cannot render: {exc}")]


MAX_TERM_CHARS = 100_000  # the longest shipped term file is ~4,000


def parse_term(path: Path, rel: str, env: SandboxedEnvironment) -> tuple[Term | None, list[Problem], dict]:
    """Parse one term file; return the term (or None) and its own problems."""
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(rel, 0, "file", f"cannot read file: {exc}")], {}
    if len(text) > MAX_TERM_CHARS:  # every later step is linear, but a term page should still be a page
        return None, [Problem(rel, 0, "file", f"file is longer than {MAX_TERM_CHARS:,} characters")], {}
    split = split_front_matter(text)
    if split is None:
        return None, [Problem(rel, 1, "front matter", "file must start with '---' YAML front matter closed by '---'")], {}
    front, body, body_line = split
    try:
        data = yaml.load(front, Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        return None, [Problem(rel, line, "front matter", f"invalid YAML: {getattr(exc, 'problem', exc)}")], {}
    except RecursionError:
        return None, [Problem(rel, 2, "front matter", "invalid YAML: nested too deeply")], {}
    if not isinstance(data, dict):
        return None, [Problem(rel, 2, "front matter", "must be a YAML mapping")], {}
    lines = {key: _key_line(front, str(key)) for key in data}
    try:
        meta = FrontMatter.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "front matter"
            top = str(err["loc"][0]) if err["loc"] else ""
            message = err["msg"]
            if err["type"] == "missing":
                message = "required field is missing"
            elif err["type"] == "extra_forbidden":
                message = "unknown field"
            problems.append(Problem(rel, lines.get(top, 1), field, message))
        meta = None
    if meta is not None and meta.slug != path.stem:
        problems.append(Problem(rel, lines.get("slug", 1), "slug", f"'{meta.slug}' must match the file name '{path.stem}'"))

    raw_sections, unknown = parse_sections(body, body_line)
    for line, heading in unknown:
        problems.append(Problem(rel, line, "sections", f"unknown heading '## {heading}' (allowed: {', '.join(SECTION_HEADINGS)})"))
    rendered: dict[str, str] = {}
    for heading, key in SECTION_HEADINGS.items():
        if key not in raw_sections:
            problems.append(Problem(rel, body_line, f"section {heading}", "section is missing"))
            continue
        raw, line = raw_sections[key]
        if not raw and key != "rules":
            problems.append(Problem(rel, line - 1, f"section {heading}", "section is empty"))
        rendered[key], section_problems = render_section(env, raw, line, rel, f"section {heading}")
        problems.extend(section_problems)
    if meta is None or problems:
        return None, problems, lines
    return Term(**meta.model_dump(), sections=rendered, source=rel), problems, lines


def _cross_check(terms: dict[str, Term], lines: dict[str, dict], dup: list[Problem], broken: set[str]) -> list[Problem]:
    """Check what spans terms: unique names, resolvable links, replacements, ambiguity declarations.

    Slugs of files that failed on their own (`broken`) still count as existing, so one bad file
    does not drown the report in unresolved links.
    """
    problems = list(dup)
    known = set(terms) | broken
    owners: dict[str, list[tuple[str, str]]] = {}
    for slug, term in terms.items():
        for name in term.names:
            holders = owners.setdefault(normalize(name), [])
            if all(s != slug for s, _ in holders):
                holders.append((slug, name))
    for slug, term in terms.items():
        line = lines[slug]
        declared = {normalize(a) for a in term.ambiguous}
        for name in term.ambiguous:
            if normalize(name) not in {normalize(a) for a in term.aliases}:
                problems.append(Problem(term.source, line.get("ambiguous", 1), "ambiguous", f"'{name}' is not one of the aliases"))
        for name in term.names:
            others = [(s, n) for s, n in owners[normalize(name)] if s != slug]
            for other, _ in others:
                both = normalize(name) in declared and normalize(name) in {normalize(a) for a in terms[other].ambiguous}
                if not both and slug < other:
                    problems.append(Problem(term.source, line.get("aliases", 1), "aliases",
                                            f"'{name}' is also a name or alias of '{other}' ({terms[other].source}); "
                                            "remove it from one term or declare it under 'ambiguous' on both"))
        for name in term.ambiguous:
            if len(owners.get(normalize(name), [])) < 2:
                problems.append(Problem(term.source, line.get("ambiguous", 1), "ambiguous",
                                        f"'{name}' is declared ambiguous but no other term uses it", "warning"))
        for target in term.related:
            if target == slug:
                problems.append(Problem(term.source, line.get("related", 1), "related", "a term cannot be related to itself"))
            elif target not in known:
                problems.append(Problem(term.source, line.get("related", 1), "related", f"'{target}' is not a known slug"))
        if term.status == "deprecated" and not term.replaced_by:
            problems.append(Problem(term.source, line.get("status", 1), "replaced_by", "a deprecated term must name its replacement"))
        if term.replaced_by and term.replaced_by not in known:
            problems.append(Problem(term.source, line.get("replaced_by", 1), "replaced_by", f"'{term.replaced_by}' is not a known slug"))
        if term.parent == slug:
            problems.append(Problem(term.source, line.get("parent", 1), "parent", "a term cannot be its own parent"))
        elif term.parent and term.parent not in known:
            problems.append(Problem(term.source, line.get("parent", 1), "parent", f"'{term.parent}' is not a known slug"))
    problems.extend(_parent_cycles(terms, lines))
    return problems


def _parent_cycles(terms: dict[str, Term], lines: dict[str, dict]) -> list[Problem]:
    """Report each loop of parents (a -> b -> a) once, on the loop's first slug."""
    problems = []
    for slug, term in terms.items():
        chain, current = [slug], term.parent
        while current in terms and current not in chain:
            chain.append(current)
            current = terms[current].parent
        if current == slug and len(chain) > 1 and slug == min(chain):
            problems.append(Problem(term.source, lines[slug].get("parent", 1), "parent",
                                    "parents form a loop: " + " -> ".join([*chain, slug])))
    return problems


def load_glossary(glossary_dir: Path) -> LoadResult:
    """Load every term and the org file; collect all problems rather than stopping at the first."""
    glossary_dir = Path(glossary_dir)
    if not glossary_dir.is_dir():
        return LoadResult(None, [Problem(str(glossary_dir), 0, "glossary_dir", "folder does not exist")])
    org_path = glossary_dir / ORG_FILE
    org, problems = load_org(org_path, _rel(org_path, glossary_dir))
    env = make_renderer(org)
    terms: dict[str, Term] = {}
    lines: dict[str, dict] = {}
    duplicates: list[Problem] = []
    broken: set[str] = set()
    files = sorted((glossary_dir / TERMS_DIR).glob("*.md"))
    if not files:
        problems.append(Problem(_rel(glossary_dir / TERMS_DIR, glossary_dir), 0, "terms", "no term files (*.md) found"))
    for path in files:
        rel = _rel(path, glossary_dir)
        term, term_problems, key_lines = parse_term(path, rel, env)
        problems.extend(term_problems)
        if term is None:
            broken.add(path.stem)
            continue
        if term.slug in terms:
            duplicates.append(Problem(rel, key_lines.get("slug", 1), "slug", f"duplicate slug '{term.slug}' (also {terms[term.slug].source})"))
            continue
        terms[term.slug] = term
        lines[term.slug] = key_lines
    problems.extend(_cross_check(terms, lines, duplicates, broken))
    result = LoadResult(None, problems)
    if result.ok():
        result.glossary = Glossary(terms=terms, org=org, content_hash=content_hash(glossary_dir))
    return result


def load_or_raise(glossary_dir: Path) -> tuple[Glossary, list[Problem]]:
    """Load the glossary or raise GlossaryInvalid listing every error."""
    result = load_glossary(glossary_dir)
    if result.glossary is None:
        raise GlossaryInvalid(result.problems)
    return result.glossary, result.problems
