/* The taps the hook puts in front of the drivers of its process (taps.c): a copy of drvtap.dll
   per driver, in d<pid>.<n>\ of the hook's folder with a drvtap.cfg naming the driver and its
   tape <name>.<pid>.<n>.drvtape (the tap holds one driver and one tape, so one copy each). */
#ifndef DRVHOOK_TAPS_H
#define DRVHOOK_TAPS_H

#include <windows.h>

/* Read the hook's folder (that of module self) and drvhook.cfg, once: line 1 the pattern a
   driver's file name must match to be recorded (empty: every driver), line 2 "children" to
   follow child processes (returned). */
BOOL taps_configure(HINSTANCE self);

/* Is path (a module's file) in the hook's folder: the hook itself or one of its taps? */
BOOL taps_own(const WCHAR *path);

/* The entry point `name` (DriverProc, wodMessage ... auxMessage) to give out for driver module
   real, whose own is proc: its tap's, the tap started on the module's first lookup (proc itself
   when the driver is not recorded). The run's drvtap.dll exports every device entry point
   (drvtape.recorder.hookrun); a lookup the real driver fails never comes here. */
FARPROC tap_module_lookup(HMODULE real, const char *name, FARPROC proc);

/* A FreeLibrary of module is coming: on the last one matching a lookup, free its tap first. */
void tap_module_freeing(HMODULE module);

/* The DRIVERPROC to give the system for a function driver (acmDriverAdd, ICInstall). */
LPARAM tap_function(LPARAM proc);

#endif
