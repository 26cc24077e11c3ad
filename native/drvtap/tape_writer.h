/* The tape file, written through mapped views (tape_writer.c). Records are appended
   without a lock on the hot path: one 16-byte compare-and-swap takes the next seq and the
   next place in the current view together, so file order is seq order (and QPC order);
   the frame's length field is written last, so a record the process died writing reads as
   length 0 (drvtap.h). Several processes may append to one tape: each claims chunks of the
   file (64 KiB-aligned, growing from 64 KiB to 16 MiB) under a named mutex of the file. */
#ifndef DRVTAP_TAPE_WRITER_H
#define DRVTAP_TAPE_WRITER_H

#include <windows.h>
#include <stddef.h>
#include <stdint.h>

/* Open (or create) the tape and claim a first chunk; FALSE when that is impossible (the
   tap then forwards unrecorded). flush_every: FlushViewOfFile + FlushFileBuffers per record. */
BOOL tape_open(const WCHAR *path, BOOL flush_every);
BOOL tape_is_open(void);

/* Append one record: body (body_len bytes) is the record with its seq field at body+16
   and its QPC field at body+24, both filled here (numbered = FALSE: a HEADER record, which
   takes neither and restarts the session's seq at 1). Returns the seq (0 for a HEADER or
   when the record could not be written). */
uint64_t tape_append(uint8_t *body, size_t body_len, BOOL numbered);

/* Append one record that takes no seq (a MEMORY record: it names its CALL's): head_len bytes
   of head, then data_len bytes copied from data straight into the tape (data is readable:
   the caller checked). FALSE when it could not be written. */
BOOL tape_append_block(const uint8_t *head, size_t head_len, const void *data, size_t data_len);

/* The process is exiting (DLL_PROCESS_DETACH with lpReserved set): other threads are gone,
   perhaps holding a lock, so from now on waits are bounded and a record that cannot be
   placed is dropped rather than waited for. */
void tape_exiting(void);

/* The tap is being unloaded: unmap, cut the file back to the last record when no other
   process appended after this one, close. */
void tape_close(void);

#endif
