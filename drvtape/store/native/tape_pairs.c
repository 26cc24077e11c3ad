/* read_pairs(data, pos, stop, seq, events, session, max_pairs) -> (pos, packed, last_ts, last_thread)
 *
 * From pos, while the frames below stop are a CALL with no payloads and at once its RETURN
 * (both intact, of the session's pid, on the same thread, the next seqs after `seq`, a known
 * entry point, times in range), each pair becomes the two rows SessionEvents.add would build,
 * packed as pack_rows packs them, numbered after `events`; at most max_pairs pairs. pos is
 * the first record left for the Python reader (the pos given when no pair was taken, packed
 * then None). session: (pid, qpc_start, freq, narrow, entry points known). The layouts are
 * drvtape/formats/tape.py's CALL and RETURN; tests/test_tape_fast_path.py checks this
 * against the Python reader, the reference. The GIL is released while reading.
 */
#include <string.h>
#include <zlib.h>

#include "packed_rows.h"
#include "tape_pairs.h"

#define FRAME_BYTES 8
#define RECORD_BYTES 72 /* CALL and RETURN alike */
#define PAIR_BYTES (2 * (FRAME_BYTES + RECORD_BYTES))
#define ROW_BYTES_MAX (1 + PACKED_MAX_FIELDS * 9)
#define REC_CALL 2
#define REC_RETURN 3
#define KIND_CALL 0   /* drvtape.schema.rows.Kind */
#define KIND_RETURN 1
#define DRV_OPEN 3    /* drvtape.schema.messages */
#define NS_PER_S 1000000000

typedef struct {
    uint32_t pid;
    uint64_t qpc_start, freq;
    int narrow, n_codes;
} session_facts;

typedef struct {
    unsigned char *at;
} row_out;

static uint32_t u32_at(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t u16_at(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint64_t u64_at(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void put_signed(row_out *out, int64_t value)
{
    *out->at++ = TAG_INT;
    memcpy(out->at, &value, 8);
    out->at += 8;
}

/* an unsigned column's value: above INT64_MAX it is tagged UINT (pack_rows' rule) */
static void put_unsigned(row_out *out, uint64_t value)
{
    *out->at++ = value > INT64_MAX ? TAG_UINT : TAG_INT;
    memcpy(out->at, &value, 8);
    out->at += 8;
}

static void put_null(row_out *out) { *out->at++ = TAG_NULL; }

/* floor((to - from) * 1e9 / freq) when it is in 0..INT64_MAX, as the Python reader computes it */
static int nanoseconds(uint64_t from, uint64_t to, uint64_t freq, int64_t *out)
{
    __int128 span = ((__int128)to - (__int128)from) * NS_PER_S;
    if (span < 0)
        return 0;
    __int128 ns = span / freq;
    if (ns > INT64_MAX)
        return 0;
    *out = (int64_t)ns;
    return 1;
}

/* A CALL and its RETURN, as their two rows need them. */
typedef struct {
    uint32_t thread, depth, msg, r_msg;
    uint16_t code;
    uint64_t driver_id, hdrvr, r_driver_id, r_hdrvr;
    int64_t l1, l2, result, ts, r_ts, duration;
} pair;

/* The pair at p, or 0 when the Python reader must take it. */
static int read_pair(const unsigned char *p, const session_facts *s, uint64_t seq, int64_t events, pair *out)
{
    const unsigned char *call = p + FRAME_BYTES, *ret = p + 2 * FRAME_BYTES + RECORD_BYTES;
    /* CALL: type, pid, thread, depth, seq, qpc, msg, n_payloads (u16), entry_point (u16), driver_id, hdrvr, l1, l2 */
    uint64_t call_seq = u64_at(call + 16), qpc = u64_at(call + 24);
    uint16_t n_payloads = u16_at(call + 36);
    /* RETURN: type, pid, thread, depth, seq, qpc, call_seq, msg, entry_point (u32), driver_id, hdrvr, result */
    uint64_t r_seq = u64_at(ret + 16), r_qpc = u64_at(ret + 24), r_call_seq = u64_at(ret + 32);
    out->thread = u32_at(call + 8);
    out->code = u16_at(call + 38);
    if (u32_at(p) != RECORD_BYTES || u32_at(p + FRAME_BYTES + RECORD_BYTES) != RECORD_BYTES
        || u32_at(call) != REC_CALL || u32_at(ret) != REC_RETURN || u32_at(call + 4) != s->pid
        || u32_at(ret + 4) != s->pid || u32_at(ret + 8) != out->thread || seq == UINT64_MAX
        || call_seq != seq + 1 || r_call_seq != call_seq || call_seq == UINT64_MAX || r_seq != call_seq + 1
        || n_payloads || out->code >= s->n_codes || events > INT64_MAX - 2)
        return 0;
    out->duration = 0; /* a negative one is stored as 0 */
    if (!nanoseconds(s->qpc_start, qpc, s->freq, &out->ts) || !nanoseconds(s->qpc_start, r_qpc, s->freq, &out->r_ts)
        || (r_qpc >= qpc && !nanoseconds(qpc, r_qpc, s->freq, &out->duration)))
        return 0;
    if (crc32(0, call, RECORD_BYTES) != u32_at(p + 4) || crc32(0, ret, RECORD_BYTES) != u32_at(ret - 4))
        return 0;
    out->depth = u32_at(call + 12);
    out->msg = u32_at(call + 32);
    out->driver_id = u64_at(call + 40);
    out->hdrvr = u64_at(call + 48);
    out->l1 = (int64_t)u64_at(call + 56);
    out->l2 = (int64_t)u64_at(call + 64);
    out->r_msg = u32_at(ret + 40);
    out->r_driver_id = u64_at(ret + 48);
    out->r_hdrvr = u64_at(ret + 56);
    out->result = (int64_t)u64_at(ret + 64);
    if (out->r_msg == DRV_OPEN && !u32_at(ret + 44) && s->narrow)
        out->result &= 0xFFFFFFFF; /* SessionEvents._open_result */
    return 1;
}

static void put_entry_point(row_out *out, uint16_t code)
{
    if (code)
        put_signed(out, code);
    else
        put_null(out); /* DriverProc */
}

/* The pair's CALL and RETURN rows, numbered after `events`: seq, kind, ts, thread, msg,
 * driver_id, hdrvr, l1, l2, result, call_seq, depth, duration, payload, entry_point
 * (drvtape.schema.rows.ROW_COLUMNS), as SessionEvents.add builds them. */
static void put_pair(row_out *out, const pair *pr, int64_t events)
{
    *out->at++ = PACKED_MAX_FIELDS;
    put_signed(out, events + 1);
    put_signed(out, KIND_CALL);
    put_signed(out, pr->ts);
    put_unsigned(out, pr->thread);
    put_signed(out, pr->msg);
    put_unsigned(out, pr->driver_id);
    put_unsigned(out, pr->hdrvr);
    put_signed(out, pr->l1);
    put_signed(out, pr->l2);
    put_null(out);
    put_null(out);
    put_signed(out, pr->depth);
    put_null(out);
    put_null(out);
    put_entry_point(out, pr->code);
    *out->at++ = PACKED_MAX_FIELDS;
    put_signed(out, events + 2);
    put_signed(out, KIND_RETURN);
    put_signed(out, pr->r_ts);
    put_unsigned(out, pr->thread);
    put_signed(out, pr->r_msg);
    put_unsigned(out, pr->r_driver_id);
    put_unsigned(out, pr->r_hdrvr);
    put_null(out);
    put_null(out);
    put_signed(out, pr->result);
    put_signed(out, events + 1);
    put_null(out);
    put_signed(out, pr->duration);
    put_null(out);
    put_entry_point(out, pr->code);
}

static int session_of(PyObject *tuple, session_facts *s)
{
    if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) != 5) {
        PyErr_SetString(PyExc_TypeError, "session: (pid, qpc_start, freq, narrow, entry points known)");
        return 0;
    }
    s->pid = (uint32_t)PyLong_AsUnsignedLong(PyTuple_GET_ITEM(tuple, 0));
    s->qpc_start = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(tuple, 1));
    s->freq = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(tuple, 2));
    s->narrow = PyObject_IsTrue(PyTuple_GET_ITEM(tuple, 3));
    s->n_codes = (int)PyLong_AsLong(PyTuple_GET_ITEM(tuple, 4));
    if (!PyErr_Occurred() && s->freq == 0)
        PyErr_SetString(PyExc_ValueError, "a zero QPC frequency");
    return !PyErr_Occurred();
}

PyObject *read_pairs(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "read_pairs(data, pos, stop, seq, events, session, max_pairs)");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]), stop = PyLong_AsSsize_t(args[2]);
    uint64_t seq = PyLong_AsUnsignedLongLong(args[3]);
    int64_t events = PyLong_AsLongLong(args[4]);
    Py_ssize_t max_pairs = PyLong_AsSsize_t(args[6]);
    session_facts s;
    if (PyErr_Occurred() || !session_of(args[5], &s))
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if (stop > view.len)
        stop = view.len;
    Py_ssize_t room = stop - pos >= PAIR_BYTES && max_pairs > 0 ? (stop - pos) / PAIR_BYTES : 0;
    if (room > max_pairs)
        room = max_pairs;
    unsigned char *rows = room ? PyMem_Malloc((size_t)room * 2 * ROW_BYTES_MAX) : NULL;
    if (room && !rows) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    row_out out = {rows};
    Py_ssize_t at = pos, taken = 0;
    pair read;
    int64_t last_ts = 0;
    uint32_t last_thread = 0;
    Py_BEGIN_ALLOW_THREADS
    const unsigned char *data = view.buf;
    while (taken < room && read_pair(data + at, &s, seq, events, &read)) {
        put_pair(&out, &read, events);
        last_ts = read.r_ts;
        last_thread = read.thread;
        seq += 2;
        events += 2;
        at += PAIR_BYTES;
        taken++;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    PyObject *packed = taken ? PyBytes_FromStringAndSize((const char *)rows, out.at - rows) : Py_NewRef(Py_None);
    PyMem_Free(rows);
    if (!packed)
        return NULL;
    return Py_BuildValue("nNLk", at, packed, (long long)last_ts, (unsigned long)last_thread);
}
