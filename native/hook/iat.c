#include "iat.h"

#include <string.h>

static BOOL set_entry(ULONG_PTR *entry, void *replacement)
{
    DWORD was;
    if (!VirtualProtect(entry, sizeof *entry, PAGE_READWRITE, &was))
        return FALSE;
    *entry = (ULONG_PTR)replacement;
    VirtualProtect(entry, sizeof *entry, was, &was);
    return TRUE;
}

BOOL iat_replace(HMODULE module, const char *dll, const char *name, void *replacement)
{
    BYTE *base = (BYTE *)module;
    IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)(base + ((IMAGE_DOS_HEADER *)base)->e_lfanew);
    IMAGE_DATA_DIRECTORY dir = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
    if (!dir.VirtualAddress)
        return FALSE;
    BOOL replaced = FALSE;
    for (IMAGE_IMPORT_DESCRIPTOR *d = (IMAGE_IMPORT_DESCRIPTOR *)(base + dir.VirtualAddress); d->Name; d++) {
        if (lstrcmpiA((const char *)(base + d->Name), dll) != 0 || !d->OriginalFirstThunk)
            continue;
        IMAGE_THUNK_DATA *names = (IMAGE_THUNK_DATA *)(base + d->OriginalFirstThunk);
        ULONG_PTR *entries = (ULONG_PTR *)(base + d->FirstThunk);
        for (size_t i = 0; names[i].u1.AddressOfData; i++) {
            if (IMAGE_SNAP_BY_ORDINAL(names[i].u1.Ordinal))
                continue;
            IMAGE_IMPORT_BY_NAME *by_name = (IMAGE_IMPORT_BY_NAME *)(base + names[i].u1.AddressOfData);
            if (strcmp((const char *)by_name->Name, name) == 0)
                replaced |= set_entry(&entries[i], replacement);
        }
    }
    return replaced;
}
