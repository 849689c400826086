#!/usr/bin/env python3
"""Sum the outcomes of every TRX file under a folder; print failures, then one line 'N passed, N failed, N skipped'.
Exit 1 when anything failed or no test ran."""
import sys, pathlib, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for trx in sorted(pathlib.Path(sys.argv[1]).rglob("*.trx")):
    root = ET.parse(trx).getroot()
    for r in root.iterfind(".//t:UnitTestResult", ns):
        o = r.get("outcome")
        if o == "Passed": passed += 1
        elif o in ("NotExecuted", "Inconclusive"): skipped += 1
        else:
            failed += 1
            msg = r.find(".//t:Message", ns)
            print(f"FAILED {r.get('testName')}: {(msg.text or '').strip()[:400] if msg is not None else ''}")
line = f"{passed} passed, {failed} failed"
if skipped: line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
