#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""ConvLens responsiveness: is the window fluid while the occluder is dragged?

    responsiveness.py --convlens PATH --build-dir DIR [--threads 2]
                      [--seconds 6] [--models alexnet,zf-mini] [--wm CMD]

For each model, starts the real convlens binary under its own Xvfb and
session bus with CONVLENS_TRACE_FRAMES=LOG (the window then keeps its frame
clock running and logs every painted frame, every pointer motion and every
occlusion result, see src/ui/lens-frame-trace.h), switches to the Occlusion
view (AT-SPI), and drags the gray square over the image with xdotool in a
zigzag at about 60 pointer events a second.  From the log, over the drag:

  max frame gap   the longest time between two painted frames: the longest
                  the main loop was blocked or not scheduled (one frame at
                  60 Hz = 16.7 ms)
  frames > 20 ms  how many frame gaps were longer than 20 ms, and how many of
                  them were mostly waiting (the main thread used less CPU
                  than half the gap: the machine was busy, not the window)
  max frame CPU   the most CPU time the main thread used between two frames:
                  work that really blocks the main loop
  max loop latency  the most a high-priority 2 ms timeout in the window ran
                  late ("late" lines): how long the main loop was kept from
                  dispatching it (blocked or not scheduled), apart from the
                  frame clock's own pacing, which a frame gap includes
  handlers        count, mean and max time of the main-thread handlers the
                  window logs ("busy" lines: result installation, drag)

Each model runs with GSK's GL renderer (under Xvfb that is Mesa's llvmpipe,
a software rasteriser on the same 2 cores) and with its cairo renderer.
  updates/s       occlusion results shown per second
  motion/s        pointer events per second (the pointer's rate)

By default no window manager runs on the private X server; --wm CMD
starts one first (e.g. "openbox --sm-disable", an EWMH one, or twm), and
the JSON records which.  With openbox the window is placed elsewhere than
(0, 0), so pointer positions are taken from the window's place on the
screen.

Models: torchvision alexnet at 224x224 (seeded weights, exported by
tests/models/make-torchvision.py and cached in DIR/models, as run-bench
does) and the embedded default model models/zf-mini.onnx (28x28).
Writes DIR/responsiveness.json.  Not a test: numbers go to bench/README.md.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
MAKE_TORCHVISION = os.path.join(ROOT, "tests", "models", "make-torchvision.py")
PYTHON = "/usr/bin/python3"


def log(msg=""):
    print(msg, flush=True)


def alexnet(build_dir):
    outdir = os.path.join(build_dir, "models")
    model = os.path.join(outdir, "alexnet_op13", "model.onnx")
    if not os.path.exists(model):
        log("exporting alexnet (cached in %s) ..." % outdir)
        p = subprocess.run([PYTHON, MAKE_TORCHVISION, outdir, "--only", "alexnet",
                            "--opset", "13", "--no-reference"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            log("cannot export alexnet:\n" + p.stderr[-2000:])
            return None
    image = os.path.join(build_dir, "responsiveness-224.png")
    if not os.path.exists(image):
        # a smooth picture with structure everywhere, 224 x 224
        subprocess.run(["convert", "-size", "224x224", "-seed", "7", "plasma:fractal", image],
                       check=True)
    return model, image


def zf_mini(build_dir):
    model = os.path.join(ROOT, "models", "zf-mini.onnx")
    image = os.path.join(ROOT, "resources", "samples", "test-00000-ankle-boot.png")
    if not os.path.exists(model) or not os.path.exists(image):
        return None
    return model, image


def find_canvas(pyatspi, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            for app in pyatspi.Registry.getDesktop(0):
                if app is None or app.name != "convlens":
                    continue
                switch = pyatspi.findDescendant(
                    app, lambda n: n is not None and n.name == "Occlusion" and
                    n.getRole() in (pyatspi.ROLE_TOGGLE_BUTTON, pyatspi.ROLE_LABEL))
                canvas = pyatspi.findDescendant(
                    app, lambda n: n is not None and n.name == "Occlusion image" and
                    n.getRole() == pyatspi.ROLE_IMAGE)
                if switch is not None and canvas is not None:
                    return switch, canvas
        except Exception:
            pass
        time.sleep(0.2)
    return None, None


def wait_for_wm(timeout=5):
    """Waits until a window manager has announced itself on the root window
    (EWMH's _NET_SUPPORTING_WM_CHECK); False after the timeout (twm, which
    is not EWMH, never does)."""
    if shutil.which("xprop") is None:
        time.sleep(1.0)
        return False
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        p = subprocess.run(["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if "window id" in p.stdout:
            return True
        time.sleep(0.1)
    return False


def window_origin(pid):
    """Where the process's mapped toplevel is on the screen: (0, 0) without a
    window manager, elsewhere with one (AT-SPI gives window coordinates)."""
    p = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(pid)],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for wid in p.stdout.split():
        g = subprocess.run(["xdotool", "getwindowgeometry", "--shell", wid],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        geo = dict(line.split("=", 1) for line in g.stdout.split() if "=" in line)
        if int(geo.get("WIDTH", 0)) > 1 and int(geo.get("HEIGHT", 0)) > 1:
            return int(geo["X"]), int(geo["Y"])
    return 0, 0


def extents(pyatspi, node, origin=(0, 0)):
    e = node.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
    return e.x + origin[0], e.y + origin[1], e.width, e.height


def read_log(path):
    events = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                events.append((parts[0], int(parts[1]) / 1e6, parts[2:]))
    return events


def count_updates(trace):
    return sum(1 for kind, _, _ in read_log(trace) if kind == "update")


def analyse(events, t0, t1):
    frame_ev = [(t, rest) for kind, t, rest in events if kind == "frame" and t0 <= t <= t1]
    frames = [t for t, _ in frame_ev]
    updates = [t for kind, t, _ in events if kind == "update" and t0 <= t <= t1]
    motions = [t for kind, t, _ in events if kind == "motion" and t0 <= t <= t1]
    gaps = [b - a for a, b in zip(frames, frames[1:])]
    span = t1 - t0
    gaps_sorted = sorted(gaps)
    # the main thread's CPU time between two frames (logged since the
    # frame lines carry it): a long gap with little CPU is a thread that
    # was not scheduled, not a blocked main loop
    cpus = []
    if frame_ev and all(rest for _, rest in frame_ev):
        c = [int(rest[0]) / 1e6 for _, rest in frame_ev]
        cpus = [b - a for a, b in zip(c, c[1:])]
    handlers = {}
    for kind, t, rest in events:
        # busy START DURATION NAME: a main-thread handler's time
        if kind == "busy" and t0 <= t <= t1 and len(rest) >= 2:
            ms = int(rest[0]) / 1000.0
            h = handlers.setdefault(rest[1], [0, 0.0, 0.0])
            h[0] += 1
            h[1] += ms
            h[2] = max(h[2], ms)
    extra = {}
    if cpus:
        extra = {
            "max_frame_cpu_ms": round(1000 * max(cpus), 1),
            "frames_over_16ms_cpu": sum(1 for c in cpus if c > 0.0167),
            "gaps_over_20ms_mostly_waiting": sum(1 for g, c in zip(gaps, cpus)
                                                 if g > 0.020 and c < 0.5 * g),
        }
    # "late T L": the 2 ms high-priority probe ran L us late, i.e. the main
    # loop did not come back to it for about that long
    late = [int(rest[0]) / 1e6 for kind, t, rest in events
            if kind == "late" and t0 <= t <= t1 and rest]
    if late:
        extra["max_loop_latency_ms"] = round(1000 * max(late), 1)
        extra["loop_latency_over_16ms"] = sum(1 for v in late if v > 0.0167)
    extra["handlers"] = {name: {"count": n, "mean_ms": round(total / n, 2),
                                "max_ms": round(mx, 2)}
                         for name, (n, total, mx) in sorted(handlers.items())}
    return dict(extra, **{
        "seconds": round(span, 3),
        "frames": len(frames),
        "fps": round(len(frames) / span, 1) if span > 0 else 0,
        "max_frame_gap_ms": round(1000 * max(gaps), 1) if gaps else None,
        "p99_frame_gap_ms": round(1000 * gaps_sorted[int(0.99 * (len(gaps) - 1))], 1)
        if gaps else None,
        "frames_over_20ms": sum(1 for g in gaps if g > 0.020),
        "updates": len(updates),
        "updates_per_s": round(len(updates) / span, 1) if span > 0 else 0,
        "motion_per_s": round(len(motions) / span, 1) if span > 0 else 0,
    })


def run_model(name, renderer, model, image, args, pyatspi):
    trace = os.path.join(args.build_dir, "responsiveness-%s-%s.log" % (name, renderer))
    env = dict(os.environ)
    env.pop("GTK_A11Y", None)
    env.update({
        "CONVLENS_TRACE_FRAMES": trace,
        "GSETTINGS_BACKEND": "memory",
        "GSETTINGS_SCHEMA_DIR": args.schema_dir,
        "OPENBLAS_NUM_THREADS": str(args.threads),
        "LANG": "C.UTF-8",
        "GSK_RENDERER": renderer,
    })
    env.pop("LANGUAGE", None)
    proc = subprocess.Popen([args.convlens, model, image], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        switch, canvas = find_canvas(pyatspi)
        if switch is None:
            return {"error": "the Occlusion view was not found"}
        # the header moves while a large model loads: click again (at the
        # switch's new place) until the Occlusion view is really shown
        end = time.monotonic() + 120
        while time.monotonic() < end:
            x, y, w, h = extents(pyatspi, switch, window_origin(proc.pid))
            subprocess.run(["xdotool", "mousemove", str(x + w // 2), str(y + h // 2),
                            "click", "1"], check=True)
            time.sleep(0.5)
            if extents(pyatspi, canvas)[2] > 0:
                break
        # the first (centred) query has arrived once an update is logged
        end = time.monotonic() + 120
        while time.monotonic() < end and count_updates(trace) == 0:
            time.sleep(0.2)
        time.sleep(1.0)
        cx, cy, cw, ch = extents(pyatspi, canvas, window_origin(proc.pid))
        side = min(cw, ch)
        x0, y0 = cx + cw // 2, cy + ch // 2
        # one xdotool process: a zigzag of pointer moves about 16 ms apart
        n = int(args.seconds * 60)
        cmd = ["xdotool", "mousemove", str(x0), str(y0), "mousedown", "1"]
        for i in range(n):
            phase = (i % 120) / 120.0
            dx = int((abs(phase * 4 - 2) - 1) * side * 0.35)
            dy = int(((i // 120) % 2 * 2 - 1) * side * 0.15 + (i % 30 - 15) * side / 200)
            cmd += ["mousemove", str(x0 + dx), str(y0 + dy), "sleep", "0.016"]
        cmd += ["mouseup", "1"]
        t_start = time.monotonic()
        subprocess.run(cmd, check=True)
        t_end = time.monotonic()
        time.sleep(1.0)
        subprocess.run(["xdotool", "key", "ctrl+q"], check=True)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass   # still working off the backlog: killed below
    finally:
        if proc.poll() is None:
            proc.kill()
        out = proc.communicate()[0]
    events = read_log(trace)
    # the drag: the first and last pointer motion while the script moved it
    motions = [t for kind, t, _ in events if kind == "motion" and t_start - 1 <= t <= t_end + 1]
    if len(motions) < 2:
        return {"error": "no pointer motion was logged", "output": out[-2000:]}
    res = analyse(events, motions[0], motions[-1])
    if out.strip():
        res["output"] = out.strip()[-2000:]
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--convlens", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--schema-dir", default=None,
                    help="compiled GSettings schemas (default BUILD/../data)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--wm", default="none",
                    help="a window manager to start on the private X server first "
                         "(e.g. 'openbox --sm-disable' or twm; default none)")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--models", default="alexnet,zf-mini")
    ap.add_argument("--renderers", default="cairo,gl",
                    help="GSK renderers to try (under Xvfb, gl is Mesa's llvmpipe)")
    args = ap.parse_args()
    args.build_dir = os.path.abspath(args.build_dir)
    os.makedirs(args.build_dir, exist_ok=True)
    if args.schema_dir is None:
        args.schema_dir = os.path.join(os.path.dirname(args.build_dir), "data")

    # a private X server and session bus (AT-SPI needs the bus)
    if not os.environ.get("DISPLAY"):
        os.execvp("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24 -noreset",
                               sys.executable] + sys.argv)
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        os.execvp("dbus-run-session", ["dbus-run-session", "--", sys.executable] + sys.argv)
    for tool in ("xdotool", "convert"):
        if shutil.which(tool) is None:
            log("%s is not installed: nothing measured" % tool)
            return 0
    wm = None
    wm_cmd = None
    ewmh = False
    if args.wm and args.wm != "none":
        wm_cmd = args.wm.split()
        if shutil.which(wm_cmd[0]) is None:
            log("window manager %s is not installed: nothing measured" % args.wm)
            return 0
    if wm_cmd is not None:
        wm = subprocess.Popen(wm_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ewmh = wait_for_wm()
        log("window manager: %s (%s)" % (" ".join(wm_cmd),
                                         "EWMH" if ewmh else "not announced as EWMH"))
    import gi
    gi.require_version("Atspi", "2.0")
    import pyatspi

    results = {"threads": args.threads, "seconds": args.seconds, "models": {},
               "load_average": os.getloadavg()[0],
               "window_manager": " ".join(wm_cmd) if wm_cmd is not None else None,
               "window_manager_ewmh": ewmh if wm_cmd is not None else False}
    log("load average %.1f %.1f %.1f" % os.getloadavg())
    makers = {"alexnet": alexnet, "zf-mini": zf_mini}
    for name in args.models.split(","):
        files = makers[name](args.build_dir)
        if files is None:
            log("%s: model or image missing, skipped" % name)
            continue
        for renderer in args.renderers.split(","):
            log("%s, %s renderer: dragging the occluder for %.0f s ..."
                % (name, renderer, args.seconds))
            res = run_model(name, renderer, files[0], files[1], args, pyatspi)
            results["models"]["%s %s" % (name, renderer)] = res
            log(json.dumps(res, indent=2))

    log()
    log("load average after: %.1f %.1f %.1f" % os.getloadavg())
    log("| model, renderer | drag s | frames/s | max frame gap | gaps > 20 ms "
        "(of them mostly waiting) | max main-thread CPU in a gap | max loop latency "
        "(> 16.7 ms) | updates/s | pointer events/s |")
    log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results["models"].items():
        if "error" in r:
            log("| %s | %s |" % (name, r["error"]))
            continue
        log("| %s | %.1f | %.0f | %.1f ms | %d (%s) | %s ms | %s ms (%s) | %.1f | %.1f |" % (
            name, r["seconds"], r["fps"], r["max_frame_gap_ms"], r["frames_over_20ms"],
            r.get("gaps_over_20ms_mostly_waiting", "?"), r.get("max_frame_cpu_ms", "?"),
            r.get("max_loop_latency_ms", "?"), r.get("loop_latency_over_16ms", "?"),
            r["updates_per_s"], r["motion_per_s"]))
    if wm is not None:
        wm.terminate()
        try:
            wm.wait(timeout=5)
        except subprocess.TimeoutExpired:
            wm.kill()   # twm can ignore the request
            wm.wait()
    with open(os.path.join(args.build_dir, "responsiveness.json"), "w") as f:
        json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
