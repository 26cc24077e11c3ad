/* codec_client: bad pointers to a codec that reads none, and the in-process bench. */
#include "codec_client.h"

#define ACMDM_STREAM_CONVERT (ACMDM_BASE + 79) /* Wine's msacmdrv.h */
#define BENCH_W 320
#define BENCH_H 240

int bad_pointers(const wchar_t *driver)
{
    ICOPEN open = {.dwSize = sizeof open, .fccType = ICTYPE_VIDEO, .fccHandler = mmioFOURCC('s', 't', 'u', 'b'),
                   .dwFlags = ICMODE_DECOMPRESS};
    HDRVR h = OpenDriver(driver, NULL, (LPARAM)&open);
    if (!h)
        return failed("OpenDriver", 0);
    uint8_t *no_access = VirtualAlloc(NULL, 4096, MEM_COMMIT | MEM_RESERVE, PAGE_NOACCESS);
    static uint8_t output[64];
    BITMAPINFOHEADER huge = {sizeof huge, 320, 240, 1, 24, BI_RGB, 0x7FFFFFFFu, 0, 0, 0, 0};
    ICDECOMPRESS icd = {0, (BITMAPINFOHEADER *)no_access, no_access + 64, &huge, output, 0};
    printf("decompress %lld\n", (long long)SendDriverMessage(h, ICM_DECOMPRESS, (LPARAM)&icd, sizeof icd));
    printf("query %lld\n", (long long)SendDriverMessage(h, ICM_DECOMPRESS_QUERY, (LPARAM)no_access, 0));
    printf("close %lld\n", (long long)CloseDriver(h, 0, 0));
    return 0;
}

typedef LRESULT(WINAPI *driverproc_fn)(DWORD_PTR, HDRVR, UINT, LPARAM, LPARAM);

static double ns_per_call(driverproc_fn proc, DWORD_PTR id, UINT msg, LPARAM l1, LPARAM l2, long n)
{
    LARGE_INTEGER f, t0, t1;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&t0);
    for (long i = 0; i < n; i++)
        proc(id, (HDRVR)(uintptr_t)0x7E10, msg, l1, l2);
    QueryPerformanceCounter(&t1);
    return (double)(t1.QuadPart - t0.QuadPart) * 1e9 / (double)f.QuadPart / (double)n;
}

int bench(const wchar_t *dll, long n, long decompresses, long converts)
{
    HMODULE module = LoadLibraryW(dll);
    driverproc_fn proc = module ? (driverproc_fn)(void *)GetProcAddress(module, "DriverProc") : NULL;
    if (!proc || n < 1 || decompresses < 1 || converts < 1)
        return 2;
    HDRVR h = (HDRVR)(uintptr_t)0x7E10;
    ICOPEN vopen = {.dwSize = sizeof vopen, .fccType = ICTYPE_VIDEO, .fccHandler = mmioFOURCC('s', 't', 'u', 'b'),
                    .dwFlags = ICMODE_DECOMPRESS};
    struct { /* ACMDRVOPENDESCW of Wine's msacmdrv.h (48 bytes on x64): its first fields */
        DWORD cbStruct, fccType, fccComp, dwVersion, dwFlags, dwError;
        LPCWSTR pszSectionName, pszAliasName;
        DWORD dnDevNode;
    } aopen = {.cbStruct = sizeof aopen, .fccType = ACMDRIVERDETAILS_FCCTYPE_AUDIOCODEC};
    proc(0, h, DRV_LOAD, 0, 0);
    proc(0, h, DRV_ENABLE, 0, 0);
    DWORD_PTR video = (DWORD_PTR)proc(0, h, DRV_OPEN, 0, (LPARAM)&vopen);
    DWORD_PTR audio = (DWORD_PTR)proc(0, h, DRV_OPEN, 0, (LPARAM)&aopen);
    static uint8_t frame_in[9853], frame_out[BENCH_W * BENCH_H * 3], src[ACM_SOURCE_BYTES], dst[4 * ACM_SOURCE_BYTES];
    BITMAPINFOHEADER packed = {sizeof packed, BENCH_W, BENCH_H, 1, 24, mmioFOURCC('c', 'v', 'i', 'd'),
                               sizeof frame_in, 0, 0, 0, 0};
    BITMAPINFOHEADER rgb = {sizeof rgb, BENCH_W, BENCH_H, 1, 24, BI_RGB, sizeof frame_out, 0, 0, 0, 0};
    ICDECOMPRESS icd = {0, &packed, frame_in, &rgb, frame_out, 0};
    WAVEFORMATEX adpcm = {WAVE_FORMAT_ADPCM, 1, 8000, 4096, 256, 4, 0}, pcm = {WAVE_FORMAT_PCM, 1, 8000, 16000, 2, 16, 0};
    ACMDRVSTREAMINSTANCE stream = {.cbStruct = sizeof stream, .pwfxSrc = &adpcm, .pwfxDst = &pcm};
    ACMDRVSTREAMHEADER head = {.cbStruct = sizeof head, .pbSrc = src, .cbSrcLength = sizeof src, .pbDst = dst,
                               .cbDstLength = sizeof dst};
    printf("nomemory %.1f ns/call\n", ns_per_call(proc, video, DRV_USER + 1, 0, 0, n));
    printf("decompress %.1f ns/call\n", ns_per_call(proc, video, ICM_DECOMPRESS, (LPARAM)&icd, sizeof icd, decompresses));
    printf("convert %.1f ns/call\n", ns_per_call(proc, audio, ACMDM_STREAM_CONVERT, (LPARAM)&stream, (LPARAM)&head, converts));
    return 0;
}
