"""Path checks for servers: only files under the allowed folders are read or written."""
from __future__ import annotations

import os

import pytest

from vidext.errors import VidextError
from vidext.security import PathRefused, allowed_file, allowed_output, safe_name, upload_root


@pytest.fixture
def roots(tmp_path):
    uploads, outputs, outside = tmp_path / "uploads", tmp_path / "outputs", tmp_path / "outside"
    for d in (uploads, outputs, outside, uploads / "sub"):
        d.mkdir()
    (uploads / "clip.mp4").write_bytes(b"x")
    (uploads / "sub" / "nested clip é.mp4").write_bytes(b"x")
    (outputs / "result.mp4").write_bytes(b"x")
    (outside / "secret.txt").write_bytes(b"secret")
    os.symlink(outside / "secret.txt", uploads / "link_out.mp4")
    os.symlink(uploads / "clip.mp4", uploads / "link_in.mp4")
    os.symlink(outside, uploads / "dir_out")
    os.mkfifo(uploads / "pipe.mp4")
    return {"uploads": str(uploads), "outputs": str(outputs), "outside": str(outside), "tmp": tmp_path}


def test_files_inside_the_allowed_folders_are_accepted(roots):
    allowed = [roots["uploads"], roots["outputs"]]
    up = roots["uploads"]
    assert allowed_file(os.path.join(up, "clip.mp4"), allowed) == os.path.realpath(os.path.join(up, "clip.mp4"))
    assert allowed_file(os.path.join(up, "sub", "nested clip é.mp4"), allowed).endswith("nested clip é.mp4")
    assert allowed_file(os.path.join(roots["outputs"], "result.mp4"), allowed)
    # a link that stays inside resolves to its target, which is what gets opened
    assert allowed_file(os.path.join(up, "link_in.mp4"), allowed) == os.path.realpath(os.path.join(up, "clip.mp4"))


@pytest.mark.parametrize("make_path,reason", [
    (lambda r: "/etc/passwd", "outside the folders"),
    (lambda r: "/dev/zero", "outside the folders"),
    (lambda r: os.path.join(r["uploads"], "..", "outside", "secret.txt"), "may not contain '..'"),
    (lambda r: os.path.join(r["uploads"], "sub", "..", "clip.mp4"), "may not contain '..'"),
    (lambda r: r["uploads"] + "/../../../../etc/passwd", "may not contain '..'"),
    (lambda r: os.path.join(r["uploads"], "link_out.mp4"), "outside the folders"),
    (lambda r: os.path.join(r["uploads"], "dir_out", "secret.txt"), "outside the folders"),
    (lambda r: os.path.join(r["outside"], "secret.txt"), "outside the folders"),
    (lambda r: r["uploads"] + "_evil/clip.mp4", "outside the folders"),   # a sibling with the same prefix
    (lambda r: os.path.join(r["uploads"], "missing.mp4"), "does not exist"),
    (lambda r: os.path.join(r["uploads"], "sub"), "not a regular file"),
    (lambda r: os.path.join(r["uploads"], "pipe.mp4"), "not a regular file"),
    (lambda r: r["uploads"], "not a regular file"),
    (lambda r: "", "empty"),
    (lambda r: os.path.join(r["uploads"], "clip.mp4\x00.png"), "NUL"),
    (lambda r: os.path.join(r["uploads"], "clip\n.mp4"), "control characters"),
    (lambda r: 42, "not a file path"),
    (lambda r: {"path": "/etc/passwd"}, "not a file path"),
])
def test_everything_else_is_refused(roots, make_path, reason):
    if reason == "outside the folders" and make_path(roots) == "/etc/passwd" and not os.path.exists("/etc/passwd"):
        pytest.skip("no /etc/passwd here")
    with pytest.raises(PathRefused, match=reason) as err:
        allowed_file(make_path(roots), [roots["uploads"], roots["outputs"]])
    assert isinstance(err.value, VidextError) and isinstance(err.value, PermissionError)
    assert "\n" not in str(err.value)


def test_root_folder_cannot_be_allowed(roots):
    with pytest.raises(ValueError, match="file-system root"):
        allowed_file("/etc/passwd", ["/"])
    with pytest.raises(ValueError, match="no allowed folders"):
        allowed_file(os.path.join(roots["uploads"], "clip.mp4"), [])


def test_output_paths(roots):
    allowed = [roots["outputs"]]
    out = roots["outputs"]
    assert allowed_output(os.path.join(out, "new.mp4"), allowed) == os.path.join(os.path.realpath(out), "new.mp4")
    assert allowed_output(os.path.join(out, "result.mp4"), allowed)   # replacing our own result
    os.symlink(os.path.join(roots["outside"], "secret.txt"), os.path.join(out, "trap.mp4"))
    for bad, reason in [
        (os.path.join(roots["outside"], "o.mp4"), "outside the folders"),
        (os.path.join(out, "..", "outside", "o.mp4"), "may not contain '..'"),
        (os.path.join(out, "trap.mp4"), "not a regular file"),
        (os.path.join(out, "missing", "o.mp4"), "does not exist"),
        ("/etc/cron.d/o", "outside the folders"),
        (out + "/", "names no file"),
    ]:
        with pytest.raises(PathRefused, match=reason):
            allowed_output(bad, allowed)


@pytest.mark.parametrize("text,want", [
    ("holiday clip.mp4", "holiday_clip"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\cmd.exe", "cmd"),
    ("-rf --output=x.mp4", "rf_output_x"),
    (".hidden.mp4", "hidden"),
    ("клип 日本語 é.mov", "клип_日本語_é"),
    ("a\x00b\nc;rm -rf ~;$(reboot)`id`.mp4", "a_b_c_rm_rf_reboot_id"),
    ("", "clip"),
    ("....", "clip"),
    ("x" * 500 + ".mp4", "x" * 80),
])
def test_safe_name(text, want):
    name = safe_name(text)
    assert name == want
    assert "/" not in name and "\\" not in name and not name.startswith(("-", "."))


def test_upload_root_follows_gradio(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    assert upload_root() == str(tmp_path)
    monkeypatch.delenv("GRADIO_TEMP_DIR")
    assert upload_root().endswith(os.path.join("", "gradio"))
