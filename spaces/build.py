"""Assemble the Hugging Face Space folder from the repository (it does not push).

    python spaces/build.py OUT

OUT receives the Space's README (front matter: sdk, sdk_version, python_version,
app_file, models, suggested_hardware), requirements.txt, packages.txt (Debian
ffmpeg), app.py, the vidext package and the model cards.  Push it with
``huggingface-cli upload <owner>/vidext OUT .`` or git.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPACE = Path(__file__).resolve().parent
FILES = {SPACE / "README.md": "README.md", SPACE / "requirements.txt": "requirements.txt",
         SPACE / "packages.txt": "packages.txt", ROOT / "app.py": "app.py"}
TREES = {ROOT / "vidext": "vidext", ROOT / "model_cards": "model_cards"}
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def build(out: Path) -> Path:
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"error: {out} is not empty; give a new or empty folder")
    out.mkdir(parents=True, exist_ok=True)
    for src, name in FILES.items():
        shutil.copy2(src, out / name)
    for src, name in TREES.items():
        shutil.copytree(src, out / name, ignore=IGNORE)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Assemble the vidext Space folder (no push).")
    p.add_argument("out", type=Path, help="new or empty folder to fill")
    args = p.parse_args(argv)
    out = build(args.out)
    print(f"space folder ready: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
