/* Replacing a module's import of one function (iat.c): the entry of its import address table
   that the loader filled for dll!name is pointed at a replacement, for that module only. */
#ifndef DRVHOOK_IAT_H
#define DRVHOOK_IAT_H

#include <windows.h>

/* Point module's import of dll!name (dll compared case-insensitively) at replacement; FALSE
   when the module does not import it by name. */
BOOL iat_replace(HMODULE module, const char *dll, const char *name, void *replacement);

#endif
