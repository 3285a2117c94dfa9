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


def test_quick_exit_flushes_and_keeps_the_status(tmp_path, clip):
    """``python -m vidext`` ends a finished command with os._exit: what it printed to a pipe is all
    there, the exit status is the command's."""
    p = run("probe", clip(frames=5), "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["video"]["frame_count"] == 5
    p = run("probe", str(tmp_path / "missing.mp4"))
    assert p.returncode == 2 and p.stderr.startswith("error:")


def test_entry_exits_quickly_only_after_commands_that_leave_nothing_running(monkeypatch, capsys):
    import vidext._cli as cli

    ended = []
    monkeypatch.setattr(cli.os, "_exit", lambda rc: ended.append(rc))
    monkeypatch.setattr(cli, "main", lambda argv: 3)
    monkeypatch.setattr(sys, "argv", ["vidext", "-q", "probe", "x"])   # the first word is the command
    cli.entry()
    assert ended == [3]
    for command in ("serve", "batch"):     # Gradio's and Ray's own shutdown run
        monkeypatch.setattr(sys, "argv", ["vidext", command])
        with pytest.raises(SystemExit) as exc:
            cli.entry()
        assert exc.value.code == 3
    assert ended == [3]
    assert set(cli.QUICK_EXIT) < set(cli.COMMANDS)
