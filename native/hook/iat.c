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

/* The patches whose function one import descriptor's entries may hold: those from the module
   its DLL name resolves to (nothing is loaded to find out). */
static int patch_descriptor(BYTE *base, const IMAGE_IMPORT_DESCRIPTOR *d, const iat_patch_t *patches, size_t n)
{
    HMODULE from = GetModuleHandleA((const char *)(base + d->Name));
    if (!from || !d->OriginalFirstThunk)
        return 0;
    int changed = 0;
    const IMAGE_THUNK_DATA *names = (const IMAGE_THUNK_DATA *)(base + d->OriginalFirstThunk);
    ULONG_PTR *entries = (ULONG_PTR *)(base + d->FirstThunk);
    for (size_t i = 0; names[i].u1.AddressOfData; i++) {
        if (IMAGE_SNAP_BY_ORDINAL(names[i].u1.Ordinal))
            continue;
        const char *name = (const char *)((IMAGE_IMPORT_BY_NAME *)(base + names[i].u1.AddressOfData))->Name;
        for (size_t p = 0; p < n; p++)
            if (patches[p].from == from && strcmp(name, patches[p].name) == 0)
                changed += set_entry(&entries[i], patches[p].replacement);
    }
    return changed;
}

int iat_patch(HMODULE module, const iat_patch_t *patches, size_t n)
{
    BYTE *base = (BYTE *)module;
    IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)(base + ((IMAGE_DOS_HEADER *)base)->e_lfanew);
    IMAGE_DATA_DIRECTORY dir = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
    if (!dir.VirtualAddress)
        return 0;
    int changed = 0;
    for (const IMAGE_IMPORT_DESCRIPTOR *d = (IMAGE_IMPORT_DESCRIPTOR *)(base + dir.VirtualAddress); d->Name; d++)
        changed += patch_descriptor(base, d, patches, n);
    return changed;
}
