"""The timeline you drag: the filmstrip under an upload, with handles.

On Interpolate the two ends of the part to slow down or smooth are dragged
(``mode="segment"``); on Extend the length of the new part, a hatched band
past the clip's end (before its start, or both; ``mode="extend"``).  A drag
or a tap moves the nearer handle there; arrow keys move a focused handle.
When a handle is let go the component fires its ``release`` event with the
new values (``{"start", "end"}`` or ``{"seconds"}``), and the tab sets its
sliders from them: the sliders and their typed numbers stay, for precision
and accessibility, and every change of theirs redraws the handles here.

It is a :class:`gradio.HTML` with a template, scoped CSS and a few lines of
JavaScript (pointer events, so mouse, pen and touch alike), not a compiled
custom component: PyPI's ``gradio-rangeslider`` (0.0.8, Apache-2.0, the one
two-handle slider there) declares gradio < 6, and its front end does not load
in gradio 6.31 (tried: its Svelte 4 bundle looks for
``window.__gradio__svelte__internal``, which gradio 6 no longer sets); it is
also a slider, not a filmstrip.
"""
from __future__ import annotations

import base64

import cv2
import gradio as gr
import numpy as np

from ... import config
from ..timeline import Filmstrip

JPEG_QUALITY = 85           # the filmstrip is sent as a JPEG data URL (a few tens of kB)
EXTEND_ZONE = 0.28          # share of the width the extension's range takes on one side ...
EXTEND_ZONE_BOTH = 0.2      # ... and on each side when extending both ways


def _zone(side: str, unless: str, label: str) -> str:
    """The extension's range on one side of the strip (JS template text): shown unless the
    direction is ``unless``, with its drag handle."""
    return (f"""    ${{value.mode === 'extend' && value.direction !== '{unless}' ? `
    <div class="vx-zone vx-{side}" style="flex-basis:${{value.zone * 100}}%" data-side="{side}">
      <div class="vx-band"></div><span class="vx-lab"></span>
      <div class="vx-h vx-h-ext" data-h="{side}" role="slider" tabindex="0" aria-label="{label}"
           aria-valuemin="${{value.min}}" aria-valuemax="${{value.max}}"></div>
    </div>` : ''}}
""")


TEMPLATE = """
${value && value.src ? `
<div class="vx-tl vx-${value.mode}" data-mode="${value.mode}">
  <div class="vx-row">
""" + _zone("back", "forward", "seconds added before the start") + """    <div class="vx-strip">
      <img src="${value.src}" alt="filmstrip of the clip" draggable="false">
      ${value.mode === 'segment' ? `
      <div class="vx-dim vx-dim-l"></div><div class="vx-dim vx-dim-r"></div><div class="vx-sel"></div>
      <div class="vx-h vx-h-seg" data-h="start" role="slider" tabindex="0" aria-label="start of the part"
           aria-valuemin="0" aria-valuemax="${value.duration}"></div>
      <div class="vx-h vx-h-seg" data-h="end" role="slider" tabindex="0" aria-label="end of the part"
           aria-valuemin="0" aria-valuemax="${value.duration}"></div>` : ''}
    </div>
""" + _zone("fwd", "backward", "seconds added after the end") + """  </div>
  ${value.mode !== 'view' ? `<div class="vx-readout" aria-live="polite"></div>` : ''}
</div>` : ''}
"""

CSS = """
.vx-tl { user-select: none; -webkit-user-select: none; margin: 4px 0 2px; }
.vx-row { display: flex; align-items: stretch; gap: 3px; }
.vx-strip { position: relative; flex: 1 1 auto; min-width: 0; touch-action: pan-y; cursor: pointer; }
.vx-strip img { display: block; width: 100%; height: auto; min-height: 36px; object-fit: fill;
                border-radius: 3px; pointer-events: none; }
.vx-dim { position: absolute; top: 0; bottom: 0; background: rgba(0, 0, 0, 0.62); pointer-events: none; }
.vx-dim-l { left: 0; } .vx-dim-r { right: 0; }
.vx-sel { position: absolute; top: 0; bottom: 0; border-top: 3px solid #ffaa00; border-bottom: 3px solid #ffaa00;
          box-sizing: border-box; pointer-events: none; }
.vx-h { position: absolute; top: -6px; bottom: -6px; width: 14px; margin-left: -7px; border-radius: 4px;
        background: #ffaa00; box-shadow: 0 0 0 1px rgba(0, 0, 0, 0.45); cursor: ew-resize; touch-action: none;
        z-index: 2; outline: none; }
.vx-h::before { content: ""; position: absolute; top: -8px; bottom: -8px; left: -13px; right: -13px; }
.vx-h::after { content: ""; position: absolute; top: 30%; bottom: 30%; left: 5px; right: 5px;
               border-left: 1px solid rgba(0, 0, 0, 0.55); border-right: 1px solid rgba(0, 0, 0, 0.55); }
.vx-h:focus-visible { box-shadow: 0 0 0 3px #1d4ed8; }
.vx-h.vx-active { background: #ffc640; }
.vx-zone { position: relative; flex: 0 0 auto; border: 1px dashed rgba(120, 140, 170, 0.7); border-radius: 3px;
           touch-action: pan-y; cursor: pointer; min-height: 36px; }
.vx-band { position: absolute; top: 0; bottom: 0; border-radius: 3px; pointer-events: none;
           background: repeating-linear-gradient(135deg, #4696ff 0 3px, rgba(70, 150, 255, 0.18) 3px 9px); }
.vx-fwd .vx-band { left: 0; } .vx-back .vx-band { right: 0; }
.vx-zone .vx-h { background: #4696ff; }
.vx-lab { position: absolute; top: 100%; left: 50%; transform: translateX(-50%); margin-top: 8px; font-size: 12px;
          font-weight: 600; color: #fff; background: #2b6fd6; padding: 0 5px; border-radius: 3px;
          pointer-events: none; white-space: nowrap; }
.vx-readout { font-size: 0.85em; opacity: 0.8; margin-top: 6px; }
.vx-extend .vx-readout { margin-top: 30px; }
"""

JS = """
const clamp = (x, a, b) => Math.min(b, Math.max(a, x));
const snap = (x, step) => Math.round(x / step) * step;
const fmt = (s) => { const m = Math.floor(s / 60); const r = s - 60 * m; return m + ':' + (r < 10 ? '0' : '') + r.toFixed(1); };
const v = () => props.value || {};
let cur = null;         // what the handles show now: {start, end} or {seconds}
let drag = null;        // {h: 'start' | 'end' | 'fwd' | 'back', el}

function fresh() {
  const s = v();
  cur = s.mode === 'segment' ? {start: s.start, end: s.end} : s.mode === 'extend' ? {seconds: s.seconds} : null;
}
function place() {
  const s = v(); if (!s.src || !cur) return;
  const out = element.querySelector('.vx-readout');
  if (s.mode === 'segment') {
    const a = cur.start / s.duration * 100, b = cur.end / s.duration * 100;
    const q = (c) => element.querySelector(c);
    if (!q('.vx-sel')) return;
    q('.vx-dim-l').style.width = a + '%'; q('.vx-dim-r').style.width = (100 - b) + '%';
    q('.vx-sel').style.left = a + '%'; q('.vx-sel').style.width = (b - a) + '%';
    for (const [name, t, pct] of [['start', cur.start, a], ['end', cur.end, b]]) {
      const h = element.querySelector('[data-h="' + name + '"]');
      h.style.left = pct + '%'; h.setAttribute('aria-valuenow', t.toFixed(2));
      h.setAttribute('aria-valuetext', t.toFixed(2) + ' s');
    }
    if (out) out.textContent = 'The part: ' + fmt(cur.start) + ' – ' + fmt(cur.end) + ' ('
      + (cur.end - cur.start).toFixed(2) + ' s). Drag the orange handles, or use the sliders below.';
  } else if (s.mode === 'extend') {
    element.querySelectorAll('.vx-zone').forEach((z) => {
      const frac = clamp(cur.seconds / s.max, 0, 1) * 100;
      const band = z.querySelector('.vx-band'), h = z.querySelector('.vx-h'), lab = z.querySelector('.vx-lab');
      band.style.width = frac + '%';
      const back = z.dataset.side === 'back';
      h.style.left = (back ? 100 - frac : frac) + '%';
      lab.textContent = '+' + (+cur.seconds.toFixed(2)) + ' s';
      lab.style.left = clamp(back ? 100 - frac : frac, 12, 88) + '%';     // under the edge, inside the zone
      h.setAttribute('aria-valuenow', String(cur.seconds)); h.setAttribute('aria-valuetext', cur.seconds + ' seconds');
    });
    const where = {forward: 'after the end', backward: 'before the start', both: 'on each side'}[s.direction] || '';
    if (out) out.textContent = 'Adds ' + (+cur.seconds.toFixed(2)) + ' s ' + where
      + '. Drag the blue edge, or use the slider below.';
  }
}
function at(h, x) {            // the value a pointer at page x gives handle h
  const s = v();
  if (s.mode === 'segment') {
    const r = element.querySelector('.vx-strip').getBoundingClientRect();
    const t = snap(clamp((x - r.left) / r.width, 0, 1) * s.duration, s.step);
    if (h === 'start') cur.start = clamp(t, 0, cur.end - s.step);
    else cur.end = clamp(t, cur.start + s.step, s.duration);
    cur.start = +cur.start.toFixed(2); cur.end = +cur.end.toFixed(2);
  } else {
    const z = element.querySelector(h === 'back' ? '.vx-back' : '.vx-fwd');
    const r = z.getBoundingClientRect();
    const frac = h === 'back' ? (r.right - x) / r.width : (x - r.left) / r.width;
    cur.seconds = clamp(snap(clamp(frac, 0, 1) * s.max, s.step), s.min, s.max);
  }
  place();
}
function send() {
  const s = v();
  trigger('release', s.mode === 'segment' ? {start: cur.start, end: cur.end} : {seconds: cur.seconds});
}
element.addEventListener('pointerdown', (e) => {
  const s = v(); if (!s.src || !cur || e.button > 0) return;
  let h = e.target.closest('.vx-h'), name = h ? h.dataset.h : null;
  if (!name) {
    const zone = e.target.closest('.vx-zone'), strip = e.target.closest('.vx-strip');
    if (s.mode === 'segment' && strip) {       // a tap on the strip moves the nearer end there
      const r = strip.getBoundingClientRect(), t = (e.clientX - r.left) / r.width * s.duration;
      name = Math.abs(t - cur.start) <= Math.abs(t - cur.end) ? 'start' : 'end';
    } else if (s.mode === 'extend' && zone) {
      name = zone.dataset.side;
    } else return;
    h = element.querySelector('[data-h="' + name + '"]');
  }
  if (!h) return;
  e.preventDefault();
  drag = {h: name, el: h, id: e.pointerId};
  try { h.setPointerCapture(e.pointerId); } catch (err) {}
  h.classList.add('vx-active');
  at(name, e.clientX);
});
element.addEventListener('pointermove', (e) => { if (drag && e.pointerId === drag.id) { e.preventDefault(); at(drag.h, e.clientX); } });
const end = (e) => {
  if (!drag || e.pointerId !== drag.id) return;
  drag.el.classList.remove('vx-active'); drag = null; send();
};
element.addEventListener('pointerup', end);
element.addEventListener('pointercancel', end);
element.addEventListener('keydown', (e) => {
  const h = e.target.closest && e.target.closest('.vx-h'); if (!h || !cur) return;
  const s = v(), big = e.shiftKey ? 10 : 1;
  const d = {ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1}[e.key];
  if (!d) return;
  e.preventDefault();
  if (s.mode === 'segment') {
    const k = h.dataset.h, t = cur[k] + d * big * s.step;
    cur[k] = k === 'start' ? clamp(t, 0, cur.end - s.step) : clamp(t, cur.start + s.step, s.duration);
    cur[k] = +cur[k].toFixed(2);
  } else {
    const sign = h.dataset.h === 'back' ? -d : d;
    cur.seconds = clamp(cur.seconds + sign * big * s.step, s.min, s.max);
  }
  place(); send();
});
fresh(); place();
watch('value', () => { if (!drag) { fresh(); place(); } });
"""


def strip_src(image: np.ndarray) -> str:
    """An RGB picture as a JPEG data URL."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("cannot encode the filmstrip")
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode()


def segment_value(strip: Filmstrip | None, start: float | None = None, end: float | None = None,
                  step: float = 0.01) -> dict | None:
    """The component's value on Interpolate: the part from ``start`` to ``end`` (None: the clip's edges)."""
    if strip is None:
        return None
    d = round(max(strip.duration_s, step), 2)
    a = 0.0 if start is None else float(np.clip(start, 0, d))
    b = d if end is None or end <= 0 else float(np.clip(end, 0, d))
    if b <= a:                  # a backwards segment (its note says so): show the whole clip
        a, b = 0.0, d
    return {"mode": "segment", "src": strip_src(strip.image), "duration": d, "start": round(a, 2),
            "end": round(b, 2), "step": step}


def extend_value(strip: Filmstrip | None, seconds: float, direction: str = "forward", *,
                 low: float = 0.5, high: float = config.APP_EXTEND_MAX_S, step: float = 0.5) -> dict | None:
    """The component's value on Extend: ``seconds`` added ``direction`` (forward, backward, both), on a
    scale from ``low`` to ``high`` seconds (the slider's)."""
    if strip is None:
        return None
    return {"mode": "extend", "src": strip_src(strip.image), "duration": round(strip.duration_s, 2),
            "seconds": float(np.clip(seconds or low, low, high)), "direction": direction, "min": low,
            "max": high, "step": step, "zone": EXTEND_ZONE_BOTH if direction == "both" else EXTEND_ZONE}


def plain_value(strip: Filmstrip | None) -> dict | None:
    """The filmstrip alone (Audio, Evaluate): nothing to drag."""
    if strip is None:
        return None
    return {"mode": "view", "src": strip_src(strip.image), "duration": round(strip.duration_s, 2)}


def timeline(elem_id: str) -> gr.HTML:
    """The component, hidden until a clip is chosen."""
    return gr.HTML(None, html_template=TEMPLATE, css_template=CSS, js_on_load=JS, elem_id=elem_id,
                   visible=False, padding=False, container=False)


def show(value: dict | None) -> gr.HTML:
    """An update of the component: ``value`` shown, or the component hidden (no clip)."""
    return gr.HTML(value=value, visible=value is not None)


def released(evt: gr.EventData) -> dict:
    """What a drag ended on (``{"start", "end"}`` or ``{"seconds"}``), numbers only."""
    data = getattr(evt, "_data", None) or {}
    return {k: float(v) for k, v in data.items() if k in ("start", "end", "seconds") and
            isinstance(v, (int, float)) and not isinstance(v, bool)}
