"""Deployments without a Docker engine: the Dockerfile's own steps run for real,
the Space folder is assembled and starts, the model cards are indexed.

The Docker test reads the Dockerfile (WORKDIR, ENV, COPY, RUN, HEALTHCHECK,
CMD), lays the image's /app out in a temp folder as COPY would, runs each
``scripts/docker_steps.sh`` step (against the suite's interpreter, with pip
kept off the network: every pin must already be satisfied), installs vidext
from that copy into a target folder, starts the app the way CMD does and
runs the HEALTHCHECK command against it.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT, asset

DOCKERFILE = ROOT / "Dockerfile"
STEPS = ROOT / "scripts" / "docker_steps.sh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines, out = [], []
    for raw in text.splitlines():
        if raw.strip().startswith("#"):
            continue
        lines.append(raw)
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _expand(text: str, env: dict) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m.group(1) or m.group(2), ""), text)


def _env_pairs(args: str) -> dict:
    return dict(kv.split("=", 1) for kv in shlex.split(args))


def _json_or_shell(args: str) -> list[str]:
    import json

    return json.loads(args) if args.startswith("[") else ["sh", "-c", args]


def test_dockerfile_runs_only_the_steps_script():
    ins = _instructions(DOCKERFILE.read_text())
    assert ins[0] == ("ARG", "PYTHON_IMAGE=python:3.11-slim-bookworm") and ins[1][0] == "FROM"
    runs = [a for i, a in ins if i == "RUN"]
    assert runs and all("scripts/docker_steps.sh " in r for r in runs)
    env = {}
    for i, a in ins:
        if i == "ENV":
            env.update(_env_pairs(a))
    assert env["GRADIO_SERVER_NAME"] == "0.0.0.0" and env["GRADIO_SERVER_PORT"] == "7860"
    assert env["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert ("USER", "vidext") in ins and ("EXPOSE", "7860") in ins
    assert any(i == "VOLUME" and "/data" in a for i, a in ins)
    assert env["HF_HOME"].startswith("/data") and env["VIDEXT_MODEL_DIR"].startswith("/data")
    from vidext.media.heap import TUNABLES

    assert env["GLIBC_TUNABLES"] == TUNABLES     # the heap of every process in the image, set at its start
    assert any(i == "HEALTHCHECK" for i, _ in ins)
    # requirements are exact pins (what the image installs is what CI tests)
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        spec = line.split("#")[0].strip()
        if spec:
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.]*", spec), spec


@pytest.mark.slow
def test_docker_steps_build_the_image_and_the_app_starts(tmp_path):
    image = tmp_path / "image"
    target = tmp_path / "site-packages"
    env = {**os.environ, "PYTHON": sys.executable, "PIP_NO_INDEX": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    workdir = image
    health = cmd = None
    ran = []
    for instruction, args in _instructions(DOCKERFILE.read_text()):
        args = _expand(args, env)
        if instruction == "ARG":
            name, _, default = args.partition("=")
            env.setdefault(name, default)
        elif instruction == "ENV":
            env.update({k: v for k, v in _env_pairs(args).items() if k != "PYTHON"})
        elif instruction == "WORKDIR":
            workdir = image / args.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            *sources, dest = shlex.split(args)
            into_dir = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
            for src in sources:
                to = workdir / dest / Path(src).name if into_dir else workdir / dest
                to.parent.mkdir(parents=True, exist_ok=True)
                if (ROOT / src).is_dir():
                    shutil.copytree(ROOT / src, to, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(ROOT / src, to)
        elif instruction == "RUN":
            words = shlex.split(args)
            assign = {}
            while words and re.match(r"^\w+=", words[0]):
                k, _, v = words.pop(0).partition("=")
                assign[k] = v
            assert words[0] == "scripts/docker_steps.sh", args
            step = words[1]
            if step == "user":
                continue  # creates a system account: the image's business, not the test machine's
            if step == "package":  # into a target folder instead of the suite's own site-packages
                words = [words[0], step, str(image / words[2].lstrip("/")), str(target)]
            run_env = {**env, **assign}
            if step == "models":
                run_env["PYTHONPATH"] = str(target)
            r = subprocess.run(["bash", *words], cwd=workdir, env=run_env, capture_output=True, text=True,
                               timeout=300)
            assert r.returncode == 0, f"{args}: {r.stderr[-2000:]}"
            ran.append(step)
        elif instruction == "HEALTHCHECK":
            health = _json_or_shell(args.split("CMD", 1)[1].strip())
        elif instruction == "CMD":
            cmd = _json_or_shell(args)
    assert ran == ["system", "python", "package", "models"]
    assert (target / "vidext" / "webapp" / "handlers.py").is_file()
    assert not (target / "app.py").exists()  # app.py stays in /app, found from the working folder

    # start it the way CMD does: the installed package, app.py from WORKDIR, on loopback for the test
    assert cmd == ["vidext", "serve"] and health[:3] == ["python", "-m", "vidext.webapp.health"]
    port = _free_port()
    run_env = {**env, "PYTHONPATH": str(target), "GRADIO_SERVER_NAME": "127.0.0.1",
               "GRADIO_SERVER_PORT": str(port), "VIDEXT_APP_WORKDIR": str(tmp_path / "work"),
               "HF_HOME": str(tmp_path / "hf"), "VIDEXT_MODEL_DIR": str(tmp_path / "models"),
               "HF_HUB_OFFLINE": "1"}
    which = subprocess.run([sys.executable, "-P", "-c", "import vidext; print(vidext.__file__)"], cwd=workdir,
                           env=run_env, capture_output=True, text=True, check=True)
    assert which.stdout.strip().startswith(str(target))
    server = subprocess.Popen([sys.executable, "-P", "-m", "vidext", *cmd[1:]], cwd=workdir, env=run_env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline:
            status = subprocess.run([sys.executable, "-P", *health[1:]], cwd=workdir, env=run_env,
                                    capture_output=True, text=True)
            if status.returncode == 0 or server.poll() is not None:
                break
            time.sleep(1)
        assert server.poll() is None, server.stdout.read()[-3000:]
        assert status.returncode == 0, status.stderr
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    # and the health check notices when nothing answers
    down = subprocess.run([sys.executable, "-P", *health[1:]], cwd=workdir, env=run_env,
                          capture_output=True, text=True)
    assert down.returncode == 1 and "does not answer" in down.stderr


def test_models_step_finds_local_weights_and_names_what_is_missing(tmp_path):
    flownet = asset("rife", "flownet.pkl")
    models = tmp_path / "models"
    (models / "rife-4.25").mkdir(parents=True)
    os.symlink(flownet, models / "rife-4.25" / "flownet.pkl")
    env = {**os.environ, "PYTHON": sys.executable, "VIDEXT_MODEL_DIR": str(models), "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": str(ROOT)}
    r = subprocess.run(["bash", str(STEPS), "models", "rife-4.25"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("rife-4.25: model_dir ")
    r = subprocess.run(["bash", str(STEPS), "models", "rife-4.25 musicgen-small"], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 2
    assert "musicgen-small" in r.stderr and "HF_HUB_OFFLINE" in r.stderr and "Traceback" not in r.stderr


def test_space_folder_is_assembled_and_builds_the_app(tmp_path):
    out = tmp_path / "space"
    r = subprocess.run([sys.executable, str(ROOT / "spaces" / "build.py"), str(out)], capture_output=True,
                       text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert {p.name for p in out.iterdir()} >= {"README.md", "app.py", "requirements.txt", "packages.txt",
                                               "vidext", "model_cards"}
    assert not list(out.rglob("__pycache__")) and not (out / "tests").exists()
    front = _front_matter((out / "README.md").read_text())
    pins = _pins(ROOT / "requirements.txt")
    assert front["sdk"] == "gradio" and front["sdk_version"] == pins["gradio"]
    assert front["python_version"] == "3.11" and front["app_file"] == "app.py"
    assert front["suggested_hardware"]
    from vidext.models import MODELS

    assert front["models"] == sorted({m.repo_id for m in MODELS.values()})
    space_pins = _pins(out / "requirements.txt")
    assert "gradio" not in space_pins  # the Space's SDK installs gradio itself at sdk_version
    assert all(pins[k] == v for k, v in space_pins.items())
    assert "ffmpeg" in (out / "packages.txt").read_text().split()
    # the assembled folder runs on its own: the app builds from it, offline
    check = subprocess.run(
        [sys.executable, "-P", "-c", "import os, sys; sys.path.insert(0, os.getcwd()); import app, vidext; "
         "assert vidext.__file__.startswith(os.getcwd()), vidext.__file__; app.build_demo(); print('ok')"],
        cwd=out, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": "", "HF_HUB_OFFLINE": "1"})
    assert check.returncode == 0 and check.stdout.strip().endswith("ok"), check.stderr[-2000:]


def _front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    block = text.split("---\n", 2)[1]
    data: dict = {}
    key = None
    for line in block.splitlines():
        if line.startswith("  - ") and key:
            data.setdefault(key, []).append(line[4:].strip())
        elif ":" in line:
            key, _, value = line.partition(":")
            value = value.strip().strip('"')
            data[key.strip()] = value if value else []
    return data


def _pins(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        spec = line.split("#")[0].strip()
        if "==" in spec:
            name, version = spec.split("==")
            out[name.lower().replace("_", "-")] = version
    return out


def test_model_cards_index_links_every_card():
    index = (ROOT / "model_cards" / "README.md").read_text()
    cards = sorted(p.name for p in (ROOT / "model_cards").glob("*.md") if p.name != "README.md")
    assert cards
    for card in cards:
        assert f"]({card})" in index, f"model_cards/README.md does not link {card}"
    from vidext import models

    for spec in models.MODELS.values():
        assert (ROOT / spec.card).is_file()
        assert f"`{spec.name}`" in index and spec.repo_id in index


@pytest.mark.parametrize("deployment,requirements,devices", [
    ("Docker image, GPU (TORCH_VARIANT=cuda)", "requirements.txt", ("cuda", "cpu")),
    ("Docker image, CPU (TORCH_VARIANT=cpu)", "requirements.txt", ("cpu",)),
    ("Hugging Face Space (ZeroGPU)", "spaces/requirements.txt", ("cuda", "cpu")),
])
def test_every_quantization_mode_offered_has_its_package_in_each_deployment(deployment, requirements, devices):
    """--quantize int8|nf4 on CUDA needs bitsandbytes, int8 on the CPU torchao: a deployment that offers a
    mode on a device installs its package (else the job fails with a missing dependency where it should run)."""
    from vidext.models.quantization import BACKENDS, MODES, check_quantize
    from vidext.webapp.capabilities import quantize_choices

    offered = {check_quantize(q) for q in quantize_choices()}
    assert offered == set(MODES)
    pins = _pins(ROOT / requirements)
    needed = {BACKENDS[(mode, d)] for mode in offered for d in devices if (mode, d) in BACKENDS}
    assert needed and needed <= set(pins), f"{deployment}: {sorted(needed - set(pins))} missing from {requirements}"
    if "cuda" in devices:
        assert "bitsandbytes" in needed
