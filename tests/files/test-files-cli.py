#!/usr/bin/python3
"""convlens-cli keeps the old file when a write fails (issue 8).

For each verb that writes (project PNG, predict --dump-npy, topk
JSON, filters PNG): a normal run writes the file; a run on a full disk (a
file size limit of 64 bytes, SIGXFSZ ignored, so write() fails with EFBIG)
and a run into a folder that cannot be written to (chmod 0555, or as root
a parent that is a regular file) exit with status 1 and one sentence on
stderr naming the file, keep the old file byte for byte and leave no
temporary file.  Prints TAP."""
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

CLI = sys.argv[1]
MODELS = os.environ["CONVLENS_SOURCE_DIR"]
MODEL = os.path.join(MODELS, "zf-mini.onnx")
SAMPLES = os.path.join(os.path.dirname(MODELS), "resources", "samples")
IMAGE = os.path.join(SAMPLES, "test-00000-ankle-boot.png")
OLD = b"old content, must survive\n"

# name, output file, argv with @OUT@ for the output path, how the file starts
VERBS = [
    ("project-png", "proj.png",
     ["project", MODEL, IMAGE, "-l", "conv1", "-c", "0", "-o", "@OUT@"], b"\x89PNG"),
    ("predict-dump", "conv1.npy", ["predict", MODEL, IMAGE, "--dump-npy", "conv1=@OUT@"], b"\x93NUMPY"),
    ("topk-json", "top.json",
     ["topk", MODEL, SAMPLES, "-l", "conv1", "--limit", "4", "-q", "-o", "@OUT@"], b"{"),
    ("filters-png", "filters.png", ["filters", MODEL, "-o", "@OUT@"], b"\x89PNG"),
]

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("ok" if ok else "not ok") + " %d - %s" % (len(results), name))
    if detail and not ok:
        for line in detail.splitlines():
            print("#   " + line)


def run(argv, out, limit=None):
    args = [a.replace("@OUT@", out) for a in argv]

    def child():
        if limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return subprocess.run([CLI] + args, capture_output=True, preexec_fn=child, timeout=120)


def leftovers(folder, keep):
    return sorted(n for n in os.listdir(folder) if n not in keep)


def one_sentence(stderr, needles):
    text = stderr.decode("utf-8", "replace")
    lines = text.strip("\n").split("\n")
    ok = (len(lines) == 1 and lines[0].startswith("convlens-cli: ") and lines[0].endswith(".")
          and all(n in lines[0] for n in needles))
    return ok, text


for name, file, argv, magic in VERBS:
    work = tempfile.mkdtemp(prefix="convlens-files-")
    try:
        folder = os.path.join(work, "out")
        os.mkdir(folder)
        out = os.path.join(folder, file)

        # a normal run writes the file
        p = run(argv, out)
        head = b""
        if os.path.exists(out):
            with open(out, "rb") as f:
                head = f.read(len(magic))
        check("%s writes the file" % name, p.returncode == 0 and head == magic,
              p.stderr.decode("utf-8", "replace"))

        # full disk: the old file stays
        with open(out, "wb") as f:
            f.write(OLD)
        p = run(argv, out, limit=64)
        ok, text = one_sentence(p.stderr, ["Cannot write", file, "file size",
                                           "the old file is kept"])
        with open(out, "rb") as f:
            kept = f.read() == OLD
        check("%s on a full disk: exit 1, one sentence, old file kept" % name,
              p.returncode == 1 and ok and kept and leftovers(folder, [file]) == [],
              "rc %d, kept %s, left %s\n%s" % (p.returncode, kept, leftovers(folder, [file]), text))

        # a folder that cannot be written to
        if os.geteuid() != 0:
            os.chmod(folder, 0o555)
            p = run(argv, out)
            os.chmod(folder, 0o755)
            needles = ["Cannot write", file, "cannot be written to", "the old file is kept"]
            target = out
        else:
            target = os.path.join(out, "inside")   # parent is a regular file
            p = run(argv, target)
            needles = ["Cannot write", "inside", "is not a folder"]
        ok, text = one_sentence(p.stderr, needles)
        with open(out, "rb") as f:
            kept = f.read() == OLD
        check("%s into an unwritable folder: exit 1, one sentence, old file kept" % name,
              p.returncode == 1 and ok and kept and leftovers(folder, [file]) == [],
              "rc %d, kept %s, left %s\n%s" % (p.returncode, kept, leftovers(folder, [file]), text))
    finally:
        shutil.rmtree(work, ignore_errors=True)

print("1..%d" % len(results))
sys.exit(0 if all(results) else 1)
