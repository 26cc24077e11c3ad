#!/bin/sh
# Build native/build/drvhost.exe (the replay host) and native/build/drvtap.dll (the recording
# proxy driver) with x86_64-w64-mingw32-gcc (Debian: gcc-mingw-w64-x86-64). The flags live in
# drvtape/dllhost/build.py; drvtape builds its own cached copies when it needs them, so this is
# for people who want the binaries (e.g. to copy to a Windows machine).
set -eu
cd "$(dirname "$0")/.."
python3 -m drvtape.dllhost.build --out native/build/drvhost.exe
python3 -m drvtape.dllhost.build --tap --out native/build/drvtap.dll
