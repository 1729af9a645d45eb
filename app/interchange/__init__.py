"""Import and export of glossaries: CSV, JSON Lines and SKOS (Turtle), all through one typed record
(`records.TermRecord`).

`export_text` turns a valid glossary into one of the formats; `plan_import` reads files in any
of them into a per-row report plus the term files to write (`ImportPlan.write`), after a dry-run
check on a copy (`ImportPlan.check`). See README, "Import and export".
"""

from app.interchange.exporter import FORMATS, export_text
from app.interchange.importer import DEFAULT_OWNER, ImportPlan, ReportLine, Source, plan_import

__all__ = ["DEFAULT_OWNER", "FORMATS", "ImportPlan", "ReportLine", "Source", "export_text", "plan_import"]
