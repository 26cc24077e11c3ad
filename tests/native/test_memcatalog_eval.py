"""The C size evaluator (memcatalog_eval.h, as drvtap and drvhost use it) computes every
node's size as drvtape/schema/memory/sizes.py does, on the same bytes: realistic headers
and hostile ones, for every message of the catalog (x64 tables, run under Wine)."""

import random
import struct
import subprocess
from pathlib import Path

from drvtape.dllhost import wine
from drvtape.dllhost.build import compile_pe
from drvtape.schema.memory.catalog import class_messages
from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.memory.gen_c import HEADER_PATH
from drvtape.schema.memory.sizes import BytesReader, evaluate_size

CLIENT = Path(__file__).parent / "clients" / "memsize.c"
CLASS_NUMBER = {DriverClass.VFW: 1, DriverClass.ACM: 2,
                DriverClass.MCI: list(DriverClass).index(DriverClass.MCI)}  # gen_c numbers classes in this order


def plausible(rng: random.Random, layout_name: str | None) -> bytes:
    """Bytes a codec session could hold, or garbage."""
    if rng.random() < 0.3:
        return rng.randbytes(rng.choice([0, 2, 17, 40, 124]))
    if layout_name == "BITMAPINFOHEADER":
        bits = rng.choice([0, 1, 4, 8, 16, 24, 32, 0xFFFF])
        return struct.pack("<IiiHHIIiiII", rng.choice([40, 108, 124, 0xFFFFFFFF]),
                           rng.choice([1, 320, -320, (1 << 31) - 1, -(1 << 31)]),
                           rng.choice([1, 240, -240, -(1 << 31)]), 1, bits, rng.choice([0, 1, 3, 0x6D617263]),
                           rng.choice([0, 0, 1234, 0xFFFFFFFF]), 0, 0, rng.choice([0, 0, 16, 256, 0xFFFFFFFF]), 0)
    if layout_name == "WAVEFORMATEX":
        return struct.pack("<HHIIHHH", rng.choice([1, 2, 0x11, 0x55, 0xFFFF]), 1, 8000, 4000, 256, 4,
                           rng.choice([0, 2, 32, 0xFFFF]))
    return struct.pack("<I", rng.choice([0, 16, 124, 1 << 20, 0xFFFFFFFF])) + rng.randbytes(rng.choice([0, 60, 200]))


def vectors(seed: int = 10, rounds: int = 12):
    rng = random.Random(seed)
    for cls, number in CLASS_NUMBER.items():
        for entry in class_messages(cls):
            for _ in range(rounds):
                memory = {n.path: plausible(rng, n.layout.name if n.layout else None) for n in entry.nodes}
                lparams = (rng.getrandbits(64), rng.choice([0, 568, rng.getrandbits(64)]))
                for index, node in enumerate(entry.nodes):
                    yield number, entry, index, lparams, memory, evaluate_size(node, "x64", BytesReader(memory, lparams))


def test_c_and_python_sizes_agree(host):
    exe = compile_pe([CLIENT], flags=[f"-I{HEADER_PATH.parent}"])
    cases = list(vectors())
    lines = []
    for number, entry, index, (l1, l2), memory, _ in cases:
        hexes = " ".join(memory[n.path].hex() or "-" for n in entry.nodes)
        lines.append(f"{number} {entry.code:x} {index} {l1:x} {l2:x} {hexes}\n")
    argv, env = wine.command(exe)
    proc = subprocess.run(argv, input="".join(lines), env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = proc.stdout.split()
    assert len(got) == len(cases) > 500
    wrong = [(entry.name, entry.nodes[index].path, c, py) for (_, entry, index, _, _, py), c in zip(cases, got)
             if c != str(py)]
    assert not wrong, wrong[:5]
