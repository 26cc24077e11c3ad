/* A winmm client for the drvtap tests: drives a driver through OpenDriver /
   SendDriverMessage / CloseDriver, as an application does, and prints what it got.
     tapclient DRIVER L2A L2B   open twice (lParam2 = L2A, then L2B, hex), DRV_USER+1 (5, 6)
                                and DRV_EXITSESSION to the first, close the first, then the second
     tapclient DRIVER crash     open (lParam2 0), DRV_EXITSESSION, close: for a driver that
                                faults in DRV_CLOSE after DRV_EXITSESSION (the process dies)
     tapclient DRIVER send MSG  open (lParam2 0), send MSG (hex) with lParams 0, close
     tapclient DRIVER threads N M   open (lParam2 0); N threads each send M x DRV_USER+1
                                (lParam1 = thread index, lParam2 = i) to it at once; close
                                (env TAPCLIENT_GATE=PATH: print "ready" and wait for PATH first)
     tapclient DRIVER bench N   call the DLL's DriverProc directly N times (DRV_USER+1) after
                                DRV_LOAD/ENABLE/OPEN; print the mean ns per call
     tapclient DRIVER sendbench N   open (lParam2 0), send DRV_USER+1 N times through winmm's
                                SendDriverMessage, close; print the mean ns per message
     tapclient DRIVER child ARGS  run tapclient DRIVER ARGS as a child process (CreateProcessW), wait
                                for it, exit with its exit code (env TAPCLIENT_CHILD=EXE: run EXE
                                DRIVER ARGS instead)
     tapclient DRIVER shellchild ARGS  the same through shell32's ShellExecuteExW
     tapclient DRIVER vfw       msvfw32: load DRIVER, ICInstall its DriverProc as the function
                                driver vidc.mrle (ahead of the registry's), ICOpen it for decompression (msvfw32 passes an
                                ICOPEN*), ICM_CONFIGURE query, ICClose
     tapclient DRIVER exitspin  a second thread opens (lParam2 0; exit_spin's open takes 1 s) and
                                opens again; while that second open runs, this thread sends
                                DRV_EXITSESSION to the first instance (for exit_spin: it never
                                returns, the process hangs)
     tapclient DRIVER disable   open (lParam2 0), send DRV_DISABLE, close (for disable_with_open:
                                the driver faults in DRV_CLOSE, the process dies)
     tapclient DRIVER affinity  open (lParam2 0) on this thread, close on another thread
     tapclient DRIVER exitopen  open twice (lParam2 0), DRV_USER+1 (5, 6) to the first, then exit
                                with both open (the system closes them)
     tapclient DRIVER acmexit   msacm32: add DRIVER's DriverProc as an ACM function driver, open
                                it twice, exit with both open (msacm32 closes them at exit)
     tapclient DRIVER stream    open (lParam2 0), then DRV_USER+1 (lParam1 0, lParam2 = i) for
                                i = 0, 1, ... until killed, in bursts of 32 with Sleep(1) between
   winmm and shell32 are loaded at run time, so the build needs no import library. */
#define WIN32_LEAN_AND_MEAN
#ifndef _UNICODE
#define _UNICODE /* -municode defines UNICODE; msacm.h (via vfw.h) wants both */
#endif
#include <windows.h>
#include <shellapi.h>
#include <mmsystem.h>
#include <vfw.h>
#include <msacm.h>
#include <stdint.h>
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

static send_fn send_message;
static HDRVR shared;
static LONG per_thread;

static DWORD WINAPI sender(void *arg)
{
    LPARAM index = (LPARAM)(uintptr_t)arg;
    for (LONG i = 0; i < per_thread; i++)
        if (send_message(shared, DRV_USER + 1, index, i) == 0)
            return 1;
    return 0;
}

/* With env TAPCLIENT_GATE=PATH: say "ready", then wait until PATH exists (so two
   processes can be made to send at the same time). */
static void wait_for_gate(void)
{
    wchar_t gate[MAX_PATH];
    DWORD n = GetEnvironmentVariableW(L"TAPCLIENT_GATE", gate, MAX_PATH);
    if (n == 0 || n >= MAX_PATH)
        return;
    printf("ready\n");
    while (GetFileAttributesW(gate) == INVALID_FILE_ATTRIBUTES)
        Sleep(1);
}

static int threads(open_fn open, send_fn send, close_fn close, const wchar_t *driver, int n, LONG m)
{
    HANDLE h[64];
    if (n < 1 || n > 64)
        return 2;
    send_message = send;
    per_thread = m;
    shared = open(driver, NULL, 0);
    if (!shared)
        return 1;
    wait_for_gate();
    for (int i = 0; i < n; i++)
        h[i] = CreateThread(NULL, 0, sender, (void *)(uintptr_t)i, 0, NULL);
    WaitForMultipleObjects((DWORD)n, h, TRUE, INFINITE);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        DWORD code = 1;
        GetExitCodeThread(h[i], &code);
        failed |= code != 0;
    }
    printf("threads %d x %ld: %s\n", n, (long)m, failed ? "some calls returned 0" : "ok");
    printf("close %lld\n", (long long)close(shared, 0, 0));
    return failed;
}

static open_fn second_open;
static const wchar_t *second_driver;

static HDRVR first;
static HANDLE opened;

/* exitspin: both opens on this thread (so a replay, which keeps each thread's order, has
   the second open in flight when the other thread's DRV_EXITSESSION starts) */
static DWORD WINAPI opener(void *arg)
{
    (void)arg;
    first = second_open(second_driver, NULL, 0);
    printf("open %p\n", (void *)first);
    SetEvent(opened);
    if (!first)
        return 1;
    HDRVR h = second_open(second_driver, NULL, 0);
    printf("open2 %p\n", (void *)h);
    return 0;
}

static close_fn other_close;

static DWORD WINAPI closer(void *arg)
{
    printf("close %lld\n", (long long)other_close((HDRVR)arg, 0, 0));
    return 0;
}

typedef LRESULT(WINAPI *driverproc_fn)(DWORD_PTR, HDRVR, UINT, LPARAM, LPARAM);

static int bench(const wchar_t *driver, long n)
{
    HMODULE dll = LoadLibraryW(driver);
    driverproc_fn proc = dll ? (driverproc_fn)(void *)GetProcAddress(dll, "DriverProc") : NULL;
    if (!proc || n < 1)
        return 3;
    HDRVR h = (HDRVR)(uintptr_t)0x7E10;
    proc(0, h, DRV_LOAD, 0, 0);
    proc(0, h, DRV_ENABLE, 0, 0);
    DWORD_PTR id = (DWORD_PTR)proc(0, h, DRV_OPEN, 0, 0);
    LARGE_INTEGER f, t0, t1;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&t0);
    for (long i = 0; i < n; i++)
        proc(id, h, DRV_USER + 1, i, 0);
    QueryPerformanceCounter(&t1);
    printf("bench %ld calls %.1f ns/call\n", n, (double)(t1.QuadPart - t0.QuadPart) * 1e9 / (double)f.QuadPart / (double)n);
    return 0;
}

static int send_bench(open_fn open, send_fn send, close_fn close, const wchar_t *driver, long n)
{
    HDRVR h = open(driver, NULL, 0);
    if (!h || n < 1)
        return 3;
    LARGE_INTEGER f, t0, t1;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&t0);
    for (long i = 0; i < n; i++)
        send(h, DRV_USER + 1, i, 0);
    QueryPerformanceCounter(&t1);
    close(h, 0, 0);
    printf("sendbench %ld calls %.1f ns/call\n", n, (double)(t1.QuadPart - t0.QuadPart) * 1e9 / (double)f.QuadPart / (double)n);
    return 0;
}

/* argv[1] and argv[3..] appended to cmd (at n), each quoted whole: the tests pass none with
   quotes or trailing backslashes. */
static void child_args(wchar_t *cmd, int n, int argc, wchar_t **argv)
{
    n += swprintf(cmd + n, 32768 - n, L"\"%ls\"", argv[1]);
    for (int i = 3; i < argc && n > 0; i++)
        n += swprintf(cmd + n, 32768 - n, L" \"%ls\"", argv[i]);
}

static int child_exit(HANDLE process)
{
    WaitForSingleObject(process, INFINITE);
    DWORD code = 3;
    GetExitCodeProcess(process, &code);
    printf("child exited %lu\n", code);
    return (int)code;
}

/* Run this program (or the one env TAPCLIENT_CHILD names, e.g. its other architecture's
   build) with argv[1] and argv[3..] as a child (CreateProcessW); its exit code. */
static int child(int argc, wchar_t **argv)
{
    static wchar_t cmd[32768];
    wchar_t program[MAX_PATH];
    if (!GetEnvironmentVariableW(L"TAPCLIENT_CHILD", program, MAX_PATH))
        GetModuleFileNameW(NULL, program, MAX_PATH);
    child_args(cmd, swprintf(cmd, 32768, L"\"%ls\" ", program), argc, argv);
    STARTUPINFOW si = {.cb = sizeof si};
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi))
        return 3;
    return child_exit(pi.hProcess);
}

typedef BOOL(WINAPI *shell_execute_fn)(SHELLEXECUTEINFOW *);

/* The same through shell32's ShellExecuteExW (loaded at run time). */
static int shell_child(int argc, wchar_t **argv)
{
    static wchar_t params[32768];
    wchar_t self[MAX_PATH];
    GetModuleFileNameW(NULL, self, MAX_PATH);
    child_args(params, 0, argc, argv);
    HMODULE shell32 = LoadLibraryW(L"shell32.dll");
    shell_execute_fn execute = shell32 ? (shell_execute_fn)(void *)GetProcAddress(shell32, "ShellExecuteExW") : NULL;
    SHELLEXECUTEINFOW info = {.cbSize = sizeof info, .fMask = SEE_MASK_NOCLOSEPROCESS | SEE_MASK_NOASYNC,
                              .lpFile = self, .lpParameters = params, .nShow = SW_HIDE};
    if (!execute || !execute(&info) || !info.hProcess)
        return 3;
    return child_exit(info.hProcess);
}

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

typedef MMRESULT(ACMAPI *acmadd_fn)(LPHACMDRIVERID, HINSTANCE, LPARAM, DWORD, DWORD);
typedef MMRESULT(ACMAPI *acmopen_fn)(LPHACMDRIVER, HACMDRIVERID, DWORD);

/* msacm32 is loaded before the driver, so (the loader detaching in reverse order) the
   driver's DllMain sees the process exit before msacm32 closes the two instances. */
static int acm_exit(const wchar_t *driver)
{
    HMODULE msacm = LoadLibraryW(L"msacm32.dll"), dll = LoadLibraryW(driver);
    acmadd_fn add = msacm ? (acmadd_fn)(void *)GetProcAddress(msacm, "acmDriverAddW") : NULL;
    acmopen_fn acmopen = msacm ? (acmopen_fn)(void *)GetProcAddress(msacm, "acmDriverOpen") : NULL;
    FARPROC proc = dll ? GetProcAddress(dll, "DriverProc") : NULL;
    if (!add || !acmopen || !proc)
        return 3;
    HACMDRIVERID id;
    HACMDRIVER h1 = NULL, h2 = NULL;
    printf("add %u\n", add(&id, dll, (LPARAM)proc, 0, ACM_DRIVERADDF_FUNCTION));
    printf("open %u %u\n", acmopen(&h1, id, 0), acmopen(&h2, id, 0));
    return h1 && h2 ? 0 : 1;
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
    if (wcscmp(argv[2], L"child") == 0 && argc >= 4)
        return child(argc, argv);
    if (wcscmp(argv[2], L"shellchild") == 0 && argc >= 4)
        return shell_child(argc, argv);
    if (wcscmp(argv[2], L"acmexit") == 0)
        return acm_exit(argv[1]);
    if (wcscmp(argv[2], L"bench") == 0 && argc >= 4)
        return bench(argv[1], wcstol(argv[3], NULL, 10));
    HMODULE winmm = LoadLibraryW(L"winmm.dll");
    open_fn open = winmm ? (open_fn)(void *)GetProcAddress(winmm, "OpenDriver") : NULL;
    send_fn send = winmm ? (send_fn)(void *)GetProcAddress(winmm, "SendDriverMessage") : NULL;
    close_fn close = winmm ? (close_fn)(void *)GetProcAddress(winmm, "CloseDriver") : NULL;
    if (!open || !send || !close) {
        fprintf(stderr, "tapclient: winmm's driver functions are missing\n");
        return 3;
    }
    if (wcscmp(argv[2], L"threads") == 0 && argc >= 5)
        return threads(open, send, close, argv[1], (int)wcstol(argv[3], NULL, 10), wcstol(argv[4], NULL, 10));
    if (wcscmp(argv[2], L"sendbench") == 0 && argc >= 4)
        return send_bench(open, send, close, argv[1], wcstol(argv[3], NULL, 10));
    if (wcscmp(argv[2], L"send") == 0 && argc >= 4) {
        HDRVR h = open(argv[1], NULL, 0);
        printf("open %p\n", (void *)h);
        if (!h)
            return 1;
        printf("send %lld\n", (long long)send(h, (UINT)wcstoul(argv[3], NULL, 16), 0, 0));
        printf("close %lld\n", (long long)close(h, 0, 0));
        return 0;
    }
    if (wcscmp(argv[2], L"exitspin") == 0) {
        second_open = open;
        second_driver = argv[1];
        opened = CreateEventW(NULL, TRUE, FALSE, NULL);
        HANDLE t = CreateThread(NULL, 0, opener, NULL, 0, NULL);
        WaitForSingleObject(opened, INFINITE);
        if (!first)
            return 1;
        Sleep(200); /* the second open is inside DRV_OPEN, waiting for its device */
        printf("exitsession %lld\n", (long long)send(first, DRV_EXITSESSION, 0, 0)); /* spins forever */
        WaitForSingleObject(t, INFINITE);
        printf("close %lld\n", (long long)close(first, 0, 0));
        return 0;
    }
    if (wcscmp(argv[2], L"disable") == 0) {
        HDRVR h = open(argv[1], NULL, 0);
        printf("open %p\n", (void *)h);
        if (!h)
            return 1;
        printf("disable %lld\n", (long long)send(h, DRV_DISABLE, 0, 0));
        printf("close %lld\n", (long long)close(h, 0, 0)); /* the driver faults here */
        return 0;
    }
    if (wcscmp(argv[2], L"affinity") == 0) {
        HDRVR h = open(argv[1], NULL, 0);
        printf("open %p\n", (void *)h);
        if (!h)
            return 1;
        other_close = close;
        HANDLE t = CreateThread(NULL, 0, closer, (void *)h, 0, NULL);
        WaitForSingleObject(t, INFINITE);
        return 0;
    }
    if (wcscmp(argv[2], L"exitopen") == 0) {
        HDRVR h1 = open(argv[1], NULL, 0), h2 = open(argv[1], NULL, 0);
        printf("open %p %p\n", (void *)h1, (void *)h2);
        if (!h1 || !h2)
            return 1;
        printf("user1 %lld\n", (long long)send(h1, DRV_USER + 1, 5, 6));
        return 0;
    }
    if (wcscmp(argv[2], L"stream") == 0) {
        HDRVR h = open(argv[1], NULL, 0);
        printf("open %p\n", (void *)h);
        if (!h)
            return 1;
        for (LPARAM i = 0;; i++) {
            send(h, DRV_USER + 1, 0, i);
            if (i % 32 == 31)
                Sleep(1); /* bursts: a kill lands in one now and then, and the tape stays small */
        }
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
