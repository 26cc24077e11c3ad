/* Building a tape record's body in a caller's buffer (record.c), and the payloads a CALL
   record carries for the messages whose lParams point at structures (drvtap.h's
   DRVTAP_P_*). */
#ifndef DRVTAP_RECORD_H
#define DRVTAP_RECORD_H

#include <windows.h>
#include <mmsystem.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A growing record body; writes past cap are dropped and mark it overflowed (len > cap).
   The caps on payloads keep every record far below the buffers the tap uses. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf_t;

/* Inline: the hook's hot path builds two records per message with these. */
static inline void put(buf_t *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        b->len = b->cap + 1;
        return;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static inline void put32(buf_t *b, uint32_t v) { put(b, &v, 4); }
static inline void put64(buf_t *b, uint64_t v) { put(b, &v, 8); }
static inline void patch32(buf_t *b, size_t at, uint32_t v) { memcpy(b->p + at, &v, 4); }
static inline void patch64(buf_t *b, size_t at, uint64_t v) { memcpy(b->p + at, &v, 8); }

/* Not in mingw-w64's headers; the layout of Wine's msacmdrv.h (48 bytes on x64). */
typedef struct {
    DWORD cbStruct;
    FOURCC fccType;
    FOURCC fccComp;
    DWORD dwVersion;
    DWORD dwFlags;
    DWORD dwError;
    LPCWSTR pszSectionName;
    LPCWSTR pszAliasName;
    DWORD dnDevNode;
} acmdrvopendescw_t;

#define FOURCC_VIDC 0x63646976u /* 'vidc' */
#define FOURCC_VIDS 0x73646976u /* 'vids' */
#define FOURCC_AUDC 0x63647561u /* 'audc' */

/* How many of the `want` bytes at p are committed, readable memory (0 for NULL and the
   first 64 KiB, which are never mapped on Windows: small LPARAMs are values, not data). */
size_t readable(const void *p, size_t want);

/* Whether DRV_OPEN's lParam2 is the MCI_OPEN_DRIVER_PARMS winmm passes an MCI driver: it
   has no size or FOURCC, only a wDeviceID winmm numbers from 1 (below 0x10000), so that
   is what tells it (drvtape/schema/memory/classes.py: is_mci_open), with no ICOPEN or
   ACMDRVOPENDESCW FOURCC after it. */
BOOL is_mci_open(const void *p);

/* u32 n_units + the units of a NUL-terminated string the tap itself owns. */
void put_wide(buf_t *b, const WCHAR *s);

/* The payloads of a CALL record for msg, after its fixed fields; returns how many. */
unsigned add_payloads(buf_t *b, UINT msg, LPARAM l1, LPARAM l2);

#endif
