/* The memory behind a message's lParams (memory_capture.c): for an instance whose class
   (VfW, ACM) its DRV_OPEN told, and for every call to a device entry point, the blocks native/common/memcatalog.h's nodes describe are
   written as MEMORY records (drvtap.h), before the call (input and in/out memory) and after
   it returned (output and in/out memory). */
#ifndef DRVTAP_MEMORY_CAPTURE_H
#define DRVTAP_MEMORY_CAPTURE_H

#include <windows.h>
#include <stdint.h>

#include "drvcommon.h"
#include "memcatalog.h"

#define DRVTAP_MEMORY_CAP_DEFAULT 1000000u

/* The per-block cap (DRVTAP_MEMORY_CAP, bytes; bounded so a record fits one frame). */
void memory_configure(void);

/* The class of an instance: what its DRV_OPEN received (DM_CLS_DRV for id 0 and unknown ids). */
uint8_t instance_class(DWORD_PTR id);

/* After DRV_OPEN returned id for an open struct l2 (ICOPEN, ACMDRVOPENDESCW), and after
   DRV_CLOSE of id returned. */
void instance_opened(DWORD_PTR id, LPARAM l2);
void instance_closed(DWORD_PTR id);

/* The catalog entry of a message to entry point `entry` (drvcommon.h's ENTRY_*) when it
   has memory to capture, else NULL: the hot path's test. A device entry point's class is
   its own (drvtape/schema/memory/devices.py), never DriverProc's DRV_* (dm_find's fallback). */
static inline const dm_message *memory_of(unsigned entry, DWORD_PTR id, UINT msg)
{
    static const uint8_t device_classes[ENTRY_POINTS] = {DM_CLS_DRV,    DM_CLS_WAVEOUT, DM_CLS_WAVEIN, DM_CLS_MIDIOUT,
                                                         DM_CLS_MIDIIN, DM_CLS_MIXER,   DM_CLS_AUX};
    uint8_t cls = entry == ENTRY_DRIVERPROC ? instance_class(id) : device_classes[entry];
    const dm_message *m = dm_find(cls, msg);
    return m && m->n_nodes && (entry == ENTRY_DRIVERPROC || m->cls == cls) ? m : NULL;
}

/* Write the blocks of phase 1 (DM_IN: before the call) or 2 (DM_OUT: after it returned). */
void capture_memory(const dm_message *m, uint32_t phase, uint64_t call_seq, uint32_t pid, LPARAM l1, LPARAM l2);

#endif
