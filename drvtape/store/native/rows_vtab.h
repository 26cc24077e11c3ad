/* drvtape_rows(packed, tip): an eponymous table-valued SQLite function yielding each packed
 * row's 15 fields and its chain link after `tip` (16 bytes). */
#ifndef DRVTAPE_ROWS_VTAB_H
#define DRVTAPE_ROWS_VTAB_H

#include <sqlite3.h>

/* An sqlite3_auto_extension entry point: registers drvtape_rows on a connection. */
int rows_vtab_register(sqlite3 *db, char **error, const sqlite3_api_routines *api);

#endif
