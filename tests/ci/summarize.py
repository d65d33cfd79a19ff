#!/usr/bin/python3
"""Sums meson's testlog.json into one line: 'N passed, N failed, N skipped'.

A TAP test counts each 'ok' / 'not ok' line; a test that crashed or timed out
without a 'not ok' line adds one failure.  A non-TAP test counts once.
Exit status 1 when anything failed or nothing passed."""
import json
import re
import sys


def main(path):
    passed = failed = skipped = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            result = t.get("result", "")
            out = t.get("stdout") or ""
            oks = re.findall(r"^(not ok|ok)\b(.*)$", out, re.M)
            if oks:
                n_fail = 0
                for status, rest in oks:
                    if status == "not ok" and "# TODO" not in rest:
                        failed += 1
                        n_fail += 1
                    elif "# SKIP" in rest:
                        skipped += 1
                    else:
                        passed += 1
                if result in ("FAIL", "ERROR", "TIMEOUT") and n_fail == 0:
                    failed += 1
            elif result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.json"))
