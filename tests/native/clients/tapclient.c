/* A winmm client for the drvtap tests: drives a driver through OpenDriver /
   SendDriverMessage / CloseDriver, as an application does, and prints what it got.
     tapclient DRIVER L2A L2B   open twice (lParam2 = L2A, then L2B, hex), DRV_USER+1 (5, 6)
                                and DRV_EXITSESSION to the first, close the first, then the second
     tapclient DRIVER crash     open (lParam2 0), DRV_EXITSESSION, close: for a driver that
                                faults in DRV_CLOSE after DRV_EXITSESSION (the process dies)
   winmm is loaded at run time, so the build needs no import library. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <mmsystem.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

typedef HDRVR(WINAPI *open_fn)(LPCWSTR, LPCWSTR, LPARAM);
typedef LRESULT(WINAPI *send_fn)(HDRVR, UINT, LPARAM, LPARAM);
typedef LRESULT(WINAPI *close_fn)(HDRVR, LPARAM, LPARAM);

int wmain(int argc, wchar_t **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tapclient DRIVER (L2A L2B | crash)\n");
        return 2;
    }
    HMODULE winmm = LoadLibraryW(L"winmm.dll");
    open_fn open = winmm ? (open_fn)(void *)GetProcAddress(winmm, "OpenDriver") : NULL;
    send_fn send = winmm ? (send_fn)(void *)GetProcAddress(winmm, "SendDriverMessage") : NULL;
    close_fn close = winmm ? (close_fn)(void *)GetProcAddress(winmm, "CloseDriver") : NULL;
    if (!open || !send || !close) {
        fprintf(stderr, "tapclient: winmm's driver functions are missing\n");
        return 3;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    if (wcscmp(argv[2], L"crash") == 0) {
        HDRVR h = open(argv[1], NULL, 0);
        printf("open %p\n", (void *)h);
        if (!h)
            return 1;
        printf("exitsession %lld\n", (long long)send(h, DRV_EXITSESSION, 0, 0));
        printf("close %lld\n", (long long)close(h, 0, 0)); /* the driver faults here */
        return 0;
    }
    if (argc < 4)
        return 2;
    LPARAM l2a = (LPARAM)wcstoull(argv[2], NULL, 16), l2b = (LPARAM)wcstoull(argv[3], NULL, 16);
    HDRVR h1 = open(argv[1], NULL, l2a);
    HDRVR h2 = open(argv[1], NULL, l2b);
    printf("open %p %p\n", (void *)h1, (void *)h2);
    if (!h1 || !h2)
        return 1;
    printf("user1 %lld\n", (long long)send(h1, DRV_USER + 1, 5, 6));
    printf("exitsession %lld\n", (long long)send(h1, DRV_EXITSESSION, 0, 0));
    printf("close1 %lld\n", (long long)close(h1, 0, 0));
    printf("close2 %lld\n", (long long)close(h2, 0, 0));
    return 0;
}
