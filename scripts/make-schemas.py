#!/usr/bin/env python3
"""Make Ordergate's transaction-set schema files from the shared EDI reference.

Input (read only): ../shared/reference/transaction-structures.txt (segment order, loops, repeats),
../shared/reference/elements-*.tsv (element dictionaries) and the code lists written out below, which come from
../shared/reference/edi-facts.md and the standards' code lists for the elements the gateway reads or writes.

Output: Sources/EDISyntax/Schemas/<dialect>-<version>.schema, one tab-separated record per line:

    schema   <dialect> <version>                      first record of the file
    set      <id> <structure>                          the structure in the reference's notation:
                                                       TAG mandatory once, TAG? optional, [n] at most n, * unbounded,
                                                       (A B C) a loop that A starts (A's marks give the loop's repeat)
    element  <segment> <position> <name> <M|C> <min> <max> <type>
                                                       position `n` or `n.c`; type AN, A, ID, R, N, N0..N9, DT, TM, B,
                                                       or `composite` for the composite's own row
    codes    <name> <code> <code> ...                   closed code list: a value outside it is an invalid code
    rule     <segment> <note>                          X12 syntax note: P paired, R at least one required,
                                                       E at most one, C if the first then all others,
                                                       L if the first then at least one other (P0607, R0203)
    repeat   <name> <max>                              the element may repeat up to max times

Then run scripts/embed-schemas.py so the Swift target carries the files (EDISyntax does no I/O).
Usage: scripts/make-schemas.py [REFERENCE_DIR]
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "reference")
OUT = os.path.join(ROOT, "Sources", "EDISyntax", "Schemas")

# Closed code lists (ID elements). Only elements whose list is closed and short enough to be certain of are here;
# every other identifier is checked for length and characters only.
X12_CODES_COMMON = {
    "ISA01": "00 01 02 03 04 05 06",
    "ISA03": "00 01",
    "ISA05": "01 02 03 04 07 08 09 10 11 12 13 14 15 16 17 18 19 20 24 27 28 29 30 33 34 NR SA SN ZZ",
    "ISA07": "01 02 03 04 07 08 09 10 11 12 13 14 15 16 17 18 19 20 24 27 28 29 30 33 34 NR SA SN ZZ",
    "ISA14": "0 1",
    "ISA15": "I P T",
    "GS07": "T X",
    "TA104": "A E R",
    "TA105": " ".join("%03d" % n for n in range(0, 32)),
    # 997 / 999 (edi-facts.md)
    "AK304": "1 2 3 4 5 6 7 8",
    "AK403": "1 2 3 4 5 6 7 8 9 10 12 13",
    "AK501": "A E M R W X",
    "AK502": " ".join(str(n) for n in range(1, 28)),
    "AK503": " ".join(str(n) for n in range(1, 28)),
    "AK504": " ".join(str(n) for n in range(1, 28)),
    "AK505": " ".join(str(n) for n in range(1, 28)),
    "AK506": " ".join(str(n) for n in range(1, 28)),
    "AK901": "A E M P R W X",
    "AK905": " ".join(str(n) for n in range(1, 30)),
    "AK906": " ".join(str(n) for n in range(1, 30)),
    "AK907": " ".join(str(n) for n in range(1, 30)),
    "AK908": " ".join(str(n) for n in range(1, 30)),
    "AK909": " ".join(str(n) for n in range(1, 30)),
    # 855 (edi-facts.md)
    "BAK02": "AC AD AE AH AK AP AT NA RD RF RJ RN RO RV ZZ",
    "ACK01": "AC AR BP DR IA IB IC ID IE IF IH IP IQ IR IS IW R1 R2 R3 R4 R5 SP",
    # 856
    "HL04": "0 1",
}
X12_CODES_5010 = {
    "IK304": "1 2 3 4 5 6 7 8 I4 I5 I6 I7 I8 I9",
    "IK403": "1 2 3 4 5 6 7 8 9 10 12 13 I6 I9 I10 I11 I12 I13",
    "IK501": "A E M R W X",
    "IK502": " ".join([str(n) for n in range(1, 28)] + ["I%d" % n for n in range(1, 7)]),
    "IK503": " ".join([str(n) for n in range(1, 28)] + ["I%d" % n for n in range(1, 7)]),
}
EDIFACT_CODES = {
    "0083": "1 2 3 4 5 6 7 8",
    "0085": " ".join(str(n) for n in [2, 7, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                                       31, 32, 33, 35, 36, 37, 38, 39, 40]),
}

# X12 syntax notes of the segments the gateway reads and writes (X12.6 relational conditions), the same in 004010 and
# 005010. Only notes known for certain are listed: a wrong note would reject good documents.
X12_RULES = {
    "PO1": ["C0302", "C0504"] + ["P%02d%02d" % (n, n + 1) for n in range(6, 25, 2)],
    "LIN": ["P%02d%02d" % (n, n + 1) for n in range(4, 31, 2)],
    "ACK": ["P0203", "C0405"] + ["P%02d%02d" % (n, n + 1) for n in range(7, 28, 2)],
    "N1": ["R0203", "P0304"],
    "REF": ["R0203"],
    "PER": ["P0304", "P0506", "P0708"],
    "DTM": ["R020305", "C0403", "P0506"],
    "CTT": ["P0304", "P0506"],
    "PID": ["C0403", "R0405"],
    "PO4": ["C0203", "C0506", "P0607"],
}
X12_REPEATS_5010 = {"CTX01": 10}

# CONTRL is a service message (ISO 9735), not in the directories' TSVs: its segments, syntax 3 with the syntax 4
# additions as trailing conditional components.
CONTRL_ELEMENTS = """\
UCI	1	0020	M		14	AN
UCI	2	S002	M			composite
UCI	2.1	S002.0004	M		35	AN
UCI	2.2	S002.0007	C		4	AN
UCI	2.3	S002.0008	C		35	AN
UCI	2.4	S002.0042	C		35	AN
UCI	3	S003	M			composite
UCI	3.1	S003.0010	M		35	AN
UCI	3.2	S003.0007	C		4	AN
UCI	3.3	S003.0014	C		35	AN
UCI	3.4	S003.0046	C		35	AN
UCI	4	0083	M		1	AN
UCI	5	0085	C		3	AN
UCI	6	0013	C		3	AN
UCI	7	S011	C			composite
UCI	7.1	S011.0098	M		3	N
UCI	7.2	S011.0104	C		3	N
UCI	7.3	S011.0138	C		6	N
UCM	1	0062	M		14	AN
UCM	2	S009	M			composite
UCM	2.1	S009.0065	M		6	AN
UCM	2.2	S009.0052	M		3	AN
UCM	2.3	S009.0054	M		3	AN
UCM	2.4	S009.0051	M		3	AN
UCM	2.5	S009.0057	C		6	AN
UCM	2.6	S009.0110	C		6	AN
UCM	2.7	S009.0113	C		6	AN
UCM	3	0083	M		1	AN
UCM	4	0085	C		3	AN
UCM	5	0013	C		3	AN
UCM	6	S011	C			composite
UCM	6.1	S011.0098	M		3	N
UCM	6.2	S011.0104	C		3	N
UCM	6.3	S011.0138	C		6	N
UCS	1	0096	M		6	N
UCS	2	0085	C		3	AN
UCD	1	0085	M		3	AN
UCD	2	S011	M			composite
UCD	2.1	S011.0098	M		3	N
UCD	2.2	S011.0104	C		3	N
UCD	2.3	S011.0138	C		6	N
UCF	1	0048	M		14	AN
UCF	2	S006	C			composite
UCF	2.1	S006.0040	M		35	AN
UCF	2.2	S006.0007	C		4	AN
UCF	3	S007	C			composite
UCF	3.1	S007.0044	M		35	AN
UCF	3.2	S007.0007	C		4	AN
UCF	4	0083	M		1	AN
UCF	5	0085	C		3	AN
UCF	6	0013	C		3	AN
UCF	7	S011	C			composite
UCF	7.1	S011.0098	M		3	N
UCF	7.2	S011.0104	C		3	N
UCF	7.3	S011.0138	C		6	N
"""
CONTRL_STRUCTURE = "(UNH UCI (UCM?* (UCS?[999] UCD?[99])) (UCF?* (UCM?* (UCS?[999] UCD?[99]))) UNT)"


def read_structures():
    """{(dialect, version): [(set id, structure)]} from transaction-structures.txt."""
    result = {}
    pattern = re.compile(r"^(X12|EDIFACT) (\S+) (\S+): (\(.*\))\s*$")
    with open(os.path.join(REF, "transaction-structures.txt"), encoding="utf-8") as f:
        for line in f:
            m = pattern.match(line)
            if not m:
                continue
            dialect, set_id, version, structure = m.groups()
            result.setdefault((dialect.lower(), version), []).append((set_id, structure))
    return result


def read_elements(name):
    rows = []
    with open(os.path.join(REF, name), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            while len(cols) < 7:
                cols.append("")
            rows.append(cols[:7])
    return rows


def segments_in(structure):
    return set(re.findall(r"[A-Z][A-Z0-9]{1,2}", structure))


def write(dialect, version, sets, elements, codes, rules=None, repeats=None):
    used = set()
    for _, structure in sets:
        used |= segments_in(structure)
    envelope = {"x12": {"ISA", "GS", "ST", "SE", "GE", "IEA", "TA1"},
                "edifact": {"UNA", "UNB", "UNG", "UNH", "UNT", "UNE", "UNZ"}}[dialect]
    path = os.path.join(OUT, "%s-%s.schema" % (dialect, version))
    names = set()
    with open(path, "w", encoding="utf-8") as out:
        out.write("# Ordergate transaction-set schema: %s %s. Made by scripts/make-schemas.py from\n" % (
            dialect.upper() if dialect == "x12" else "EDIFACT", version))
        out.write("# ../shared/reference (segment structures, element dictionaries, code lists). Format: see the script.\n")
        out.write("schema\t%s\t%s\n" % (dialect, version))
        for set_id, structure in sets:
            out.write("set\t%s\t%s\n" % (set_id, structure))
        for seg, pos, name, req, mn, mx, typ in elements:
            if seg not in used and seg not in envelope:
                continue
            if typ == "N" and dialect == "x12":
                typ = "N0"
            if name in codes and typ == "AN":
                typ = "ID"
            names.add(name.split("#")[0])
            out.write("\t".join(["element", seg, pos, name, req, mn, mx, typ]) + "\n")
        for name in sorted(codes):
            if name in names:
                out.write("codes\t%s\t%s\n" % (name, codes[name]))
        for seg in sorted(rules or {}):
            if seg in used:
                for note in rules[seg]:
                    out.write("rule\t%s\t%s\n" % (seg, note))
        for name in sorted(repeats or {}):
            if name in names:
                out.write("repeat\t%s\t%d\n" % (name, repeats[name]))
    print("wrote", os.path.relpath(path, ROOT), len(sets), "sets")


def main():
    os.makedirs(OUT, exist_ok=True)
    structures = read_structures()
    for version in ("004010", "005010"):
        codes = dict(X12_CODES_COMMON)
        if version == "005010":
            codes.update(X12_CODES_5010)
        write("x12", version, structures[("x12", version)], read_elements("elements-x12-%s.tsv" % version), codes,
              X12_RULES, X12_REPEATS_5010 if version == "005010" else None)
    for version in ("D96A", "D01B"):
        write("edifact", version, structures[("edifact", version)],
              read_elements("elements-edifact-%s.tsv" % version), {})
    # CONTRL: syntax version 3 (S009 CONTRL:D:3:UN) and 4 (CONTRL:4:1:UN) share one schema file.
    unh_unt = [r for r in read_elements("elements-edifact-D01B.tsv") if r[0] in ("UNH", "UNT")]
    contrl = [line.split("\t") for line in CONTRL_ELEMENTS.strip("\n").split("\n")]
    write("edifact", "CONTRL", [("CONTRL", CONTRL_STRUCTURE)], unh_unt + contrl, EDIFACT_CODES)


if __name__ == "__main__":
    main()
