/* drvhost's side of the host protocol's output (drvhost.c's header comment): 32-byte
   records, RETURNs buffered and flushed when the buffer fills, every ~200 ms (keep_alive)
   and before any final record. */
#ifndef DRVHOST_OUTPUT_H
#define DRVHOST_OUTPUT_H

#include <windows.h>
#include <stdint.h>

#define REC_READY 1
#define REC_RETURN 2
#define REC_HEARTBEAT 3
#define REC_DONE 4
#define REC_FAULT 5
#define REC_HANG 6
#define REC_ERROR 7
#define REC_MEMORY 8

#define NO_CALL 0xFFFFFFFFu

/* The protocol's pipe: from now on fail() can report through it. */
void output_start(HANDLE pipe);
/* A record written at once (READY). */
void emit_now(uint32_t kind, uint32_t index, int64_t a, int64_t b);
void emit_return(uint32_t index, int64_t result, int64_t ns);
/* A MEMORY record: len bytes of block id from offset, as call index left them (before its RETURN). */
void emit_memory(uint32_t index, uint32_t id, uint64_t offset, const void *data, uint64_t len);
/* The buffered RETURNs written now (before a call that may freeze the whole process). */
void flush_returns(void);
/* A final record (DONE, FAULT, HANG, ERROR) after everything buffered; the process ends. */
void __attribute__((noreturn))
emit_final(uint32_t kind, uint32_t index, int64_t a, int64_t b, const char *tail, UINT exit_code);
/* An ERROR record with a one-line message, then exit code 2. */
void __attribute__((noreturn)) fail(const char *fmt, ...);
/* For the watchdog, every few ms: flush returns that waited ~200 ms; a HEARTBEAT after 1 s of silence. */
void keep_alive(void);

#endif
