"""Load and validate the glossary folder, reporting every problem with file, line and field."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import ValidationError

from app.glossary.model import SECTION_HEADINGS, FrontMatter, Glossary, Term, normalize
from app.glossary.policy import POLICY_FILE, RULE_ID, Conditions, Policy, Rule, read_policy_file, validate_spec
from app.text import ORG_PLACEHOLDER, PLACEHOLDER

ORG_FILE = "org.yaml"
TERMS_DIR = "terms"
RULE_PLACEHOLDER = re.compile(r"\{\{\s*rule\(\s*'(" + RULE_ID + r")'\s*\)\s*\}\}")
# Org blocks holding names (of the company, roles, contacts, systems) rather than rule values: a term
# may name the CISO or the contract register without citing a rule.
NAME_BLOCKS = ("company", "roles", "contacts", "systems")
SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n\s*\n\s*)$")
HEADING = re.compile(r"^##\s+(.+?)\s*$", re.M)


if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # libyaml when PyYAML has it: ~10x faster
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
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


def plural(value: object, singular: str, plural_form: str | None = None) -> str:
    """Return '1 hour' or '4 hours': the number with the word in the form it needs."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"{value} {plural_form or singular + 's'}"
    shown = f"{number:,.0f}" if number == int(number) else f"{number:,}"
    return f"{shown} {singular if number == 1 else (plural_form or singular + 's')}"


def capitalize_first(value: object) -> str:
    """Upper-case the first letter only ('the contract register' -> 'The contract register')."""
    text = str(value)
    return text[:1].upper() + text[1:]


def make_renderer(org: dict) -> SandboxedEnvironment:
    """Return the sandboxed Jinja environment term text is rendered in (only `org` is visible)."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters["money"] = lambda value: _money(value, org)
    env.filters["plural"] = plural
    env.filters["capitalize_first"] = capitalize_first
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
    extra = [glossary_dir / name for name in (ORG_FILE, POLICY_FILE) if (glossary_dir / name).exists()]
    return extra + files


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
    env: SandboxedEnvironment, raw: str, line: int, rel: str, field: str,
    rules: dict[str, str] | None = None, cited: list[str] | None = None,
) -> tuple[str, list[Problem]]:
    """Fill org placeholders (and, in term files, rule citations) in one section; report each bad one at its line."""
    problems = []
    # Compiling a Jinja template costs ~1 ms and every term has placeholders (66 distinct ones in
    # 1,100 uses): each distinct placeholder is rendered once per environment, i.e. per load.
    values: dict[str, str] = env.__dict__.setdefault("_placeholder_values", {})
    substitutions: dict[str, str] = {}
    for match in PLACEHOLDER.finditer(raw):
        where = line + raw[: match.start()].count("\n")
        expr = match.group(0)
        cite = RULE_PLACEHOLDER.fullmatch(expr)
        if cite and rules is not None:
            if cite.group(1) not in rules:
                problems.append(Problem(rel, where, field, f"unknown rule id '{cite.group(1)}' (not in {POLICY_FILE})"))
            else:
                substitutions[expr] = rules[cite.group(1)]
                if cited is not None and cite.group(1) not in cited:
                    cited.append(cite.group(1))
            continue
        org_match = ORG_PLACEHOLDER.fullmatch(expr)
        if expr.startswith("{%") or not org_match:
            citations = " (and {{ rule('id') }} citations)" if rules is not None else ""
            problems.append(Problem(rel, where, field, f"only {{{{ org.… }}}} placeholders are allowed{citations}, not {expr}"))
            continue
        if expr not in values:
            try:
                values[expr] = env.from_string(expr).render()
            except TemplateError as exc:
                problems.append(Problem(rel, where, field, f"unknown placeholder {expr}: {exc.message or exc}"))
                continue
            except Exception as exc:  # e.g. money of a value that is no number
                problems.append(Problem(rel, where, field, f"cannot render {expr}: {exc.__class__.__name__}: {exc}"))
                continue
        problems.extend(_reads_wrongly(raw, match, values[expr], org_match, rel, where, field))
        substitutions[expr] = values[expr]
    if problems:
        return raw, problems
    if "{" not in PLACEHOLDER.sub("", raw) and "\r" not in raw:
        # Only valid placeholders and plain text: what Jinja would output, without compiling.
        return PLACEHOLDER.sub(lambda m: substitutions[m.group(0)], raw), []
    try:
        return env.from_string(raw).render(rule=(rules or {}).get), []
    except Exception as exc:  # e.g. an unclosed {# comment
        return raw, [Problem(rel, line, field, f"cannot render: {exc}")]


MAX_TERM_CHARS = 100_000  # the longest shipped term file is ~4,000


@dataclass
class PolicyContext:
    """What term files need from the policy: rule sentences, and the values only a rule may state."""

    texts: dict[str, str]
    governed: dict[str, list[str]]  # org path -> ids of the rules that state it
    literals: list[tuple[re.Pattern, str, list[str]]]  # typed-out value -> what it is, rules stating it


def _org_value(org: dict, path: str) -> object:
    value: object = org
    for key in path.split(".")[1:]:
        if not isinstance(value, dict) or key not in value:
            raise KeyError(path)
        value = value[key]
    return value


def _resolve_bands(conditions: Conditions, org: dict) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Turn each band's boundaries into numbers (org paths looked up); return them and the errors."""
    bands: dict[str, dict[str, float]] = {}
    errors: list[str] = []
    for name in ("amount", "term_months", "term_years"):
        band = getattr(conditions, name)
        if band is None:
            continue
        resolved: dict[str, float] = {}
        for bound, value in band.bounds().items():
            if isinstance(value, str):
                try:
                    value = _org_value(org, value)
                except KeyError:
                    errors.append(f"{name}.{bound}: '{value}' is not in {ORG_FILE}")
                    continue
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    errors.append(f"{name}.{bound}: {band.bounds()[bound]} is not a number ({value!r})")
                    continue
            resolved[bound] = float(value)
        low = resolved.get("from", resolved.get("above"))
        high = resolved.get("below", resolved.get("up_to"))
        if low is not None and high is not None and low >= high:
            errors.append(f"{name}: the lower boundary {low:,.0f} is not below the upper one {high:,.0f}")
        bands[name] = resolved
    return bands, errors


def load_policy(glossary_dir: Path, org: dict, env: SandboxedEnvironment) -> tuple[Policy, list[Problem]]:
    """Read policy.yaml (optional): validate each rule, render its sentences, resolve its bands."""
    path = glossary_dir / POLICY_FILE
    rel = _rel(path, glossary_dir)
    policy = Policy()
    if not path.exists():
        return policy, []
    data, lines, error, error_line = read_policy_file(path)
    if error:
        return policy, [Problem(rel, error_line, "policy", error)]
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        return policy, [Problem(rel, 1, "rules", "must be a YAML mapping with a 'rules' list")]
    unknown_keys = [k for k in data if k != "rules"]
    problems = [Problem(rel, lines.get((k,), 1), str(k), "unknown field") for k in unknown_keys]
    for index, raw in enumerate(data["rules"]):
        spec, spec_problems = validate_spec(raw, index, lines)
        problems.extend(Problem(rel, line, field, message) for line, field, message in spec_problems)
        if spec is None:
            continue
        base = ("rules", index)
        if spec.id in policy.rules:
            problems.append(Problem(rel, lines.get((*base, "id"), 1), f"rules[{spec.id}].id",
                                    f"duplicate rule id (also line {policy.rules[spec.id].source_line})"))
            continue
        text, text_problems = render_section(env, spec.text.strip(), lines.get((*base, "text"), 1), rel, f"rules[{spec.id}].text")
        case: str | None = None
        case_problems: list[Problem] = []
        if spec.case:
            case, case_problems = render_section(env, spec.case.strip(), lines.get((*base, "case"), 1), rel, f"rules[{spec.id}].case")
        problems.extend(text_problems + case_problems)
        bands, band_errors = _resolve_bands(spec.when, org)
        any_of_bands = []
        for i, alternative in enumerate(spec.when.any_of or []):
            alt_bands, alt_errors = _resolve_bands(alternative, org)
            any_of_bands.append(alt_bands)
            band_errors += [f"any_of[{i}].{e}" for e in alt_errors]
        for message in band_errors:
            problems.append(Problem(rel, lines.get((*base, "when"), 1), f"rules[{spec.id}].when", message))
        policy.rules[spec.id] = Rule(id=spec.id, term=spec.term, owner=spec.owner, text=" ".join(text.split()),
                                     case=" ".join(case.split()) if case else None, when=spec.when, unless=spec.unless,
                                     bands=bands, any_of_bands=any_of_bands, source_line=lines.get(base, 1))
    return policy, problems


def _rule_paths(spec_text: str) -> set[str]:
    return {m.group(1) for m in ORG_PLACEHOLDER.finditer(spec_text)}


def policy_context(glossary_dir: Path, policy: Policy, org: dict) -> PolicyContext:
    """Work out which org values only a rule may state (those its sentences or bands use)."""
    governed = _governed_paths(glossary_dir, policy)
    return PolicyContext({i: r.text for i, r in policy.rules.items()}, governed, _governed_literals(governed, org))


def _governed_paths(glossary_dir: Path, policy: Policy) -> dict[str, list[str]]:
    """Map each org path a rule's sentences or bands use (names aside) to the ids of those rules."""
    governed: dict[str, list[str]] = {}
    path = glossary_dir / POLICY_FILE
    raw_rules: dict = {}
    if path.exists() and policy.rules:
        data, _, _, _ = read_policy_file(path)
        rules = data.get("rules", []) if isinstance(data, dict) else []
        raw_rules = {r.get("id"): r for r in rules if isinstance(r, dict)}
    for rule_id in policy.rules:
        raw = raw_rules.get(rule_id, {})
        paths = _rule_paths(f"{raw.get('text', '')} {raw.get('case') or ''}")
        paths |= {v for band in _all_bands(raw.get("when") or {}) for v in band.values() if isinstance(v, str) and v.startswith("org.")}
        for org_path in paths:
            if org_path.split(".")[1] not in NAME_BLOCKS:
                governed.setdefault(org_path, []).append(rule_id)
    return governed


def _governed_literals(governed: dict[str, list[str]], org: dict) -> list[tuple[re.Pattern, str, list[str]]]:
    """Patterns for the governed amounts and lead times typed out literally, with what each is and its rules."""
    currency = str(org.get("company", {}).get("currency", "$"))
    code = str(org.get("company", {}).get("currency_code", ""))
    literals = []
    for org_path, ids in governed.items():
        try:
            value = _org_value(org, org_path)
        except KeyError:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if value >= 1000:
            literals.append((_amount_pattern(value, currency, code), f"the amount {currency}{value:,.0f}", ids))
        elif "lead_time" in org_path:
            literals.append((re.compile(rf"\b{value:.0f}\s+working\s+days?\b", re.I), f"the lead time of {value:.0f} working days", ids))
    return literals


def _amount_pattern(value: float, currency: str, code: str) -> re.Pattern:
    """A pattern for an amount as people type it: $25,000, $25000, $25k, 25,000 EUR."""
    forms = [re.escape(f"{currency}{value:,.0f}"), re.escape(f"{currency}{value:.0f}")]
    if value % 1000 == 0:
        forms.append(re.escape(f"{currency}{value / 1000:.0f}") + r"\s?[kK]\b")
    if code:
        forms.append(rf"\b{re.escape(f'{value:,.0f}')}\s?{re.escape(code)}\b")
    return re.compile("(?<![\\w.,])(?:" + "|".join(forms) + ")(?![\\d,])")


def _all_bands(when: dict) -> list[dict]:
    bands = [when[k] for k in ("amount", "term_months", "term_years") if isinstance(when.get(k), dict)]
    for alternative in when.get("any_of") or []:
        if isinstance(alternative, dict):
            bands += _all_bands(alternative)
    return bands


def _policy_stated_outside_rules(raw: str, line: int, rel: str, heading: str, key: str, ctx: PolicyContext) -> list[Problem]:
    """Report a rule's value (threshold, approver, lead time) stated in a term file instead of citing the rule."""
    problems = []
    field = f"section {heading}"
    for match in ORG_PLACEHOLDER.finditer(raw):
        ids = ctx.governed.get(match.group(1))
        if ids:
            where = line + raw[: match.start()].count("\n")
            cites = ", ".join(f"{{{{ rule('{i}') }}}}" for i in ids[:3])
            problems.append(Problem(rel, where, field, f"{match.group(0)} states a value of the policy outside a rule; "
                                                       f"cite the rule instead: {cites}"))
    if key in ("definition", "example"):
        return problems  # definitions and examples may use figures ("often 30 to 90 days", "the $18,000 tool")
    for pattern, what, ids in ctx.literals:
        for match in pattern.finditer(raw):
            where = line + raw[: match.start()].count("\n")
            cites = ", ".join(f"{{{{ rule('{i}') }}}}" for i in ids[:3])
            problems.append(Problem(rel, where, field, f"'{match.group(0)}' types {what} literally; cite {cites}",
                                    "error" if key == "rules" else "warning"))
    return problems


def _reads_wrongly(raw: str, match: re.Match, value: str, org_match: re.Match, rel: str, where: int,
                  field: str) -> list[Problem]:
    """Report a filled-in value that reads wrongly where it stands: lower case at a sentence start, `(CISO)'s`."""
    problems = []
    filters = org_match.group(2) or ""
    if value[:1].islower() and "capitalize_first" not in filters and SENTENCE_START.search(raw[: match.start()]):
        problems.append(Problem(rel, where, field, f"{match.group(0)} starts a sentence but reads '{value[:20]}…' in lower "
                                                   f"case; write {{{{ {org_match.group(1)} | capitalize_first }}}}"))
    if value.endswith(")") and raw[match.end() : match.end() + 2] in ("'s", "’s"):
        problems.append(Problem(rel, where, field, f"{match.group(0)}'s reads '…{value[-8:]}'s'; rephrase "
                                                   f"(for example 'the approval of the …')"))
    return problems


def parse_term(path: Path, rel: str, env: SandboxedEnvironment,
               policy: PolicyContext | None = None) -> tuple[Term | None, list[Problem], dict]:
    """Parse one term file; return the term (or None) and its own problems."""
    read = _read_front_matter(path, rel)
    if isinstance(read, Problem):
        return None, [read], {}
    data, front, body, body_line = read
    lines = {key: _key_line(front, str(key)) for key in data}
    meta, problems = _validate_front_matter(data, lines, rel)
    if meta is not None and meta.slug != path.stem:
        problems.append(Problem(rel, lines.get("slug", 1), "slug", f"'{meta.slug}' must match the file name '{path.stem}'"))
    cited: list[str] = []
    rendered = _render_sections(body, body_line, env, rel, problems, policy or PolicyContext({}, {}, []), cited)
    if meta is None or any(p.severity == "error" for p in problems):
        return None, problems, lines
    return Term(**meta.model_dump(), sections=rendered, source=rel, rules=cited), problems, lines


def _read_front_matter(path: Path, rel: str) -> tuple[dict, str, str, int] | Problem:
    """The file's front matter as a mapping (with its text, the body and the body's first line), or why not."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(rel, 0, "file", f"cannot read file: {exc}")
    if len(text) > MAX_TERM_CHARS:  # every later step is linear, but a term page should still be a page
        return Problem(rel, 0, "file", f"file is longer than {MAX_TERM_CHARS:,} characters")
    split = split_front_matter(text)
    if split is None:
        return Problem(rel, 1, "front matter", "file must start with '---' YAML front matter closed by '---'")
    front, body, body_line = split
    try:
        data = yaml.load(front, Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        return Problem(rel, line, "front matter", f"invalid YAML: {getattr(exc, 'problem', exc)}")
    except RecursionError:
        return Problem(rel, 2, "front matter", "invalid YAML: nested too deeply")
    if not isinstance(data, dict):
        return Problem(rel, 2, "front matter", "must be a YAML mapping")
    return data, front, body, body_line


def _validate_front_matter(data: dict, lines: dict, rel: str) -> tuple[FrontMatter | None, list[Problem]]:
    """The front matter checked against the schema; each invalid field is a problem on its line."""
    try:
        return FrontMatter.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "front matter"
            top = str(err["loc"][0]) if err["loc"] else ""
            message = err["msg"]
            if err["type"] == "missing":
                message = "required field is missing"
            elif err["type"] == "extra_forbidden":
                message = "unknown field"
            problems.append(Problem(rel, lines.get(top, 1), field, message))
        return None, problems


def _render_sections(body: str, body_line: int, env: SandboxedEnvironment, rel: str, problems: list[Problem],
                     policy: PolicyContext, cited: list[str]) -> dict[str, str]:
    """Every known section rendered against org and the policy (rule ids cited go into `cited`).

    Unknown, missing and empty sections are problems, and so is a rule's value stated outside a rule.
    """
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
        rendered[key], section_problems = render_section(env, raw, line, rel, f"section {heading}", policy.texts, cited)
        problems.extend(section_problems)
        problems.extend(_policy_stated_outside_rules(raw, line, rel, heading, key, policy))
    return rendered


Owners = dict[str, list[tuple[str, str]]]  # normalized name -> (slug, name) of every term holding it


def _cross_check(terms: dict[str, Term], lines: dict[str, dict], dup: list[Problem], broken: set[str]) -> list[Problem]:
    """Check what spans terms: unique names, resolvable links, replacements, ambiguity declarations.

    Slugs of files that failed on their own (`broken`) still count as existing, so one bad file
    does not drown the report in unresolved links.
    """
    problems = list(dup)
    known = set(terms) | broken
    owners: Owners = {}
    for slug, term in terms.items():
        for name in term.names:
            holders = owners.setdefault(normalize(name), [])
            if all(s != slug for s, _ in holders):
                holders.append((slug, name))
    for slug, term in terms.items():
        problems.extend(_name_problems(slug, term, terms, owners, lines[slug]))
        problems.extend(_link_problems(slug, term, known, lines[slug]))
    problems.extend(_parent_cycles(terms, lines))
    return problems


def _check_policy_links(policy: Policy, terms: dict[str, Term], broken: set[str], rel: str) -> list[Problem]:
    """Each rule's home term exists, its `unless` ids exist, and some term cites it."""
    problems = []
    cited = {rule_id for term in terms.values() for rule_id in term.rules}
    for rule in policy.rules.values():
        if rule.term not in terms and rule.term not in broken:
            problems.append(Problem(rel, rule.source_line, f"rules[{rule.id}].term", f"'{rule.term}' is not a known slug"))
        for other in rule.unless:
            if other not in policy.rules:
                problems.append(Problem(rel, rule.source_line, f"rules[{rule.id}].unless", f"unknown rule id '{other}'"))
        if rule.id not in cited and not broken:
            problems.append(Problem(rel, rule.source_line, f"rules[{rule.id}]",
                                    f"no term cites this rule; add {{{{ rule('{rule.id}') }}}} to the Our rules of "
                                    f"'{rule.term}' (or remove the rule)", "warning"))
    return problems


def _name_problems(slug: str, term: Term, terms: dict[str, Term], owners: Owners, line: dict) -> list[Problem]:
    """Names and aliases another term also holds, and ambiguity declarations that do not fit."""
    problems = []
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
    return problems


def _link_problems(slug: str, term: Term, known: set[str], line: dict) -> list[Problem]:
    """Related, replaced_by and parent links that do not resolve (or point at the term itself)."""
    problems = []
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
    policy, policy_problems = load_policy(glossary_dir, org, env)
    problems.extend(policy_problems)
    ctx = policy_context(glossary_dir, policy, org)
    terms: dict[str, Term] = {}
    lines: dict[str, dict] = {}
    duplicates: list[Problem] = []
    broken: set[str] = set()
    files = sorted((glossary_dir / TERMS_DIR).glob("*.md"))
    if not files:
        problems.append(Problem(_rel(glossary_dir / TERMS_DIR, glossary_dir), 0, "terms", "no term files (*.md) found"))
    for path in files:
        rel = _rel(path, glossary_dir)
        term, term_problems, key_lines = parse_term(path, rel, env, ctx)
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
    problems.extend(_check_policy_links(policy, terms, broken, _rel(glossary_dir / POLICY_FILE, glossary_dir)))
    result = LoadResult(None, problems)
    if result.ok():
        result.glossary = Glossary(terms=terms, org=org, content_hash=content_hash(glossary_dir), policy=policy)
    return result


def load_or_raise(glossary_dir: Path) -> tuple[Glossary, list[Problem]]:
    """Load the glossary or raise GlossaryInvalid listing every error."""
    result = load_glossary(glossary_dir)
    if result.glossary is None:
        raise GlossaryInvalid(result.problems)
    return result.glossary, result.problems
