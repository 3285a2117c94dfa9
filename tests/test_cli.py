"""The CLI contract: exit codes, one-line errors, nothing left behind."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from vidext._cli import main

VIDEXT = [sys.executable, "-m", "vidext"]


def run(*args):
    return subprocess.run(VIDEXT + list(args), capture_output=True, text=True)


def test_interpolate_cli(tmp_path, clip):
    src = clip(frames=20)
    out = tmp_path / "o.mp4"
    p = run("interpolate", src, "-o", str(out), "--fps", "60", "--quality", "fast")
    assert p.returncode == 0, p.stderr
    assert out.exists() and (tmp_path / "o.mp4.json").exists()
    assert "wrote" in p.stdout and "audio copied" in p.stdout


def test_probe_cli_json(clip, capsys):
    assert main(["probe", clip(frames=5), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["video"]["frame_count"] == 5 and d["video"]["fps_nominal"] == "25"


@pytest.mark.parametrize("content", [b"", os.urandom(4096), b"hello\n" * 50])
def test_bad_input_exit_2_one_line_no_output(tmp_path, content):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    out = tmp_path / "o.mp4"
    p = run("interpolate", str(bad), "-o", str(out))
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert p.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:"), p.stderr
    assert "Traceback" not in p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["bad.mp4"]


@pytest.mark.parametrize("args,needle", [
    (["--factor", "2", "--fps", "60"], "not allowed with"),
    (["--fps", "abc"], "not a number"),
    (["--quality", "ultra"], "invalid choice"),
    (["--codec", "prores"], "cannot be written to a .mp4"),
    (["--crf", "99"], "crf must be between"),
])
def test_bad_arguments_exit_2(tmp_path, clip, args, needle):
    src = clip(frames=4)
    p = run("interpolate", src, "-o", str(tmp_path / "o.mp4"), *args)
    assert p.returncode == 2 and p.stderr.strip().splitlines()[-1].startswith("error:")
    assert needle in p.stderr
    assert not (tmp_path / "o.mp4").exists()


def test_missing_output_folder(tmp_path, clip):
    p = run("interpolate", clip(frames=4), "-o", str(tmp_path / "no" / "o.mp4"))
    assert p.returncode == 2 and "output folder does not exist" in p.stderr


@pytest.mark.parametrize("command", ["interpolate", "extend", "audio", "evaluate", "batch", "serve", "probe",
                                     "sample"])
def test_every_help_page_prints(command, capsys):
    """``--help`` formats every option's help (a stray % in one crashed ``evaluate --help``)."""
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert f"usage: vidext {command}" in capsys.readouterr().out
