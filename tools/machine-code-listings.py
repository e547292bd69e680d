#!/usr/bin/env python3
# Regenerates src/Ingot.Runtime/Kernels/MachineCode*.Listing.cs from the assembler sources after any change to them:
# `as --64` over the nine .s files in order (ten listing files: MachineCode.KQuants.s in two), then each listing file's range of objdump's Intel listing as byte lines with
# the instruction as a comment. Each file keeps its header (up to its `[` line); MachineCodeTests compares the bytes and
# the entry points (MachineCode.cs's offsets, which this prints). Usage: python3 tools/machine-code-listings.py
import os, re, subprocess, sys, tempfile

kernels = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "Ingot.Runtime", "Kernels")
sources = ["MachineCode.s", "MachineCode.Q4_0x16.s", "MachineCode.Q8_0.s", "MachineCode.KQuants.s", "MachineCode.Q6_Kx16.s", "MachineCode.F16Widen.s",
           "MachineCode.Q4_Kx16.s", "MachineCode.Q8_0x16.s",
           "MachineCode.Q5_Kx16.s"]
# listing file, the label it starts at (None: offset 0)
listings = [("MachineCode.Listing.cs", None), ("MachineCode.Q4_0x16.Listing.cs", "q4_0x16dot512"),
            ("MachineCode.Q8_0.Listing.cs", "q8_0dots512"), ("MachineCode.Q6_K.Listing.cs", "q6_kdots512"),
            ("MachineCode.Q4_KQ5_K.Listing.cs", "q4_kdots512"),
            ("MachineCode.Q6_Kx16.Listing.cs", "q6_kx16dots512"), ("MachineCode.F16Widen.Listing.cs", "f16widen512"),
            ("MachineCode.Q4_Kx16.Listing.cs", "q4_kx16dots512"),
            ("MachineCode.Q8_0x16.Listing.cs", "q8_0x16dots512"),
            ("MachineCode.Q5_Kx16.Listing.cs", "q5_kx16dots512")]

with tempfile.TemporaryDirectory() as tmp:
    obj = os.path.join(tmp, "code.o")
    subprocess.run(["as", "--64", *[os.path.join(kernels, s) for s in sources], "-o", obj], check=True)
    dump = subprocess.run(["objdump", "-d", "-M", "intel", "--insn-width=16", obj], check=True, capture_output=True, text=True).stdout

labels, lines = {}, []  # lines: (offset, text) where text is a label line or a byte line
for l in dump.splitlines():
    m = re.match(r"^([0-9a-f]{16}) <(.+)>:$", l)
    if m:
        labels[m.group(2)] = int(m.group(1), 16)
        lines.append((int(m.group(1), 16), f"        // {m.group(1)} <{m.group(2)}>:"))
        continue
    m = re.match(r"^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$", l)
    if not m:
        continue
    code = ", ".join("0x" + b for b in m.group(2).split()) + ","
    asm = re.sub(r"\b(BYTE|DWORD|QWORD|XMMWORD|YMMWORD|ZMMWORD) PTR ", "", m.group(3))
    asm = re.sub(r"^(\S+)\s+", r"\1 ", asm.strip())
    lines.append((int(m.group(1), 16), f"        {code.ljust(53) if len(code) < 53 else code + ' '}// {asm}"))

starts = [0 if label is None else labels[label] for _, label in listings]
for i, (name, _) in enumerate(listings):
    end = starts[i + 1] if i + 1 < len(listings) else 1 << 62
    path = os.path.join(kernels, name)
    text = open(path).read()
    head = text[: text.index("    [\n") + len("    [\n")]
    body = [t for at, t in lines if starts[i] <= at < end]
    open(path, "w").write(head + "\n".join(body) + "\n    ];\n}\n")
for label, at in sorted(labels.items(), key=lambda kv: kv[1]):
    print(f"{label} 0x{at:x}")
