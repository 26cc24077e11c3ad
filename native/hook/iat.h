/* Replacing a module's imports of some functions (iat.c): the entries of its import address
   table that the loader filled for them are pointed at replacements, for that module only. */
#ifndef DRVHOOK_IAT_H
#define DRVHOOK_IAT_H

#include <windows.h>

typedef struct {
    HMODULE from;      /* the module that exports the function */
    const char *name;  /* imported by this name */
    void *replacement;
} iat_patch_t;

/* Point module's imports of each patch's from!name at its replacement. An import counts as
   from `from` when the DLL name it names resolves to that module: its own name, or an API set
   (api-ms-win-core-libraryloader-l1-2-1.dll ...) whose host it is; under Wine 8.0, as under
   Windows, GetModuleHandle resolves API-set names to their host (checked). Returns how many
   entries were changed. */
int iat_patch(HMODULE module, const iat_patch_t *patches, size_t n);

#endif
