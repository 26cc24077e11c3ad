/* Concurrent clients for the tap's "same answers" tests: threads opening, using and
   closing a driver at once, so that the driver is loaded and unloaded under them.
     roundsclient open DRIVER T R
         T threads x R rounds of OpenDriver(DRIVER, NULL, 0), DRV_QUERYCONFIGURE, CloseDriver;
         prints "open T x R: failures F results A,B,..." (the distinct DRV_QUERYCONFIGURE answers)
     roundsclient decompress FOURCC FRAMES T R
         T threads x R rounds of ICOpen(vidc, FOURCC, ICMODE_DECOMPRESS), ICDecompressBegin, ICDecompress
         of every frame in FRAMES, ICDecompressEnd, ICClose; prints "decompress T x R: failures F
         mismatches M checksum C" (C: FNV-1a of the first round's output; M: rounds whose output differs)
   FRAMES: the input BITMAPINFOHEADER (40 bytes), u32 n, then n x (u32 size, size bytes).
   The decoding itself (ICDecompressBegin .. ICDecompressEnd) is serialized by a lock, while
   ICOpen and ICClose (where the driver is loaded and unloaded) run at once: observed under
   Wine 8.0, iccvid.dll decoding on 4 threads at once crashes or decodes wrong frames, with
   or without the tap.
   winmm and msvfw32 are loaded at run time, so the build needs no import library. */
#define WIN32_LEAN_AND_MEAN
#ifndef _UNICODE
#define _UNICODE
#endif
#include <windows.h>
#include <mmsystem.h>
#include <vfw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#define MAX_THREADS 16
#define MAX_FRAMES 64

typedef HDRVR(WINAPI *open_fn)(LPCWSTR, LPCWSTR, LPARAM);
typedef LRESULT(WINAPI *send_fn)(HDRVR, UINT, LPARAM, LPARAM);
typedef LRESULT(WINAPI *close_fn)(HDRVR, LPARAM, LPARAM);
typedef HIC(VFWAPI *icopen_fn)(DWORD, DWORD, UINT);
typedef LRESULT(VFWAPI *icsend_fn)(HIC, UINT, DWORD_PTR, DWORD_PTR);
typedef LRESULT(VFWAPI *icclose_fn)(HIC);
typedef DWORD(VFWAPIV *icdecompress_fn)(HIC, DWORD, LPBITMAPINFOHEADER, LPVOID, LPBITMAPINFOHEADER, LPVOID);

static open_fn open_driver;
static send_fn send_driver;
static close_fn close_driver;
static icopen_fn ic_open;
static icsend_fn ic_send;
static icclose_fn ic_close;
static icdecompress_fn ic_decompress;

static const wchar_t *driver;
static DWORD fourcc;
static LONG rounds;
static volatile LONG failures, mismatches;
static LRESULT answers[MAX_THREADS];
static volatile LONG other_answers;

static BITMAPINFOHEADER in_format;
static uint8_t *frames[MAX_FRAMES];
static DWORD frame_sizes[MAX_FRAMES];
static DWORD n_frames;
static uint32_t checksums[MAX_THREADS];
static CRITICAL_SECTION decode_lock;

static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t n)
{
    while (n--)
        h = (h ^ *p++) * 16777619u;
    return h;
}

static DWORD WINAPI open_rounds(void *arg)
{
    int t = (int)(uintptr_t)arg;
    for (LONG r = 0; r < rounds; r++) {
        HDRVR h = open_driver(driver, NULL, 0);
        if (!h) {
            InterlockedIncrement(&failures);
            continue;
        }
        LRESULT a = send_driver(h, DRV_QUERYCONFIGURE, 0, 0);
        if (r == 0)
            answers[t] = a;
        else if (a != answers[t])
            InterlockedIncrement(&other_answers);
        close_driver(h, 0, 0);
    }
    return 0;
}

/* One round: decode every frame; the FNV-1a of the output, or 0 on failure. */
static uint32_t decode_all(void)
{
    HIC hic = ic_open(ICTYPE_VIDEO, fourcc, ICMODE_DECOMPRESS);
    if (!hic)
        return 0;
    struct {
        BITMAPINFOHEADER h;
        RGBQUAD colors[256];
    } out = {0};
    BITMAPINFOHEADER in = in_format;
    uint32_t sum = 0;
    EnterCriticalSection(&decode_lock);
    if (ic_send(hic, ICM_DECOMPRESS_GET_FORMAT, (DWORD_PTR)&in, (DWORD_PTR)&out) == ICERR_OK &&
        ic_send(hic, ICM_DECOMPRESS_BEGIN, (DWORD_PTR)&in, (DWORD_PTR)&out) == ICERR_OK) {
        DWORD size = (DWORD)(((out.h.biWidth * out.h.biBitCount + 31) / 32) * 4 * labs(out.h.biHeight));
        uint8_t *bits = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, size);
        sum = 2166136261u;
        for (DWORD i = 0; bits && i < n_frames && sum; i++) {
            in.biSizeImage = frame_sizes[i];
            if (ic_decompress(hic, 0, &in, frames[i], &out.h, bits) != ICERR_OK)
                sum = 0;
            else
                sum = fnv1a(sum, bits, size);
        }
        ic_send(hic, ICM_DECOMPRESS_END, 0, 0);
        if (bits)
            HeapFree(GetProcessHeap(), 0, bits);
    }
    LeaveCriticalSection(&decode_lock);
    ic_close(hic);
    return sum;
}

static DWORD WINAPI decompress_rounds(void *arg)
{
    int t = (int)(uintptr_t)arg;
    for (LONG r = 0; r < rounds; r++) {
        uint32_t sum = decode_all();
        if (!sum)
            InterlockedIncrement(&failures);
        else if (!checksums[t])
            checksums[t] = sum;
        else if (sum != checksums[t])
            InterlockedIncrement(&mismatches);
    }
    return 0;
}

static int run_threads(LPTHREAD_START_ROUTINE body, int n)
{
    HANDLE h[MAX_THREADS];
    for (int i = 0; i < n; i++)
        if (!(h[i] = CreateThread(NULL, 0, body, (void *)(uintptr_t)i, 0, NULL)))
            return 3;
    WaitForMultipleObjects((DWORD)n, h, TRUE, INFINITE);
    return 0;
}

static BOOL read_frames(const wchar_t *path)
{
    FILE *f = _wfopen(path, L"rb");
    if (!f)
        return FALSE;
    BOOL ok = fread(&in_format, sizeof in_format, 1, f) == 1 && fread(&n_frames, 4, 1, f) == 1 && n_frames <= MAX_FRAMES;
    for (DWORD i = 0; ok && i < n_frames; i++) {
        ok = fread(&frame_sizes[i], 4, 1, f) == 1 && (frames[i] = malloc(frame_sizes[i] ? frame_sizes[i] : 1)) &&
             fread(frames[i], 1, frame_sizes[i], f) == frame_sizes[i];
    }
    fclose(f);
    return ok;
}

static int open_mode(int n)
{
    HMODULE winmm = LoadLibraryW(L"winmm.dll");
    open_driver = winmm ? (open_fn)(void *)GetProcAddress(winmm, "OpenDriver") : NULL;
    send_driver = winmm ? (send_fn)(void *)GetProcAddress(winmm, "SendDriverMessage") : NULL;
    close_driver = winmm ? (close_fn)(void *)GetProcAddress(winmm, "CloseDriver") : NULL;
    if (!open_driver || !send_driver || !close_driver || run_threads(open_rounds, n))
        return 3;
    printf("open %d x %ld: failures %ld results", n, (long)rounds, (long)failures);
    for (int i = 0; i < n; i++)
        printf("%s%lld", i ? "," : " ", (long long)answers[i]);
    printf(" other %ld\n", (long)other_answers);
    return 0;
}

static int decompress_mode(int n)
{
    HMODULE msvfw = LoadLibraryW(L"msvfw32.dll");
    ic_open = msvfw ? (icopen_fn)(void *)GetProcAddress(msvfw, "ICOpen") : NULL;
    ic_send = msvfw ? (icsend_fn)(void *)GetProcAddress(msvfw, "ICSendMessage") : NULL;
    ic_close = msvfw ? (icclose_fn)(void *)GetProcAddress(msvfw, "ICClose") : NULL;
    ic_decompress = msvfw ? (icdecompress_fn)(void *)GetProcAddress(msvfw, "ICDecompress") : NULL;
    InitializeCriticalSection(&decode_lock);
    if (!ic_open || !ic_send || !ic_close || !ic_decompress || run_threads(decompress_rounds, n))
        return 3;
    uint32_t first = 0;
    for (int i = 0; i < n && !first; i++)
        first = checksums[i];
    for (int i = 0; i < n; i++)
        if (checksums[i] && checksums[i] != first)
            mismatches++;
    printf("decompress %d x %ld: failures %ld mismatches %ld checksum %08x\n", n, (long)rounds, (long)failures,
           (long)mismatches, first);
    return 0;
}

int wmain(int argc, wchar_t **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 5 && wcscmp(argv[1], L"open") == 0) {
        driver = argv[2];
        rounds = wcstol(argv[4], NULL, 10);
        int n = (int)wcstol(argv[3], NULL, 10);
        return n < 1 || n > MAX_THREADS ? 2 : open_mode(n);
    }
    if (argc == 6 && wcscmp(argv[1], L"decompress") == 0 && wcslen(argv[2]) == 4) {
        fourcc = mmioFOURCC(argv[2][0], argv[2][1], argv[2][2], argv[2][3]);
        rounds = wcstol(argv[5], NULL, 10);
        int n = (int)wcstol(argv[4], NULL, 10);
        if (!read_frames(argv[3])) {
            fprintf(stderr, "roundsclient: cannot read the frames file\n");
            return 2;
        }
        return n < 1 || n > MAX_THREADS ? 2 : decompress_mode(n);
    }
    fprintf(stderr, "usage: roundsclient open DRIVER T R | decompress FOURCC FRAMES T R\n");
    return 2;
}
