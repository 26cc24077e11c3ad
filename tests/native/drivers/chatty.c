/* A driver that writes to stdout (the host's protocol pipe, were it not redirected). */
#include "driverproc.h"
#include <stdio.h>

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr, (void)l1, (void)l2;
    DWORD n;
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), "chatty-handle\n", 14, &n, NULL);
    printf("chatty-printf\n");
    fflush(stdout);
    return msg;
}
