#!/usr/bin/python3
"""The real convlens binary under Xvfb, driven as a user would (TAP).

usage: e2e-xdotool.py CONVLENS FIXTURES_DIR

Opens the tiny model and its picture from the command line, then with real
X events (xdotool): Page Down to the first ReLU, a click on channel 5, the
Right arrow, Ctrl+Q.  Screenshots (ImageMagick) are checked for pixels;
AT-SPI (pyatspi) finds widgets by accessible name and reads label texts.
Expected numbers come from PyTorch (tiny-expected.json).  Screenshots are
kept in FIXTURES_DIR/e2e/.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

TIMEOUT = 20.0
n_tests = 0
failed = 0


def tap(ok, name, diag=None):
    global n_tests, failed
    n_tests += 1
    if not ok:
        failed += 1
    print(f"{'ok' if ok else 'not ok'} {n_tests} - {name}", flush=True)
    if diag and not ok:
        for line in str(diag).splitlines():
            print(f'# {line}', flush=True)
    return ok


def skip_all(why):
    print(f'1..0 # SKIP {why}')
    sys.exit(0)


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def shot(outdir, name):
    path = os.path.join(outdir, name)
    run('import', '-window', 'root', path)
    return path


def crop(path, rect, out):
    x, y, w, h = rect
    run('convert', path, '-crop', f'{w}x{h}+{x}+{y}', '+repage', out)
    return out


def count_color(path, color, rect=None):
    """Pixels of exactly `color` (after a 3x3 erosion, which removes
    anti-aliased text that happens to have the colour)."""
    args = ['convert', path]
    if rect:
        x, y, w, h = rect
        args += ['-crop', f'{w}x{h}+{x}+{y}', '+repage']
    args += ['-fill', 'black', '+opaque', color, '-fill', 'white', '-opaque', color,
             '-morphology', 'Erode', 'Square:1', '-format', '%[fx:mean*w*h]', 'info:']
    return round(float(run(*args)))


def poll(fn, timeout=TIMEOUT):
    end = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > end:
            return value
        time.sleep(0.1)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    exe, fixtures = sys.argv[1:3]
    expected_path = os.path.join(fixtures, 'tiny-expected.json')
    if not os.environ.get('DISPLAY'):
        skip_all('no X display (run under xvfb-run)')
    for tool in ('xdotool', 'import', 'convert'):
        if shutil.which(tool) is None:
            skip_all(f'{tool} is not installed')
    if not os.path.exists(expected_path):
        skip_all('no fixtures (PyTorch and onnx are needed to make them)')
    if not os.environ.get('DBUS_SESSION_BUS_ADDRESS'):
        skip_all('no session bus for AT-SPI (run under dbus-run-session)')
    try:
        import gi
        gi.require_version('Atspi', '2.0')
        import pyatspi
    except (ImportError, ValueError) as e:
        skip_all(f'pyatspi: {e}')

    with open(expected_path) as f:
        expected = json.load(f)
    outdir = os.path.join(fixtures, 'e2e')
    os.makedirs(outdir, exist_ok=True)
    model = os.path.join(fixtures, 'tiny.onnx')
    image = os.path.join(fixtures, 'tiny-image.png')

    env = dict(os.environ)
    env.pop('GTK_A11Y', None)          # the app must talk to AT-SPI
    env['LANG'] = 'C.UTF-8'
    proc = subprocess.Popen([exe, model, image], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    print(f'1..{17 + N_BROWSE + N_ANALYSES}', flush=True)
    try:
        drive(proc, pyatspi, expected, outdir)
    finally:
        finish(proc)

    # the same binary in Chinese: LANGUAGE works with the C.UTF-8 locale
    env['LANGUAGE'] = 'zh_CN'
    proc = subprocess.Popen([exe, model, image], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        app = poll(lambda: find_app(pyatspi))
        button = app and poll(lambda: find(app, pyatspi, pyatspi.ROLE_PUSH_BUTTON,
                                           lambda n: n == '打开模型…'))
        heading = app and poll(lambda: find(app, pyatspi, pyatspi.ROLE_LABEL,
                                            lambda n: n.startswith('通道 0 · ')))
        time.sleep(0.5)
        shot(outdir, 'e2e-4-zh_CN.png')
        tap(button is not None and heading is not None,
            'with LANGUAGE=zh_CN the window speaks Chinese (打开模型…, 通道 0 · …)')
        run('xdotool', 'key', 'ctrl+q')
        proc.wait(timeout=10)
    finally:
        finish(proc)
    env.pop('LANGUAGE', None)
    browse(exe, env, image, outdir, pyatspi)
    return 1 if failed else 0


def finish(proc):
    if proc.poll() is None:
        proc.kill()
    out = proc.communicate()[0]
    if out.strip():
        print('# application output:')
        for line in out.splitlines():
            print(f'#   {line}')


def find_app(pyatspi):
    desktop = pyatspi.Registry.getDesktop(0)
    for app in desktop:
        if app is not None and app.name == 'convlens':
            return app
    return None


def find(root, pyatspi, role, pred):
    try:
        return pyatspi.findDescendant(root, lambda n: n is not None and n.getRole() == role
                                      and pred(n.name or ''))
    except Exception:  # the tree changes while we walk it
        return None


def extents(pyatspi, node):
    # GTK 4.8 reports window-relative extents; with no window manager the
    # window sits at 0,0, so they are screen coordinates too
    e = node.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
    return (e.x, e.y, e.width, e.height)


def drive(proc, pyatspi, expected, outdir):
    title = 'ConvLens — tiny.onnx'
    wid = poll(lambda: subprocess.run(['xdotool', 'search', '--name', f'^{title}$'],
                                      capture_output=True, text=True).stdout.split())
    if not tap(bool(wid), 'the window appears with the model in its title'):
        return
    wid = wid[-1]
    run('xdotool', 'windowfocus', '--sync', wid)

    app = poll(lambda: find_app(pyatspi))
    caption = lambda prefix: find(app, pyatspi, pyatspi.ROLE_LABEL, lambda n: n.startswith(prefix))
    if not tap(app is not None and poll(lambda: caption('Channel 0 ·')) is not None,
               'the first layer\'s feature maps arrive (AT-SPI sees the channel caption)'):
        return
    time.sleep(0.5)
    s1 = shot(outdir, 'e2e-1-start.png')

    # the 32x32 input is drawn enlarged with crisp pixels: its red disc
    # (230, 40, 30) keeps its exact colour
    red = count_color(s1, '#E6281E')
    tap(red > 1000, f'the input image is on screen ({red} pixels of the red disc)')

    top = expected['top5'][0]
    want = f"class {top['index']}"
    label = find(app, pyatspi, pyatspi.ROLE_LABEL, lambda n: n == want)
    percent = f"{100 * top['probability']:.1f} %"
    shown = find(app, pyatspi, pyatspi.ROLE_LABEL, lambda n: n == percent)
    tap(label is not None and shown is not None,
        f'the top prediction is PyTorch\'s: {want} at {percent}')

    # Page Down: layer 1, the first ReLU
    run('xdotool', 'key', 'Page_Down')
    relu_max = expected['relu1_max']
    want0 = f'Channel 0 · 32×32 · max {relu_max[0]:.4g}'
    heading = poll(lambda: find(app, pyatspi, pyatspi.ROLE_LABEL, lambda n: n == '/Relu'))
    cap0 = poll(lambda: caption('Channel 0 · 32×32 · max '))
    time.sleep(0.5)
    s2 = shot(outdir, 'e2e-2-relu.png')
    tap(heading is not None and cap0 is not None and close_max(cap0.name, relu_max[0]),
        f'Page Down selects /Relu; caption matches PyTorch ({want0})',
        cap0.name if cap0 else 'no caption')

    # click the thumbnail of channel 5 (found by its accessible name)
    cell = find(app, pyatspi, pyatspi.ROLE_IMAGE, lambda n: n == '5')
    canvas = find(app, pyatspi, pyatspi.ROLE_IMAGE, lambda n: n == 'Selected feature map')
    if not tap(cell is not None and canvas is not None, 'AT-SPI finds channel 5 and the detail view'):
        return
    x, y, w, h = extents(pyatspi, cell)
    before = crop(s2, inset(extents(pyatspi, canvas)), os.path.join(outdir, 'detail-before.png'))
    run('xdotool', 'mousemove', str(x + w // 2), str(y + h // 3), 'click', '1')
    cap5 = poll(lambda: caption('Channel 5 · '))
    run('xdotool', 'mousemove', '5', '300')       # no tooltip in the next shot
    time.sleep(0.8)
    s3 = shot(outdir, 'e2e-3-channel5.png')
    after = crop(s3, inset(extents(pyatspi, canvas)), os.path.join(outdir, 'detail-after.png'))
    ae = subprocess.run(['compare', '-metric', 'AE', before, after, 'null:'],
                        capture_output=True, text=True).stderr.strip()
    # per-channel normalisation: the map's min is black and its max white
    black = count_color(after, '#000000')
    white = count_color(after, '#FFFFFF')
    tap(cap5 is not None and close_max(cap5.name, relu_max[5]) and float(ae or 0) > 100
        and black > 0 and white > 0,
        f'clicking channel 5 shows its map (caption max {relu_max[5]:.4g}, '
        f'{ae} pixels changed, black {black}, white {white})',
        cap5.name if cap5 else 'no caption')

    # the grid has the focus now: Right moves to channel 6
    run('xdotool', 'key', 'Right')
    cap6 = poll(lambda: caption('Channel 6 · '), timeout=5)
    tap(cap6 is not None and close_max(cap6.name, relu_max[6]), 'Right moves to channel 6',
        cap6.name if cap6 else 'no caption')

    projection_and_occlusion(app, pyatspi, outdir)
    export_dialog(app, pyatspi, outdir)
    analyses_filters(app, pyatspi, outdir)

    run('xdotool', 'key', 'ctrl+q')
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        rc = None
    tap(rc == 0, f'Ctrl+Q quits cleanly (exit status {rc})')


N_ANALYSES = 1


def count_exact(path, color):
    """Pixels of exactly `color` (no erosion: the filter bars are thin)."""
    return round(float(run('convert', path, '-fill', 'black', '+opaque', color, '-fill', 'white',
                           '-opaque', color, '-format', '%[fx:mean*w*h]', 'info:')))


def analyses_filters(app, pyatspi, outdir):
    """A click on the Analyses view switch and on its Filters page, a click
    on Analyse (found on the screen: the one suggested-action blue button
    right of the page list): the filter tiles appear.  lens_filters_render()
    paints them on rgb(24,24,24) with high-frequency bars in rgb(80,150,255)."""
    switch = find(app, pyatspi, pyatspi.ROLE_TOGGLE_BUTTON, lambda n: n == 'Analyses') or \
        find(app, pyatspi, pyatspi.ROLE_LABEL, lambda n: n == 'Analyses')
    if switch is not None:
        x, y, w, h = extents(pyatspi, switch)
        run('xdotool', 'mousemove', str(x + w // 2), str(y + h // 2), 'click', '1')
    row = switch and poll(lambda: find(app, pyatspi, pyatspi.ROLE_LABEL, lambda n: n == 'Filters'),
                          timeout=10)
    if row is None:
        tap(False, 'Analyses → Filters → Analyse shows the first-layer filter tiles',
            f'switch {switch}, row {row}')
        return
    x, y, w, h = extents(pyatspi, row)
    run('xdotool', 'mousemove', str(x + w // 2), str(y + h // 2), 'click', '1')
    time.sleep(0.5)
    before = shot(outdir, 'e2e-9-analyses-filters-before.png')
    sw, sh = (int(v) for v in run('identify', '-format', '%w %h', before).split())
    page = (x + w + 8, y - 60, sw - (x + w + 8), sh - (y - 60))   # right of the page list
    button = run('convert', crop(before, page, os.path.join(outdir, 'page-before.png')),
                 '-fuzz', '8%', '-fill', 'black', '+opaque', '#3584e4', '-fill', 'white',
                 '-opaque', '#3584e4', '-morphology', 'Erode', 'Square:3', '-format', '%@',
                 'info:')
    m = re.match(r'(\d+)x(\d+)\+(\d+)\+(\d+)', button)
    if m and int(m.group(1)) > 10:
        bw, bh, bx, by = (int(v) for v in m.groups())
        run('xdotool', 'mousemove', str(page[0] + bx + bw // 2), str(page[1] + by + bh // 2),
            'click', '1')
    dark0 = count_exact(crop(before, page, os.path.join(outdir, 'page-before.png')), '#181818')
    counts = {}

    def tiles_shown():
        after = shot(outdir, 'e2e-9-analyses-filters.png')
        area = crop(after, page, os.path.join(outdir, 'page-after.png'))
        counts['dark'], counts['blue'] = count_exact(area, '#181818'), count_exact(area, '#5096ff')
        return counts['dark'] > 500 and counts['blue'] > 0
    ok = bool(m) and poll(tiles_shown, timeout=20)
    tap(ok and dark0 == 0,
        f'Analyses → Filters → Analyse shows the first-layer filter tiles (Analyse button '
        f'{button}; {counts.get("dark")} background and {counts.get("blue")} bar pixels, '
        f'{dark0} background pixels before)')


def n_colors(path):
    return int(run('convert', path, '-format', '%k', 'info:'))


def projection_and_occlusion(app, pyatspi, outdir):
    caption = lambda prefix: find(app, pyatspi, pyatspi.ROLE_LABEL, lambda n: n.startswith(prefix))

    # the channel clicked above was projected (deconvnet, strongest unit):
    # the projection canvas holds a mid-gray image (zero) with a coloured patch
    proj = find(app, pyatspi, pyatspi.ROLE_IMAGE, lambda n: n == 'Projection')
    cap = poll(lambda: caption('Deconvnet · channel 6 at ('), timeout=10)
    time.sleep(0.5)
    s5 = shot(outdir, 'e2e-5-projection.png')
    if proj is not None:
        area = crop(s5, inset(extents(pyatspi, proj)), os.path.join(outdir, 'projection.png'))
        gray = count_color(area, '#808080')
        colors = n_colors(area)
    else:
        gray = colors = 0
    tap(cap is not None and gray > 1000 and colors > 3,
        f'the selected channel is projected beside the input ({gray} mid-gray pixels, '
        f'{colors} colours)', cap.name if cap else 'no projection caption')

    # switch to the Occlusion view with its header button
    switch = find(app, pyatspi, pyatspi.ROLE_TOGGLE_BUTTON, lambda n: n == 'Occlusion') or \
        find(app, pyatspi, pyatspi.ROLE_LABEL, lambda n: n == 'Occlusion')
    if switch is not None:
        x, y, w, h = extents(pyatspi, switch)
        run('xdotool', 'mousemove', str(x + w // 2), str(y + h // 2), 'click', '1')
    target = poll(lambda: caption('Target class '), timeout=10)
    canvas = find(app, pyatspi, pyatspi.ROLE_IMAGE, lambda n: n == 'Occlusion image')
    if not tap(switch is not None and target is not None and canvas is not None,
               'the Occlusion view opens and shows the unoccluded target',
               f'switch {switch}, target {target}, canvas {canvas}'):
        return
    before_text = target.name
    time.sleep(0.5)
    s6 = shot(outdir, 'e2e-6-occlusion.png')

    # drag the gray square from the centre over the red disc (left, up)
    # with real pointer events
    cx, cy, cw, ch = extents(pyatspi, canvas)
    side = min(cw, ch)
    x0, y0 = cx + cw // 2, cy + ch // 2
    run('xdotool', 'mousemove', str(x0), str(y0), 'mousedown', '1')
    for i in range(1, 9):
        run('xdotool', 'mousemove', str(x0 - i * side // 40), str(y0 - i * side // 160))
        time.sleep(0.05)
    run('xdotool', 'mouseup', '1')
    changed = poll(lambda: (lambda t: t is not None and t.name != before_text and t)(
        caption('Target class ')), timeout=10)
    run('xdotool', 'mousemove', '5', '500')
    time.sleep(0.5)
    s7 = shot(outdir, 'e2e-7-occluder-dragged.png')
    gray = count_color(crop(s7, inset((cx, cy, cw, ch)), os.path.join(outdir, 'occ.png')),
                       '#808080')
    tap(bool(changed) and gray > 100,
        f'dragging the occluder changes the target probability '
        f'({before_text!r} -> {changed.name if changed else None!r}; square {gray} px)')

    # Sweep (found by its accessible name): a heat map covers the image
    sweep = find(app, pyatspi, pyatspi.ROLE_PUSH_BUTTON, lambda n: n == 'Sweep')
    if not tap(sweep is not None, 'AT-SPI finds the Sweep button'):
        return
    before = crop(s7, inset((cx, cy, cw, ch)), os.path.join(outdir, 'sweep-before.png'))
    act = sweep.queryAction()
    act.doAction([act.getName(i) for i in range(act.nActions)].index('click'))
    progress = find(app, pyatspi, pyatspi.ROLE_PROGRESS_BAR, lambda n: n == 'Sweep progress')

    def done():
        try:
            return progress is not None and progress.queryValue().currentValue >= 1.0 - 1e-6
        except Exception:
            return False
    finished = poll(done, timeout=30)
    time.sleep(0.8)
    s8 = shot(outdir, 'e2e-8-sweep.png')
    after = crop(s8, inset((cx, cy, cw, ch)), os.path.join(outdir, 'sweep-after.png'))
    ae = subprocess.run(['compare', '-metric', 'AE', before, after, 'null:'],
                        capture_output=True, text=True).stderr.strip()
    tap(finished and float(ae or 0) > 0.2 * cw * ch,
        f'Sweep runs to 100 % and a heat map covers the image ({ae} pixels changed)')


def png_info(path):
    """(width, height, {key: value} of the tEXt chunks) of a PNG file."""
    import struct
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        return None
    pos, size, text = 8, None, {}
    while pos + 8 <= len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            size = struct.unpack('>II', body[:8])
        elif kind == b'tEXt':
            key, _, value = body.partition(b'\0')
            text[key.decode('latin-1')] = value.decode('latin-1')
        pos += 12 + n
    return size[0], size[1], text


def export_dialog(app, pyatspi, outdir):
    """Ctrl+E, the Export dialog's own Export… button, a path typed into
    the file chooser: the heat map of the sweep above is written."""
    target = os.path.join(outdir, 'exported-heat-map.png')
    if os.path.exists(target):
        os.remove(target)
    run('xdotool', 'key', 'ctrl+e')
    dialog = poll(lambda: find(app, pyatspi, pyatspi.ROLE_FRAME, lambda n: n == 'Export'),
                  timeout=10)
    content = dialog and poll(lambda: find(dialog, pyatspi, pyatspi.ROLE_LABEL,
                                           lambda n: n.startswith('Heat map with colour bar')),
                              timeout=5)
    size = dialog and find(dialog, pyatspi, pyatspi.ROLE_LABEL,
                           lambda n: re.match(r'^\d+ × \d+ pixels$', n) is not None)
    time.sleep(0.5)
    shot(outdir, 'e2e-9-export-dialog.png')
    if not tap(dialog is not None and content is not None and size is not None,
               'Ctrl+E opens the Export dialog; after a sweep it offers the heat map '
               f'({size.name if size else None})'):
        return
    # the dialog's own Export… (the window's is behind it), clicked
    button = find(dialog, pyatspi, pyatspi.ROLE_PUSH_BUTTON, lambda n: n.startswith('Export…'))
    if button is not None:
        x, y, w, h = extents(pyatspi, button)
        run('xdotool', 'mousemove', str(x + w // 2), str(y + h // 2), 'click', '1')
    # the file chooser: no window manager, so give it the keyboard focus
    # ourselves, then type the whole path into its Name entry
    chooser = poll(lambda: subprocess.run(['xdotool', 'search', '--name', '^Export Figure$'],
                                          capture_output=True, text=True).stdout.split(),
                   timeout=10)
    if chooser:
        time.sleep(0.8)
        run('xdotool', 'windowfocus', '--sync', chooser[-1])
        run('xdotool', 'key', 'ctrl+a')
        run('xdotool', 'type', '--delay', '5', target)
        time.sleep(0.3)
        run('xdotool', 'key', 'Return')
    written = poll(lambda: os.path.exists(target), timeout=10)
    info = png_info(target) if written else None
    if not written:
        shot(outdir, 'e2e-10-export-failed.png')
        run('xdotool', 'key', 'Escape')
        run('xdotool', 'key', 'Escape')
    tap(info is not None and info[0] >= 256 and info[2].get('Kind') == 'heat-map'
        and info[2].get('Model') == 'tiny.onnx' and info[2].get('Occluder size') == '5',
        f'the file chooser writes the figure with its settings in text chunks ({info})')


def inset(rect, by=8):
    x, y, w, h = rect
    return (x + by, y + by, max(1, w - 2 * by), max(1, h - 2 * by))


def close_max(caption, want):
    m = re.search(r'max ([-+0-9.e]+)$', caption)
    return m is not None and abs(float(m.group(1)) - want) <= 1e-3 * max(1.0, abs(want))


# Browsing (layer tree, sort, zoom, keys) on a model whose node names carry
# torchvision's module hierarchy; PyTorch makes it and the expected values.
N_BROWSE = 5


def make_nested(outdir, image):
    import numpy as np
    import torch
    import torch.nn as nn
    torch.manual_seed(3)

    class Block(nn.Module):
        def __init__(s):
            super().__init__()
            s.conv1 = nn.Conv2d(8, 8, 3, padding=1)
            s.relu = nn.ReLU()
            s.conv2 = nn.Conv2d(8, 8, 3, padding=1)

        def forward(s, x):
            return torch.relu(s.conv2(s.relu(s.conv1(x))) + x)

    class Net(nn.Module):
        def __init__(s):
            super().__init__()
            s.conv1 = nn.Conv2d(3, 8, 3, padding=1)
            s.relu = nn.ReLU()
            s.layer1 = nn.Sequential(Block(), Block())
            s.pool = nn.AdaptiveAvgPool2d(1)
            s.fc = nn.Linear(8, 10)

        def forward(s, x):
            return s.fc(torch.flatten(s.pool(s.layer1(s.relu(s.conv1(x)))), 1))

    net = Net().eval()
    path = os.path.join(outdir, 'nested.onnx')
    torch.onnx.export(net, torch.zeros(1, 3, 32, 32), path, opset_version=13)
    # the picture as the app feeds it: plain [0,1] RGB
    data = subprocess.run(['convert', image, '-depth', '8', 'rgb:-'], check=True,
                          capture_output=True).stdout
    x = torch.from_numpy(np.frombuffer(data, dtype=np.uint8).reshape(32, 32, 3)
                         .astype(np.float32) / 255.0).permute(2, 0, 1).unsqueeze(0)
    with torch.no_grad():
        maxima = net.conv1(x)[0].amax(dim=(1, 2)).tolist()
    return path, maxima


def browse(exe, env, image, outdir, pyatspi):
    try:
        model, maxima = make_nested(outdir, image)
    except ImportError as e:
        for _ in range(N_BROWSE):
            tap(True, f'# SKIP browsing: {e}')
        return
    proc = subprocess.Popen([exe, model, image], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        browse_drive(proc, pyatspi, maxima, outdir)
    finally:
        finish(proc)


def cells(app, pyatspi):
    """The grid's cells (accessible name = channel index), in screen order."""
    found = []
    try:
        found = [n for n in pyatspi.findAllDescendants(
            app, lambda n: n is not None and n.getRole() == pyatspi.ROLE_IMAGE
            and (n.name or '').isdigit())]
    except Exception:
        return []
    pos = [(extents(pyatspi, n), n.name) for n in found]
    return [name for (e, name) in sorted(pos, key=lambda p: (p[0][1], p[0][0]))
            if e[2] > 0 and e[3] > 0]


def browse_drive(proc, pyatspi, maxima, outdir):
    title = 'ConvLens — nested.onnx'
    wid = poll(lambda: subprocess.run(['xdotool', 'search', '--name', f'^{title}$'],
                                      capture_output=True, text=True).stdout.split())
    app = poll(lambda: find_app(pyatspi))
    caption = lambda prefix: find(app, pyatspi, pyatspi.ROLE_LABEL, lambda n: n.startswith(prefix))
    ready = bool(wid) and app is not None and poll(lambda: caption('Channel 0 ·')) is not None
    if not ready:
        for _ in range(N_BROWSE):
            tap(False, 'browsing: the nested model\'s window and maps appear')
        return
    run('xdotool', 'windowfocus', '--sync', wid[-1])
    time.sleep(0.5)

    # Enter right after start: projects, and opens no file chooser
    run('xdotool', 'key', 'Return')
    time.sleep(1.0)
    chooser = subprocess.run(['xdotool', 'search', '--name', '^Open (Model|Image)$'],
                             capture_output=True, text=True).stdout.split()
    proj = poll(lambda: caption('Deconvnet · channel 0'), timeout=5)
    tap(not chooser and proj is not None,
        'Enter at start projects the selected channel instead of opening a file chooser',
        f'chooser windows {chooser}, projection {proj}')

    # a click on the expander arrow left of "layer1" unfolds the stage
    block = find(app, pyatspi, pyatspi.ROLE_LABEL, lambda n: n == 'layer1')
    s0 = shot(outdir, 'browse-0.png')
    if block is not None:
        x, y, w, h = extents(pyatspi, block)
        run('xdotool', 'mousemove', str(x - 12), str(y + h // 2), 'click', '1')
    inner = poll(lambda: find(app, pyatspi, pyatspi.ROLE_LABEL, lambda n: n == 'layer1.0'),
                 timeout=5)
    run('xdotool', 'mousemove', '600', '700')
    time.sleep(0.5)
    s1 = shot(outdir, 'browse-1-unfolded.png')
    rows_changed = 0
    if block is not None:
        bx, by, bw, bh = extents(pyatspi, block)
        region = (0, by + bh + 4, max(bx + bw, 200), 120)
        a = crop(s0, region, os.path.join(outdir, 'tree-before.png'))
        b = crop(s1, region, os.path.join(outdir, 'tree-after.png'))
        rows_changed = float(subprocess.run(['compare', '-metric', 'AE', a, b, 'null:'],
                                            capture_output=True, text=True).stderr.strip() or 0)
    tap(block is not None and inner is not None and rows_changed > 100,
        f'clicking the expander of "layer1" unfolds it ({rows_changed:.0f} pixels changed)')

    # click again: folded
    if block is not None:
        x, y, w, h = extents(pyatspi, block)
        run('xdotool', 'mousemove', str(x - 12), str(y + h // 2), 'click', '1')
    gone = poll(lambda: find(app, pyatspi, pyatspi.ROLE_LABEL, lambda n: n == 'layer1.0') is None,
                timeout=5)
    tap(bool(gone), 'a second click folds "layer1" again')

    # Strongest First: the cells are ordered by PyTorch's per-channel maxima
    names = ('Sort by activation', 'Strongest First')
    sort = find(app, pyatspi, pyatspi.ROLE_TOGGLE_BUTTON, lambda n: n in names) or \
        find(app, pyatspi, pyatspi.ROLE_PUSH_BUTTON, lambda n: n in names)
    if sort is not None:
        x, y, w, h = extents(pyatspi, sort)
        run('xdotool', 'mousemove', str(x + w // 2), str(y + h // 2), 'click', '1')
    want = [str(c) for c in sorted(range(len(maxima)), key=lambda c: (-maxima[c], c))]
    got = poll(lambda: (lambda c: c if c == want else None)(cells(app, pyatspi)), timeout=5)
    tap(sort is not None and got == want,
        f'"Strongest First" orders the channels by max activation ({want})',
        f'shown {cells(app, pyatspi)}')

    # Ctrl+plus twice: the input is drawn larger (more pixels of the red disc)
    run('xdotool', 'mousemove', '600', '700')
    time.sleep(0.3)
    before = count_color(shot(outdir, 'browse-2-fit.png'), '#E6281E')
    run('xdotool', 'key', 'ctrl+plus', 'ctrl+plus')
    time.sleep(0.8)
    after = count_color(shot(outdir, 'browse-3-zoomed.png'), '#E6281E')
    run('xdotool', 'key', 'ctrl+0')
    time.sleep(0.8)
    back = count_color(shot(outdir, 'browse-4-fit-again.png'), '#E6281E')
    tap(after > 1.3 * before and abs(back - before) <= 0.02 * before,
        f'Ctrl+plus zooms the input in and Ctrl+0 fits it again (red disc {before} -> '
        f'{after} -> {back} px)')
    run('xdotool', 'key', 'ctrl+q')
    proc.wait(timeout=10)


if __name__ == '__main__':
    sys.exit(main())
