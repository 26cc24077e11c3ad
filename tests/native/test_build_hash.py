"""compile_pe's cache key covers the headers of the -I folders (native/common/drvcommon.h),
not only those beside the sources: editing the shared header rebuilds drvhost and drvtap."""
from drvtape.dllhost.build import compile_pe


def test_a_header_in_an_include_folder_is_part_of_the_build_key(tmp_path, host):
    common = tmp_path / "common"
    common.mkdir()
    (common / "shared.h").write_text("#define ANSWER 41\n")
    (tmp_path / "prog.c").write_text('#include "shared.h"\nint main(void) { return ANSWER; }\n')
    first = compile_pe([tmp_path / "prog.c"], flags=[f"-I{common}"])
    (common / "shared.h").write_text("#define ANSWER 42\n")
    second = compile_pe([tmp_path / "prog.c"], flags=[f"-I{common}"])
    assert first != second and second.exists()
