#!/bin/sh
# Build native/build/drvhost.exe (the replay host) and native/build/drvtap.dll (the recording
# proxy driver) with x86_64-w64-mingw32-gcc (Debian: gcc-mingw-w64-x86-64), and their 32-bit
# builds native/build/x86/drvhost.exe and native/build/x86/drvtap.dll with i686-w64-mingw32-gcc
# (Debian: gcc-mingw-w64-i686). The flags live in drvtape/dllhost/build.py; drvtape builds its
# own cached copies when it needs them, so this is for people who want the binaries (e.g. to
# copy to a Windows machine).
set -eu
cd "$(dirname "$0")/.."
for arch in x64 x86; do
    dir=native/build
    [ "$arch" = x64 ] || dir=native/build/$arch
    python3 -m drvtape.dllhost.build --arch "$arch" --out "$dir/drvhost.exe"
    python3 -m drvtape.dllhost.build --arch "$arch" --tap --out "$dir/drvtap.dll"
done
