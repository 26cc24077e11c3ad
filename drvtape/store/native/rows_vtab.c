/* The drvtape_rows virtual table (rows_vtab.h). It runs inside sqlite3_step, which Python's
 * sqlite3 calls with the GIL released: nothing here touches Python. */
#include <stdlib.h>
#include <string.h>

#include "chain_link.h"
#include "packed_rows.h"
#include "rows_vtab.h"

enum { COL_CHAIN = PACKED_MAX_FIELDS, COL_PACKED, COL_TIP };

#define SCHEMA "CREATE TABLE x(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, chain, " \
               "packed HIDDEN, tip HIDDEN)"

typedef struct {
    sqlite3_vtab_cursor base;
    unsigned char *packed; /* this statement's copy of the packed rows */
    size_t size, next;     /* its length, and where the row after the current one starts */
    sqlite3_int64 rowid;
    int eof;
    packed_row row;
    unsigned char link[LINK_BYTES]; /* the current row's link */
    link_buffer text;
} rows_cursor;

static int rows_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                        char **error)
{
    (void)aux, (void)argc, (void)argv, (void)error;
    int rc = sqlite3_declare_vtab(db, SCHEMA);
    if (rc != SQLITE_OK)
        return rc;
    *out = sqlite3_malloc(sizeof(sqlite3_vtab));
    if (!*out)
        return SQLITE_NOMEM;
    memset(*out, 0, sizeof(sqlite3_vtab));
    return SQLITE_OK;
}

static int rows_disconnect(sqlite3_vtab *tab)
{
    sqlite3_free(tab);
    return SQLITE_OK;
}

/* Both arguments are required, as equality constraints on the hidden columns. */
static int rows_best_index(sqlite3_vtab *tab, sqlite3_index_info *info)
{
    int argument[2] = {-1, -1};
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->op != SQLITE_INDEX_CONSTRAINT_EQ || (c->iColumn != COL_PACKED && c->iColumn != COL_TIP))
            continue;
        if (!c->usable)
            return SQLITE_CONSTRAINT;
        argument[c->iColumn - COL_PACKED] = i;
    }
    if (argument[0] < 0 || argument[1] < 0) {
        sqlite3_free(tab->zErrMsg);
        tab->zErrMsg = sqlite3_mprintf("drvtape_rows takes two arguments: the packed rows and the tip");
        return SQLITE_ERROR;
    }
    for (int a = 0; a < 2; a++) {
        info->aConstraintUsage[argument[a]].argvIndex = a + 1;
        info->aConstraintUsage[argument[a]].omit = 1;
    }
    info->estimatedCost = 1;
    return SQLITE_OK;
}

static int rows_open(sqlite3_vtab *tab, sqlite3_vtab_cursor **out)
{
    (void)tab;
    rows_cursor *cursor = sqlite3_malloc(sizeof(rows_cursor));
    if (!cursor)
        return SQLITE_NOMEM;
    memset(cursor, 0, sizeof(*cursor));
    cursor->eof = 1;
    *out = &cursor->base;
    return SQLITE_OK;
}

static int rows_close(sqlite3_vtab_cursor *base)
{
    rows_cursor *cursor = (rows_cursor *)base;
    sqlite3_free(cursor->packed);
    link_buffer_free(&cursor->text);
    sqlite3_free(cursor);
    return SQLITE_OK;
}

static int fail(rows_cursor *cursor, int rc, const char *message)
{
    sqlite3_free(cursor->base.pVtab->zErrMsg);
    cursor->base.pVtab->zErrMsg = sqlite3_mprintf("%s", message);
    return rc;
}

static int rows_next(sqlite3_vtab_cursor *base)
{
    rows_cursor *cursor = (rows_cursor *)base;
    if (cursor->next == cursor->size) {
        cursor->eof = 1;
        return SQLITE_OK;
    }
    if (!packed_read_row(cursor->packed, cursor->size, &cursor->next, &cursor->row))
        return fail(cursor, SQLITE_ERROR, "drvtape_rows: the packed rows are not whole rows");
    if (!chain_next_link(&cursor->text, cursor->link, &cursor->row))
        return SQLITE_NOMEM;
    cursor->rowid++;
    return SQLITE_OK;
}

static int rows_filter(sqlite3_vtab_cursor *base, int plan, const char *plan_text, int argc, sqlite3_value **argv)
{
    (void)plan, (void)plan_text, (void)argc;
    rows_cursor *cursor = (rows_cursor *)base;
    /* each value's blob first, then its length: the order sqlite3_value_bytes asks for */
    const void *tip = sqlite3_value_type(argv[1]) == SQLITE_BLOB ? sqlite3_value_blob(argv[1]) : NULL;
    if (!tip || sqlite3_value_bytes(argv[1]) != LINK_BYTES)
        return fail(cursor, SQLITE_ERROR, "drvtape_rows: the tip is not a 16-byte link");
    memcpy(cursor->link, tip, LINK_BYTES);
    const void *packed = sqlite3_value_blob(argv[0]);
    sqlite3_free(cursor->packed);
    cursor->size = packed ? (size_t)sqlite3_value_bytes(argv[0]) : 0;
    cursor->packed = sqlite3_malloc64(cursor->size ? cursor->size : 1);
    if (!cursor->packed)
        return SQLITE_NOMEM;
    if (cursor->size)
        memcpy(cursor->packed, packed, cursor->size);
    cursor->next = 0;
    cursor->rowid = 0;
    cursor->eof = 0;
    return rows_next(base);
}

static int rows_eof(sqlite3_vtab_cursor *base)
{
    return ((rows_cursor *)base)->eof;
}

static int rows_column(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int column)
{
    rows_cursor *cursor = (rows_cursor *)base;
    if (column == COL_CHAIN) {
        sqlite3_result_blob(ctx, cursor->link, LINK_BYTES, SQLITE_TRANSIENT);
        return SQLITE_OK;
    }
    if (column >= cursor->row.count) /* the hidden arguments, or a row without entry_point */
        return SQLITE_OK;            /* NULL */
    const packed_field *field = &cursor->row.fields[column];
    switch (field->tag) {
    case TAG_INT:
        sqlite3_result_int64(ctx, field->num.i);
        break;
    case TAG_UINT:
        sqlite3_result_int64(ctx, (sqlite3_int64)field->num.u);
        break;
    case TAG_TEXT: /* the cursor's copy outlives the row */
        sqlite3_result_text64(ctx, field->text, field->text_len, SQLITE_STATIC, SQLITE_UTF8);
        break;
    default:
        break;
    }
    return SQLITE_OK;
}

static int rows_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid)
{
    *rowid = ((rows_cursor *)base)->rowid;
    return SQLITE_OK;
}

static sqlite3_module rows_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only: no CREATE VIRTUAL TABLE */
    .xConnect = rows_connect,
    .xBestIndex = rows_best_index,
    .xDisconnect = rows_disconnect,
    .xOpen = rows_open,
    .xClose = rows_close,
    .xFilter = rows_filter,
    .xNext = rows_next,
    .xEof = rows_eof,
    .xColumn = rows_column,
    .xRowid = rows_rowid,
};

int rows_vtab_register(sqlite3 *db, char **error, const sqlite3_api_routines *api)
{
    (void)error, (void)api; /* linked against the libsqlite3 Python's sqlite3 uses: no api table */
    return sqlite3_create_module(db, "drvtape_rows", &rows_module, NULL);
}
