"""The catalog's C side compiles for both ABIs: every layout's offsets and sizes are the
headers' (mingw-w64's, and Wine's msacmdrv.h structs as transcribed in wine_msacmdrv.h),
and the generated memcatalog.h with its evaluator builds warning-free (-c only)."""

import subprocess
from pathlib import Path

import pytest

from drvtape.schema.memory.gen_c import HEADER_PATH, layout_asserts

HERE = Path(__file__).parent
FLAGS = ("-c", "-std=gnu11", "-Wall", "-Wextra", "-Werror")


def compile_c(gcc: str, source: Path, *includes: Path) -> subprocess.CompletedProcess:
    args = [gcc, *FLAGS, *(f"-I{i}" for i in includes), str(source), "-o", str(source.with_suffix(".o"))]
    return subprocess.run(args, capture_output=True, text=True)


@pytest.mark.parametrize("arch", ["x64", "x86"])
def test_layouts_match_the_headers(tmp_path, cross_compilers, arch):
    source = tmp_path / "layouts.c"
    source.write_text(layout_asserts("wine_msacmdrv.h"))
    proc = compile_c(cross_compilers[arch], source, HERE)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("arch", ["x64", "x86"])
def test_the_generated_catalog_and_its_evaluator_compile(tmp_path, cross_compilers, arch):
    source = tmp_path / "uses.c"
    source.write_text('#include "memcatalog_eval.h"\n'
                      "const dm_message *find(uint8_t c, uint32_t m) { return dm_find(c, m); }\n"
                      "uint64_t size(const dm_message *m, int i, const dm_reader *r) { return dm_node_size(m, i, r); }\n")
    proc = compile_c(cross_compilers[arch], source, HEADER_PATH.parent)
    assert proc.returncode == 0, proc.stderr
