#!/usr/bin/env python3
"""Sum the outcomes of every TRX file under a folder; print failures, then one line 'N passed, N failed[, N skipped]'.

Usage: trx_summary.py RESULTS_DIR [RUN_EXIT_CODE [EXPECTED_TRX_FILES]]
A non-zero exit code of `dotnet test` with no failed test in the TRX files (a crashed test host, a build error) and a
test project that left no TRX file each count as one failure, so the line never reads green for a broken run.
Exit 1 when anything failed or no test ran."""
import sys, pathlib, xml.etree.ElementTree as ET

ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
results = pathlib.Path(sys.argv[1])
run_rc = int(sys.argv[2]) if len(sys.argv) > 2 else 0
expected = int(sys.argv[3]) if len(sys.argv) > 3 else 0
passed = failed = skipped = 0
files = sorted(results.rglob("*.trx"))
for trx in files:
    root = ET.parse(trx).getroot()
    for r in root.iterfind(".//t:UnitTestResult", ns):
        o = r.get("outcome")
        if o == "Passed":
            passed += 1
        elif o in ("NotExecuted", "Inconclusive"):
            skipped += 1
        else:
            failed += 1
            msg = r.find(".//t:Message", ns)
            text = (msg.text or "").strip()[:400] if msg is not None else ""
            print(f"FAILED {r.get('testName')}: {text}")
if expected and len(files) < expected:
    missing = expected - len(files)
    print(f"FAILED {missing} test project(s) produced no results (test host crashed or did not start)")
    failed += missing
if run_rc != 0 and failed == 0:
    print(f"FAILED dotnet test exited with code {run_rc} although no test failed")
    failed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
