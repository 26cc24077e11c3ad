/*
 * drvtap tape format, version 4. drvtape/formats/tape.py is the reader (it reads versions 1,
 * 2 and 3 too); keep the two in step, and docs/drvtap.md.
 *
 * A tape is a sequence of frames, all little-endian:
 *     u32 length       of the body, 4 .. DRVTAP_MAX_BODY; written last (see below)
 *     u32 crc32        of the body (IEEE 802.3 / zlib polynomial)
 *     body             length bytes; its first u32 is the record type
 *
 * Version 2 is written through mapped views: a process appends into chunks it claims at
 * the end of the file, each starting at a multiple of DRVTAP_CHUNK_ALIGN (64 KiB). So
 *   - zero bytes where a frame would start, running to the next multiple of 64 KiB or to
 *     the end of the file, are padding (the unused end of a chunk), not damage;
 *   - a frame whose length is 0 but whose next bytes are not all zero is a record its
 *     process died writing (the length is stored after the CRC and the body).
 * Several processes may append to one file; each claims its chunks under a named mutex.
 *
 * A session starts with a HEADER record; the other records after it belong to the latest
 * header with the same process id. A file may hold several sessions (a fixed DRVTAP_TAPE
 * reused by later or concurrent runs, or the tap unloaded and loaded again in one
 * process). In a session, file order is seq order.
 *
 * HEADER body (72 bytes, then 5 strings):
 *     u32 type = 1, char magic[8] = "DRVTAPE1", u32 version = 3,
 *     u32 pid, u32 flags (bit 0: DRVTAP_FLUSH=every), u32 pointer_size (8), u32 reserved,
 *     u64 qpc_frequency, u64 qpc_start, u64 filetime_start (UTC, 100 ns since 1601),
 *     u64 reserved2, u64 reserved3
 *     then 5 strings, each u32 n_units + n_units UTF-16LE code units (no NUL):
 *     machine name, OS description, process image path, real driver path, tap DLL path
 * CALL body (72 bytes, then payloads):
 *     u32 type = 2, u32 pid, u32 thread, u32 depth (re-entrancy: 0 = outermost),
 *     u64 seq (1, 2, ... per session, shared by all record types but the header),
 *     u64 qpc, u32 msg, u16 n_payloads, u16 entry_point, u64 driver_id, u64 hdrvr,
 *     i64 lparam1, i64 lparam2
 *     then n_payloads payloads: u8 param (1 or 2), u8 kind, u16 flags (bit 0: truncated
 *     at the size cap), u32 length, length bytes (see DRVTAP_P_*)
 *     entry_point (version 4; the high half of a u32 n_payloads before, so 0): the function
 *     that got the call, drvcommon.h's ENTRY_* (0 DriverProc). A device entry point's arguments
 *     (uDeviceID, uMsg, dwUser, dwParam1, dwParam2) are written as hdrvr, msg, driver_id,
 *     lparam1, lparam2; its DWORD result as lresult, zero-extended
 * RETURN body (72 bytes):
 *     u32 type = 3, u32 pid, u32 thread, u32 depth, u64 seq, u64 qpc, u64 call_seq,
 *     u32 msg, u32 entry_point (version 4; reserved, 0, before), u64 driver_id, u64 hdrvr,
 *     i64 lresult. After a device entry point's open (WODM_OPEN, WIDM_OPEN, MODM_OPEN,
 *     MIDM_OPEN, MXDM_OPEN) returned, driver_id is the instance the driver stored at dwUser
 *     (0 when that cannot be read), which the device's later messages pass as their dwUser
 * FAULT body (64 bytes, then 1 string), written by a vectored exception handler when an
 * exception of error severity (code >= 0xC0000000) is raised on a thread that is inside a
 * forwarded call (at most DRVTAP_MAX_FAULTS per call):
 *     u32 type = 5, u32 pid, u32 thread, u32 depth, u64 seq, u64 qpc, u64 call_seq,
 *     u32 exception code, u32 reserved, u64 address, u64 offset in the module (the
 *     address when in no module), then the module's file name (u32 units + units; 0 units
 *     when in no module). If the call's RETURN follows, the driver handled the exception.
 * END body (40 bytes), written by DllMain(DLL_PROCESS_DETACH) when the tap is unloaded
 * (FreeLibrary); the session's last record:
 *     u32 type = 4, u32 pid, u32 thread, u32 reason (1 unloaded by FreeLibrary; version 1
 *     tapes also have 2, process exit), u64 seq, u64 qpc, u32 calls_in_flight, u32 reserved
 * DETACH body (40 bytes, the END layout with reason 0), written by DllMain(DLL_PROCESS_DETACH)
 * when the process is exiting. Not the last record: messages sent after the tap's detach
 * (Wine 8.0: msacm32's exit-time DRV_CLOSE per open instance, DRV_DISABLE, DRV_FREE) follow
 * it in the session.
 *     u32 type = 6, u32 pid, u32 thread, u32 0, u64 seq, u64 qpc, u32 calls_in_flight,
 *     u32 reserved
 * MEMORY body (52 bytes, then the path and the bytes; version 3), one block of the memory
 * behind a call's lParam as native/common/memcatalog.h's nodes describe it, for instances
 * whose class (from what their DRV_OPEN received) is VfW or ACM. Written after its CALL
 * record (phase 1: input and in/out memory, what the driver reads) or after the call
 * returned and before its RETURN record (phase 2: output and in/out memory, what it wrote).
 * Not numbered: it has no seq of its own, it names its CALL's:
 *     u32 type = 7, u32 pid, u32 thread, u32 phase (1 call, 2 return), u64 call_seq,
 *     u64 address, u64 size (computed from the catalog), u32 captured (bytes that follow),
 *     u32 flags (1 truncated: captured < size, cut at DRVTAP_MEMORY_CAP; 2 unreadable:
 *     nothing captured, VirtualQuery did not say committed and readable, or the size is over
 *     the catalog's cap), u16 path_len, u16 reserved, then the path (ASCII, path_len bytes,
 *     e.g. "lparam1.lpbiInput"), then the captured bytes
 *
 * Payload kinds (copied only after VirtualQuery says the memory is committed and
 * readable, with the caps below):
 *     1 WSTR        UTF-16LE code units, no NUL (cap DRVTAP_MAX_WSTR units)
 *     2 ICOPEN      the struct's bytes as read (min(dwSize, sizeof(ICOPEN)) = 56 on x64)
 *     3 BYTES       raw bytes: the first DWORD says how many (cap DRVTAP_MAX_BYTES)
 *     4 DRVCONFIGINFO  u32 dwDCISize, then 2 strings (section, alias), each
 *                   u32 n_units (0xFFFFFFFF: NULL pointer or unreadable) + UTF-16LE units
 *     5 ACMDRVOPENDESCW  u32 cbStruct, fccType, fccComp, dwVersion, dwFlags, dwError,
 *                   dnDevNode, then 2 strings as for DRVCONFIGINFO (section, alias)
 */
#ifndef DRVTAP_H
#define DRVTAP_H

#define DRVTAP_MAGIC "DRVTAPE1"
#define DRVTAP_VERSION 4u
#define DRVTAP_CHUNK_ALIGN (64u << 10)
#define DRVTAP_MAX_BODY (1u << 20)

#define DRVTAP_REC_HEADER 1u
#define DRVTAP_REC_CALL 2u
#define DRVTAP_REC_RETURN 3u
#define DRVTAP_REC_END 4u
#define DRVTAP_REC_FAULT 5u
#define DRVTAP_REC_DETACH 6u
#define DRVTAP_REC_MEMORY 7u
#define DRVTAP_MAX_FAULTS 8u
#define DRVTAP_MEMORY_FIXED 52u /* a MEMORY body's fixed fields, before the path */
#define DRVTAP_MF_TRUNCATED 1u
#define DRVTAP_MF_UNREADABLE 2u

#define DRVTAP_P_WSTR 1u
#define DRVTAP_P_ICOPEN 2u
#define DRVTAP_P_BYTES 3u
#define DRVTAP_P_DRVCONFIGINFO 4u
#define DRVTAP_P_ACMDRVOPENDESCW 5u
#define DRVTAP_PF_TRUNCATED 1u
#define DRVTAP_NULL_STRING 0xFFFFFFFFu

#define DRVTAP_MAX_WSTR 1024u  /* UTF-16 code units per string */
#define DRVTAP_MAX_BYTES 4096u /* raw payload bytes */

#define DRVTAP_END_UNLOADED 1u /* version 1 taps also wrote 2, process exit */

#define DRVTAP_FLAG_FLUSH_EVERY 1u

#endif
