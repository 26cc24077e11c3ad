/* The template of a plain line as drvtape writes it (plain_lines.h). */
#include "plain_lines.h"

#define PART(text, column, range) {text, sizeof text - 1, column, range}
#define TEMPLATE(parts) {parts, (int)(sizeof parts / sizeof *parts)}

static const template_part HEAD_PARTS[] = {
    PART("{\"seq\":", 0, ORDINAL), PART(",\"ts_ns\":", 2, COUNT), PART(",\"thread\":", 3, UNSIGNED64),
};
static const template_part CALL_PARTS[] = {
    PART(",\"kind\":\"call\",\"msg\":", 4, UNSIGNED32), PART(",\"driver_id\":", 5, UNSIGNED64),
    PART(",\"hdrvr\":", 6, UNSIGNED64), PART(",\"lparam1\":", 7, SIGNED64), PART(",\"lparam2\":", 8, SIGNED64),
    PART(",\"depth\":", 11, COUNT), PART(",\"payload\":null}", NO_COLUMN, SIGNED64),
};
static const template_part RETURN_PARTS[] = {
    PART(",\"kind\":\"return\",\"call_seq\":", 10, ORDINAL), PART(",\"msg\":", 4, UNSIGNED32),
    PART(",\"driver_id\":", 5, UNSIGNED64), PART(",\"hdrvr\":", 6, UNSIGNED64), PART(",\"result\":", 9, SIGNED64),
    PART(",\"duration_ns\":", 12, COUNT), PART("}", NO_COLUMN, SIGNED64),
};

const template HEAD = TEMPLATE(HEAD_PARTS), CALL_TAIL = TEMPLATE(CALL_PARTS), RETURN_TAIL = TEMPLATE(RETURN_PARTS);
