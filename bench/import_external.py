"""Import the three external glossaries (../shared/external) into a scratch glossary and index it
with the real model; print term count, import seconds, index build seconds and index size.

    .venv/bin/python bench/import_external.py [--external DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.config import Settings  # noqa: E402
from app.glossary import load_glossary  # noqa: E402
from app.interchange import Source, plan_import  # noqa: E402
from app.resources import reference_embedder  # noqa: E402
from app.search.index import build_index, save_index  # noqa: E402

FILES = [("far_2101_procurement.jsonl", "procurement"),
         ("far_part_definitions_procurement.jsonl", "procurement"),
         ("nist_sp800-53r5_glossary_it_security.jsonl", "it")]


def size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--external", type=Path, default=REPO.parent / "shared" / "external")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and print where it is")
    args = parser.parse_args()
    missing = [name for name, _ in FILES if not (args.external / name).exists()]
    if missing:
        print(f"missing in {args.external}: {', '.join(missing)}", file=sys.stderr)
        return 2

    scratch = Path(tempfile.mkdtemp(prefix="import-external-"))
    try:
        glossary_dir = scratch / "glossary"
        (glossary_dir / "terms").mkdir(parents=True)
        shutil.copy(REPO / "glossary" / "org.yaml", glossary_dir / "org.yaml")

        started = time.perf_counter()
        plan = plan_import(glossary_dir, [Source(args.external / name, "jsonl", domain) for name, domain in FILES])
        written = plan.write()
        import_seconds = time.perf_counter() - started
        started = time.perf_counter()
        result = load_glossary(glossary_dir)
        load_seconds = time.perf_counter() - started
        if result.glossary is None:
            print("\n".join(str(p) for p in result.errors[:20]), file=sys.stderr)
            return 1
        glossary = result.glossary

        started = time.perf_counter()
        embedder = reference_embedder(Settings())  # sentence-transformers, as `glossary build` uses
        model_seconds = time.perf_counter() - started
        started = time.perf_counter()
        index = build_index(glossary, embedder)
        build_seconds = time.perf_counter() - started
        save_index(index, scratch / "index")

        counts = plan.counts()
        print(f"cpus:              {os.cpu_count()}")
        print(f"rows:              {len(plan.lines)} ({', '.join(f'{n} {a}' for a, n in sorted(counts.items()))})")
        print(f"terms:             {len(glossary)} ({len(written)} files, {size_of(glossary_dir / 'terms') / 1e6:.2f} MB)")
        print(f"import seconds:    {import_seconds:.2f} (read, plan, write); check/load {load_seconds:.2f}")
        print(f"model load:        {model_seconds:.2f} s ({embedder.model_id})")
        print(f"index build:       {build_seconds:.2f} s for {index.manifest['views']} views "
              f"({index.manifest['views'] / build_seconds:.0f} views/s)")
        print(f"index size:        {size_of(scratch / 'index') / 1e6:.2f} MB on disk "
              f"(vectors {index.vectors.nbytes / 1e6:.2f} MB)")
        if args.keep:
            print(f"kept:              {scratch}")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
