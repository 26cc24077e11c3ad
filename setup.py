"""Ships native/ (the C sources drvtape builds drvhost and drvtap from) inside the wheel.

native/ stays at the repository root, where it is edited; building the package copies its
.c and .h files into drvtape/_native in the build tree, never into the source tree. A source
checkout, and so an editable install, uses native/ itself (drvtape.dllhost.sources).
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

NATIVE = Path(__file__).resolve().parent / "native"
SHIPPED = ("*.c", "*.h")


class BuildPyWithNative(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "drvtape" / "_native"
        for pattern in SHIPPED:
            for src in NATIVE.rglob(pattern):
                rel = src.relative_to(NATIVE)
                if rel.parts[0] == "build":  # native/build.sh's output folder
                    continue
                self.mkpath(str((target / rel).parent))
                self.copy_file(str(src), str(target / rel), preserve_mode=False)


setup(cmdclass={"build_py": BuildPyWithNative})
