#!/bin/sh
# Build native/build/drvhost.exe with x86_64-w64-mingw32-gcc (Debian: gcc-mingw-w64-x86-64).
# The flags live in drvtape/dllhost/build.py; drvtape builds its own cached copy when it
# needs one, so this is for people who want the binary (e.g. to copy to a Windows machine).
set -eu
cd "$(dirname "$0")/.."
exec python3 -m drvtape.dllhost.build --out native/build/drvhost.exe
