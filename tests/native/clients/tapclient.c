/* A winmm client for the drvtap tests: drives a driver through OpenDriver /
   SendDriverMessage / CloseDriver, as an application does, and prints what it got.
     tapclient DRIVER L2A L2B   open twice (lParam2 = L2A, then L2B, hex), DRV_USER+1 (5, 6)
                                and DRV_EXITSESSION to the first, close the first, then the second
     tapclient DRIVER crash     open (lParam2 0), DRV_EXITSESSION, close: for a driver that
                                faults in DRV_CLOSE after DRV_EXITSESSION (the process dies)
     tapclient DRIVER vfw       msvfw32: load DRIVER, ICInstall its DriverProc as the function
                                driver vidc.mrle (ahead of the registry's), ICOpen it for decompression (msvfw32 passes an
                                ICOPEN*), ICM_CONFIGURE query, ICClose
   winmm is loaded at run time, so the build needs no import library. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <mmsystem.h>
#include <vfw.h> /* (its msacm.h warns about UNICODE under -municode: harmless) */
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

typedef HDRVR(WINAPI *open_fn)(LPCWSTR, LPCWSTR, LPARAM);
typedef LRESULT(WINAPI *send_fn)(HDRVR, UINT, LPARAM, LPARAM);
typedef LRESULT(WINAPI *close_fn)(HDRVR, LPARAM, LPARAM);
typedef BOOL(VFWAPI *icinstall_fn)(DWORD, DWORD, LPARAM, LPSTR, UINT);
typedef HIC(VFWAPI *icopen_fn)(DWORD, DWORD, UINT);
typedef LRESULT(VFWAPI *icsend_fn)(HIC, UINT, DWORD_PTR, DWORD_PTR);
typedef LRESULT(VFWAPI *icclose_fn)(HIC);

static int vfw(const wchar_t *driver)
{
    HMODULE dll = LoadLibraryW(driver), msvfw = LoadLibraryW(L"msvfw32.dll");
    FARPROC proc = dll ? GetProcAddress(dll, "DriverProc") : NULL;
    icinstall_fn install = msvfw ? (icinstall_fn)(void *)GetProcAddress(msvfw, "ICInstall") : NULL;
    icopen_fn icopen = msvfw ? (icopen_fn)(void *)GetProcAddress(msvfw, "ICOpen") : NULL;
    icsend_fn icsend = msvfw ? (icsend_fn)(void *)GetProcAddress(msvfw, "ICSendMessage") : NULL;
    icclose_fn icclose = msvfw ? (icclose_fn)(void *)GetProcAddress(msvfw, "ICClose") : NULL;
    if (!proc || !install || !icopen || !icsend || !icclose) {
        fprintf(stderr, "tapclient: cannot load the driver or msvfw32\n");
        return 3;
    }
    DWORD handler = mmioFOURCC('m', 'r', 'l', 'e');
    printf("install %d\n", install(ICTYPE_VIDEO, handler, (LPARAM)proc, NULL, ICINSTALL_FUNCTION));
    HIC hic = icopen(ICTYPE_VIDEO, handler, ICMODE_DECOMPRESS);
    printf("icopen %p\n", (void *)hic);
    if (!hic)
        return 1;
    printf("configure %lld\n", (long long)icsend(hic, ICM_CONFIGURE, (DWORD_PTR)-1, ICMF_CONFIGURE_QUERY));
    printf("icclose %lld\n", (long long)icclose(hic));
    return 0;
}

int wmain(int argc, wchar_t **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tapclient DRIVER (L2A L2B | crash)\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    if (wcscmp(argv[2], L"vfw") == 0)
        return vfw(argv[1]);
    HMODULE winmm = LoadLibraryW(L"winmm.dll");
    open_fn open = winmm ? (open_fn)(void *)GetProcAddress(winmm, "OpenDriver") : NULL;
    send_fn send = winmm ? (send_fn)(void *)GetProcAddress(winmm, "SendDriverMessage") : NULL;
    close_fn close = winmm ? (close_fn)(void *)GetProcAddress(winmm, "CloseDriver") : NULL;
    if (!open || !send || !close) {
        fprintf(stderr, "tapclient: winmm's driver functions are missing\n");
        return 3;
    }
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
