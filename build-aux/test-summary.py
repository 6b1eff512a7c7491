#!/usr/bin/env python3
# The closing summary of `build-aux/quickstart.sh test`: test cases (not programs)
# passed and failed in the gcc and ASan runs and the fuzz run, the failed ones named,
# then one `N passed, N failed` line. Exits 1 if anything failed.
#
#   test-summary.py SOURCE_ROOT LOG_DIR SECONDS
#
# Reads meson's testlog.json of _build and _build-asan (each test's output: the TAP
# lines of the GTest and gjs programs, the unittest report of the Python ones) and, from
# LOG_DIR, what quickstart.sh left: fuzz.txt (the run-fuzzers.sh output), and the
# markers gcc.build-failed, asan.build-failed, fuzz.build-failed and fuzz.failed.
# A program that failed after all its cases passed (a leak report at exit, a crash, a
# timeout) counts as one more failed case; a program without TAP or unittest output
# counts as one case; a fuzz target as one case.

import json
import os
import re
import sys

BAD = {"FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS", "INTERRUPT"}
here, logs, seconds = sys.argv[1], sys.argv[2], sys.argv[3]
total = {"passed": 0, "failed": 0}
failures = []  # one line each, printed after the counts


def count_test(entry):
    """Returns (passed, failed, skipped, [failed case names]) of one meson test."""
    out, err = entry.get("stdout") or "", entry.get("stderr") or ""
    bad = entry["result"] in BAD
    passed = failed = skipped = 0
    names = []
    tap = re.findall(r"^(not ok|ok)\b(.*)$", out, re.M)
    ran = re.search(r"^Ran (\d+) tests?\b", err + out, re.M)
    if tap:
        for verdict, rest in tap:
            if re.search(r"#\s*(SKIP|TODO)", rest, re.I):
                skipped += 1
            elif verdict == "ok":
                passed += 1
            else:
                failed += 1
                names.append("not ok" + rest)
    elif ran:
        text = err + out
        n = int(ran.group(1))
        problems = re.search(r"^FAILED \((.*)\)", text, re.M)
        for key, value in re.findall(r"(\w+)=(\d+)", problems.group(1) if problems else ""):
            if key in ("failures", "errors"):
                failed += int(value)
        skipped = sum(int(v) for v in re.findall(r"skipped=(\d+)", text))
        passed = max(n - failed - skipped, 0)
        names = re.findall(r"^(?:FAIL|ERROR): (.+)$", text, re.M)
    elif entry["result"] == "SKIP":
        skipped = 1
    elif not bad:
        passed = 1
    if bad and failed == 0:
        failed = 1
        bail = re.search(r"^Bail out!\s*(.*)$", out, re.M)
        names.append(bail.group(0) if bail else
                     f"{entry['result']} (exit status {entry.get('returncode')}) after its cases")
    return passed, failed, skipped, names


def meson_run(label, build):
    if os.path.exists(os.path.join(logs, label + ".build-failed")):
        failures.append(f"{label}: the build in {build} failed, no tests ran")
        total["failed"] += 1
        return f"{label}: build failed"
    path = os.path.join(here, build, "meson-logs", "testlog.json")
    if not os.path.exists(path):
        failures.append(f"{label}: no test results in {path}")
        total["failed"] += 1
        return f"{label}: no results"
    passed = failed = skipped = programs = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            p, fl, sk, names = count_test(entry)
            programs += 1
            passed, failed, skipped = passed + p, failed + fl, skipped + sk
            failures.extend(f"{label} {entry['name']}: {name}" for name in names)
    total["passed"] += passed
    total["failed"] += failed
    return (f"{label}: {passed} test cases passed, {failed} failed, {skipped} skipped, "
            f"in {programs} test programs")


def fuzz_run():
    if os.path.exists(os.path.join(logs, "fuzz.build-failed")):
        failures.append("fuzz: the build in _build-fuzz failed, no target ran")
        total["failed"] += 1
        return "fuzz: build failed"
    try:
        with open(os.path.join(logs, "fuzz.txt"), encoding="utf-8") as f:
            started = re.findall(r"^-- (fuzz-\S+)", f.read(), re.M)
    except FileNotFoundError:
        started = []
    # run-fuzzers.sh stops at the first target that finds something.
    failed = 1 if os.path.exists(os.path.join(logs, "fuzz.failed")) else 0
    if failed:
        failures.append("fuzz: " + (started[-1] if started else "run-fuzzers.sh") + " failed")
    passed = len(started) - failed if started else 0
    total["passed"] += passed
    total["failed"] += failed
    return f"fuzz: {passed} targets passed, {failed} failed"


def main():
    for line in (meson_run("gcc", "_build"), meson_run("asan", "_build-asan"), fuzz_run()):
        print(line)
    for failure in failures:
        print("  FAILED " + failure)
    if failures:
        print(f"== {len(failures)} failures, in {seconds} s")
    else:
        print(f"== all suites and fuzz targets passed in {seconds} s")
    print(f"{total['passed']} passed, {total['failed']} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
