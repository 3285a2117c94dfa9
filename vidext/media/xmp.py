"""``OUTPUT.xmp``: the sidecar that editing software reads, beside vidext's own ``OUTPUT.json``.

Adobe's XMP sidecar convention (a file of the output's name with ``.xmp``, one
``x:xmpmeta`` packet) in the standard namespaces editing tools read:

- ``xmp:`` (XMP basic): ``CreatorTool`` (``vidext 0.1.0``), ``CreateDate``, ``MetadataDate``;
- ``dc:`` (Dublin Core): ``format`` (MIME type), ``source`` (the input's file name),
  ``description`` (one plain sentence: what was done, how, how long it took);
- ``xmpMM:`` (media management): ``DerivedFrom`` (the input) and one ``History`` event
  (``stEvt:action="derived"``, ``softwareAgent``, ``when``, ``parameters``: the command and its
  settings in one line, the way editing applications record their own steps);
- ``xmpDM:`` (dynamic media): ``videoFrameRate``, ``videoFrameSize``, ``duration``;
- ``vidext:`` (this namespace, :data:`NS_VIDEXT`): the command, the method, every setting, the
  processing time in seconds and, where the job measured one, its quality score.

Written with the standard library's XML writer from the JSON record, so both sidecars always say
the same; read back by a real XMP parser (Adobe's XMP toolkit through exempi) in the tests.
"""
from __future__ import annotations

import datetime as _dt
import os
import xml.etree.ElementTree as ET

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "stRef": "http://ns.adobe.com/xap/1.0/sType/ResourceRef#",
    "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "xmpDM": "http://ns.adobe.com/xmp/1.0/DynamicMedia/",
    "stDim": "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
    "vidext": "https://vidext.github.io/ns/1.0/",
}
NS_VIDEXT = NS["vidext"]

#: MIME type by the output's extension (dc:format)
MIME = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/x-matroska",
        ".webm": "video/webm", ".avi": "video/x-msvideo", ".ts": "video/mp2t", ".mts": "video/mp2t",
        ".mxf": "application/mxf", ".gif": "image/gif", ".wav": "audio/wav", ".flac": "audio/flac",
        ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".opus": "audio/ogg",
        ".mka": "audio/x-matroska", ".aac": "audio/aac"}

for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


def _q(name: str) -> str:
    prefix, _, local = name.partition(":")
    return f"{{{NS[prefix]}}}{local}"


def _text(parent, name: str, value) -> None:
    ET.SubElement(parent, _q(name)).text = str(value)


def _lang_alt(parent, name: str, value: str) -> None:
    alt = ET.SubElement(ET.SubElement(parent, _q(name)), _q("rdf:Alt"))
    li = ET.SubElement(alt, _q("rdf:li"))
    li.set("{http://www.w3.org/XML/1998/namespace}lang", "x-default")
    li.text = value


def _struct(parent, name: str) -> ET.Element:
    el = ET.SubElement(parent, _q(name))
    el.set(_q("rdf:parseType"), "Resource")
    return el


def _plain(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ",".join(_plain(v) for v in value)
    return "" if value is None else str(value)


def _settings(record: dict) -> dict[str, str]:
    """The job's settings as ``name → text`` (None left out), from ``parameters`` or ``options``."""
    params = record.get("parameters") or record.get("options") or {}
    return {k: _plain(v) for k, v in params.items() if v is not None and not isinstance(v, dict)}


def _method(record: dict) -> str | None:
    params = record.get("parameters") or record.get("options") or {}
    auto = record.get("auto") or {}
    chosen = auto.get("chosen") if isinstance(auto, dict) else None
    method = params.get("model") or params.get("method") or record.get("operation")
    if method == "auto" and chosen:
        return f"auto ({chosen})"
    if params.get("quality") and params.get("model") == "dis":
        return f"dis ({params['quality']})"
    return method


def quality_score(record: dict) -> tuple[str, float, str] | None:
    """(metric, value, on what) of the quality the job itself measured, or None when it measured none.

    ``--model auto`` measures its candidates on held-out frames of the clip: the chosen one's
    perceptual distance (LPIPS, lower is better) or, without it, its luma PSNR.
    """
    auto = record.get("auto")
    if not isinstance(auto, dict) or not auto.get("table"):
        return None
    row = next((r for r in auto["table"] if r.get("method") == auto.get("chosen")), None)
    if row is None:
        return None
    on = f"{row.get('frames')} held-out frames of this clip"
    if row.get("lpips") is not None:
        return "lpips", float(row["lpips"]), on
    if row.get("psnr_y") is not None:
        return "psnr_y", float(row["psnr_y"]), on
    return None


def _seconds(record: dict) -> float | None:
    timings = record.get("timings") or {}
    s = timings.get("seconds", record.get("seconds"))
    return None if s is None else float(s)


def describe(record: dict) -> str:
    """One sentence a person reads: ``interpolate with dis (balanced) from clip.mp4: 240 frames at 60 fps,
    4.00 s, in 1.75 s``."""
    out = record.get("output") or {}
    line = record.get("command", "vidext")
    method = _method(record)
    if method:
        line += f" with {method}"
    src = (record.get("input") or {}).get("path") if isinstance(record.get("input"), dict) else record.get("input")
    if src:
        line += f" from {os.path.basename(str(src))}"
    bits = []
    if out.get("frames"):
        bits.append(f"{out['frames']} frames at {_plain(_fps(out.get('fps')))} fps")
    if out.get("duration_s") is not None:
        bits.append(f"{float(out['duration_s']):.2f} s")
    seconds = _seconds(record)
    if bits:
        line += ": " + ", ".join(bits)
    if seconds is not None:
        line += f", in {seconds:.2f} s"
    return line


def _fps(value) -> float | None:
    if value in (None, ""):
        return None
    from fractions import Fraction

    return float(Fraction(str(value)))


def xmp_packet(output: str, record: dict, now: _dt.datetime | None = None) -> str:
    """The XMP sidecar's text for ``output`` made as ``record`` (the JSON sidecar's record) says."""
    now = now or _dt.datetime.now(_dt.timezone.utc).astimezone()
    when = now.isoformat(timespec="seconds")
    agent = f"{record.get('tool', 'vidext')} {record.get('version', '')}".strip()
    root = ET.Element(_q("x:xmpmeta"))
    root.set(_q("x:xmptk"), agent)
    desc = ET.SubElement(ET.SubElement(root, _q("rdf:RDF")), _q("rdf:Description"))
    desc.set(_q("rdf:about"), "")
    _text(desc, "xmp:CreatorTool", agent)
    _text(desc, "xmp:CreateDate", when)
    _text(desc, "xmp:MetadataDate", when)
    ext = os.path.splitext(output)[1].lower()
    if ext in MIME:
        _text(desc, "dc:format", MIME[ext])
    info = record.get("input") if isinstance(record.get("input"), dict) else {}
    src = info.get("path") if info else record.get("input")
    if src:
        _text(desc, "dc:source", os.path.basename(str(src)))
    _lang_alt(desc, "dc:description", describe(record))
    if src:
        ref = _struct(desc, "xmpMM:DerivedFrom")
        _text(ref, "stRef:filePath", os.path.basename(str(src)))
    seq = ET.SubElement(ET.SubElement(desc, _q("xmpMM:History")), _q("rdf:Seq"))
    event = ET.SubElement(seq, _q("rdf:li"))
    event.set(_q("rdf:parseType"), "Resource")
    _text(event, "stEvt:action", "derived")
    _text(event, "stEvt:softwareAgent", agent)
    _text(event, "stEvt:when", when)
    settings = _settings(record)
    _text(event, "stEvt:parameters",
          " ".join([str(record.get("command", ""))] + [f"{k}={v}" for k, v in settings.items()]).strip())
    out = record.get("output") or {}
    fps = _fps(out.get("fps"))
    if fps:
        _text(desc, "xmpDM:videoFrameRate", _plain(fps))
    if out.get("size"):
        dim = _struct(desc, "xmpDM:videoFrameSize")
        _text(dim, "stDim:w", out["size"][0])
        _text(dim, "stDim:h", out["size"][1])
        _text(dim, "stDim:unit", "pixel")
    duration = out.get("duration_s", out.get("audio_s"))
    if duration is not None:
        d = _struct(desc, "xmpDM:duration")
        _text(d, "xmpDM:value", round(float(duration) * 1000))
        _text(d, "xmpDM:scale", "1/1000")
    _text(desc, "vidext:command", record.get("command", ""))
    method = _method(record)
    if method:
        _text(desc, "vidext:method", method)
    seconds = _seconds(record)
    if seconds is not None:
        _text(desc, "vidext:processingSeconds", f"{seconds:.3f}")
    score = quality_score(record)
    if score is not None:
        _text(desc, "vidext:qualityMetric", score[0])
        _text(desc, "vidext:qualityScore", f"{score[1]:.6g}")
        _text(desc, "vidext:qualityMeasuredOn", score[2])
    if settings:
        bag = _struct(desc, "vidext:settings")
        for k, v in settings.items():
            if k.isidentifier():
                _text(bag, f"vidext:{k}", v)
    ET.indent(root)
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            + ET.tostring(root, encoding="unicode") + '\n<?xpacket end="w"?>\n')


def xmp_path(output: str) -> str:
    """Where the XMP sidecar of ``output`` goes: the output's name with ``.xmp`` added (``clip.mp4.xmp``,
    beside ``clip.mp4.json``)."""
    return output + ".xmp"
