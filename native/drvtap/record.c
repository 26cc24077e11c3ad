/* Record bodies and CALL payloads: see record.h and drvtap.h. */
#define WIN32_LEAN_AND_MEAN
#include "record.h"

#include <mmsystem.h>
#include <mmddk.h>
#include <vfw.h>
#include <string.h>
#include <wchar.h>

#include "drvtap.h"

size_t readable(const void *p, size_t want)
{
    const uint8_t *a = p;
    size_t got = 0;
    if ((uintptr_t)p < 0x10000u)
        return 0;
    while (got < want) {
        MEMORY_BASIC_INFORMATION mbi;
        if (!VirtualQuery(a + got, &mbi, sizeof mbi))
            break;
        DWORD prot = mbi.Protect;
        if (mbi.State != MEM_COMMIT || (prot & (PAGE_GUARD | PAGE_NOACCESS)) ||
            !(prot & (PAGE_READONLY | PAGE_READWRITE | PAGE_WRITECOPY | PAGE_EXECUTE_READ |
                      PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY)))
            break;
        size_t end = (size_t)((const uint8_t *)mbi.BaseAddress + mbi.RegionSize - a);
        if (end <= got)
            break;
        got = end;
    }
    return got < want ? got : want;
}

/* Length in code units of a readable NUL-terminated wide string, capped; -1 when the
   pointer is NULL or unreadable. *truncated when the cap (or unreadable memory) cut it. */
static long wstr_len(const WCHAR *s, BOOL *truncated)
{
    *truncated = FALSE;
    size_t units = readable(s, (DRVTAP_MAX_WSTR + 1) * sizeof(WCHAR)) / sizeof(WCHAR);
    if (units == 0)
        return -1;
    for (size_t i = 0; i < units; i++)
        if (s[i] == 0)
            return (long)i;
    *truncated = TRUE;
    return (long)(units > DRVTAP_MAX_WSTR ? DRVTAP_MAX_WSTR : units);
}

/* u32 n_units (DRVTAP_NULL_STRING for NULL/unreadable) + the units. */
static BOOL put_string(buf_t *b, const WCHAR *s)
{
    BOOL truncated;
    long n = wstr_len(s, &truncated);
    if (n < 0) {
        put32(b, DRVTAP_NULL_STRING);
        return FALSE;
    }
    put32(b, (uint32_t)n);
    put(b, s, (size_t)n * sizeof(WCHAR));
    return truncated;
}

/* Payload framing: u8 param, u8 kind, u16 flags, u32 length, data. Returns the offset of
   the header so the caller can patch length and flags once the data is written. */
static size_t payload_begin(buf_t *b, unsigned param, unsigned kind)
{
    size_t at = b->len;
    uint8_t head[8] = {(uint8_t)param, (uint8_t)kind, 0, 0, 0, 0, 0, 0};
    put(b, head, sizeof head);
    return at;
}

static void payload_end(buf_t *b, size_t at, BOOL truncated)
{
    if (b->len > b->cap)
        return;
    uint16_t flags = truncated ? DRVTAP_PF_TRUNCATED : 0;
    memcpy(b->p + at + 2, &flags, 2);
    patch32(b, at + 4, (uint32_t)(b->len - at - 8));
}

static unsigned add_wstr_payload(buf_t *b, unsigned param, const WCHAR *s)
{
    BOOL truncated;
    long n = wstr_len(s, &truncated);
    if (n < 0)
        return 0;
    size_t at = payload_begin(b, param, DRVTAP_P_WSTR);
    put(b, s, (size_t)n * sizeof(WCHAR));
    payload_end(b, at, truncated);
    return 1;
}

BOOL is_mci_open(const void *p)
{
    MCI_OPEN_DRIVER_PARMS modp;
    if (readable(p, sizeof modp) < sizeof modp)
        return FALSE;
    memcpy(&modp, p, sizeof modp);
    DWORD fcc;
    memcpy(&fcc, (const uint8_t *)p + 4, 4);
    if (fcc == FOURCC_VIDC || fcc == FOURCC_VIDS || fcc == FOURCC_AUDC)
        return FALSE; /* an ICOPEN or ACMDRVOPENDESCW: their size comes first, then their FOURCC */
    return modp.wDeviceID >= 1 && modp.wDeviceID <= 0xFFFF;
}

/* MCI_OPEN_DRIVER_PARMS's bytes, lpstrParams zeroed: replay never passes a recorded address
   (Wine's winmm sets it NULL; Windows points it at the alias's text after the DLL name,
   which DRV_OPEN's lParam1 carries too). */
static unsigned add_mci_open_payload(buf_t *b, unsigned param, const void *p)
{
    MCI_OPEN_DRIVER_PARMS modp;
    memcpy(&modp, p, sizeof modp);
    modp.lpstrParams = NULL;
    size_t at = payload_begin(b, param, DRVTAP_P_BYTES);
    put(b, &modp, sizeof modp);
    payload_end(b, at, FALSE);
    return 1;
}

static unsigned add_open_struct_payload(buf_t *b, unsigned param, const void *p)
{
    if (readable(p, 8) < 8)
        return 0;
    DWORD size, fcc;
    memcpy(&size, p, 4);
    memcpy(&fcc, (const uint8_t *)p + 4, 4);
    if (size == sizeof(ICOPEN) && fcc == FOURCC_VIDC && readable(p, sizeof(ICOPEN)) == sizeof(ICOPEN)) {
        size_t at = payload_begin(b, param, DRVTAP_P_ICOPEN);
        put(b, p, sizeof(ICOPEN));
        payload_end(b, at, FALSE);
        return 1;
    }
    if (size >= sizeof(acmdrvopendescw_t) && fcc == FOURCC_AUDC &&
        readable(p, sizeof(acmdrvopendescw_t)) == sizeof(acmdrvopendescw_t)) {
        acmdrvopendescw_t a;
        memcpy(&a, p, sizeof a);
        size_t at = payload_begin(b, param, DRVTAP_P_ACMDRVOPENDESCW);
        uint32_t f[] = {a.cbStruct, a.fccType, a.fccComp, a.dwVersion, a.dwFlags, a.dwError, a.dnDevNode};
        put(b, f, sizeof f);
        BOOL t1 = put_string(b, a.pszSectionName);
        BOOL t2 = put_string(b, a.pszAliasName);
        payload_end(b, at, t1 || t2);
        return 1;
    }
    if (is_mci_open(p))
        return add_mci_open_payload(b, param, p);
    size_t want = size < 4 ? 4 : size > DRVTAP_MAX_BYTES ? DRVTAP_MAX_BYTES : size;
    size_t got = readable(p, want);
    size_t at = payload_begin(b, param, DRVTAP_P_BYTES);
    put(b, p, got);
    payload_end(b, at, got < size);
    return 1;
}

static unsigned add_drvconfiginfo_payload(buf_t *b, unsigned param, const void *p)
{
    if (readable(p, sizeof(DRVCONFIGINFO)) < sizeof(DRVCONFIGINFO))
        return 0;
    DRVCONFIGINFO c; /* byte-packed in mmsystem.h: 20 bytes on x64 */
    memcpy(&c, p, sizeof c);
    size_t at = payload_begin(b, param, DRVTAP_P_DRVCONFIGINFO);
    put32(b, c.dwDCISize);
    BOOL t1 = put_string(b, c.lpszDCISectionName);
    BOOL t2 = put_string(b, c.lpszDCIAliasName);
    payload_end(b, at, t1 || t2);
    return 1;
}

void put_wide(buf_t *b, const WCHAR *s)
{
    size_t n = wcslen(s);
    put32(b, (uint32_t)n);
    put(b, s, n * sizeof(WCHAR));
}

unsigned add_payloads(buf_t *b, UINT msg, LPARAM l1, LPARAM l2)
{
    switch (msg) {
    case DRV_OPEN:
        return add_wstr_payload(b, 1, (const WCHAR *)l1) + add_open_struct_payload(b, 2, (const void *)l2);
    case DRV_CONFIGURE:
    case DRV_INSTALL:
    case DRV_REMOVE:
        return add_drvconfiginfo_payload(b, 2, (const void *)l2);
    }
    return 0;
}
