/* A codec client for the memory-capture tests: uses the real Windows video and audio
   compression stacks (avifil32, msvfw32, msacm32) as an application does, and prints a
   CRC32 per decoded frame / converted buffer and counts, so runs with and without the tap
   in front of a codec can be compared line by line.
     codec_client avi FILE.avi          AVIFileOpen, AVIStreamGetFrameOpen (default format),
                                        AVIStreamGetFrame for every frame
     codec_client icdecompress FILE.avi ICDecompressOpen on the stream's format, the format
                                        ICDecompressGetFormat suggests, ICDecompressBegin,
                                        ICDecompress of every frame AVIStreamRead gives, End
     codec_client roundtrip FCC W H N   N synthetic 8-bit frames through ICCompress (the
                                        codec FCC, e.g. mrle) and back through ICDecompress;
                                        each frame's CRC before and after, and whether equal
     codec_client acmconvert FILE.wav   acmFormatSuggest (PCM), acmStreamOpen, acmStreamSize,
                                        PrepareHeader, acmStreamConvert of 4 KiB (block-aligned)
                                        source buffers, UnprepareHeader, Close
     codec_client acmlist               acmDriverEnum: each driver's acmDriverDetails and the
                                        counts acmFormatTagEnum and acmFormatEnum give
     codec_client installed PATH roundtrip FCC W H N | acmconvert FILE.wav
                                        the same with the DriverProc of the codec DLL at PATH
                                        (loaded by path) installed as a function for this process
                                        only: ICInstall(ICINSTALL_FUNCTION) for FCC, or
                                        acmDriverAdd(ACM_DRIVERADDF_FUNCTION) with every ACM call
                                        going to that driver. (ICINSTALL_DRIVER would write the
                                        prefix's Drivers32 value: Wine 8.0 does.)
     codec_client badpointer DRIVER     OpenDriver(DRIVER) with an ICOPEN, then ICM_DECOMPRESS
                                        whose ICDECOMPRESS points at a no-access page (lpbiInput)
                                        and a header claiming a 2 GiB image (lpbiOutput), and
                                        ICM_DECOMPRESS_QUERY with lParam1 a no-access page: for
                                        a driver that reads none of it (codec_stub)
     codec_client bench DLL N D C       call DLL's DriverProc directly (codec_stub, or the tap in
                                        front of it): after DRV_OPEN of a VfW and an ACM instance,
                                        N x DRV_USER+1 (no memory), D x ICM_DECOMPRESS of a 320x240
                                        24-bit frame, C x ACMDM_STREAM_CONVERT of 4 KiB; prints the
                                        mean ns per message of each
   Exit 0 when everything worked, 1 when a call failed (named on stdout), 2 on bad usage.
   Built by the tests with -municode and the import libraries avifil32, msvfw32, msacm32, winmm. */
#include "codec_client.h"

uint32_t crc32(const void *data, size_t n)
{
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

int failed(const char *what, long long code)
{
    printf("failed %s %lld\n", what, code);
    return 1;
}

/* The DriverProc of the codec DLL at path, loaded by path */
static LPARAM driver_proc(const wchar_t *path, HMODULE *module)
{
    *module = LoadLibraryW(path);
    return *module ? (LPARAM)GetProcAddress(*module, "DriverProc") : 0;
}

static int installed_video(const wchar_t *path, wchar_t **args)
{
    HMODULE module;
    LPARAM proc = driver_proc(path, &module);
    const wchar_t *fcc = args[0];
    if (wcslen(fcc) != 4)
        return 2;
    if (!proc || !ICInstall(ICTYPE_VIDEO, mmioFOURCC(fcc[0], fcc[1], fcc[2], fcc[3]), proc, NULL, ICINSTALL_FUNCTION))
        return failed("ICInstall", 0);
    return roundtrip(fcc, wcstol(args[1], NULL, 10), wcstol(args[2], NULL, 10), wcstol(args[3], NULL, 10));
}

static int installed_audio(const wchar_t *path, const wchar_t *wav)
{
    HMODULE module;
    LPARAM proc = driver_proc(path, &module);
    HACMDRIVERID id;
    HACMDRIVER had;
    MMRESULT r = proc ? acmDriverAddW(&id, module, proc, 0, ACM_DRIVERADDF_FUNCTION) : MMSYSERR_NODRIVER;
    if (r)
        return failed("acmDriverAdd", r);
    if ((r = acmDriverOpen(&had, id, 0)))
        return failed("acmDriverOpen", r);
    int rc = acm_convert(wav, had);
    MMRESULT closed = acmDriverClose(had, 0);
    printf("driver close %u remove %u\n", closed, acmDriverRemove(id, 0));
    return rc;
}

int wmain(int argc, wchar_t **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: codec_client avi|icdecompress|roundtrip|acmconvert|acmlist ...\n");
        return 2;
    }
    const wchar_t *mode = argv[1];
    if (wcscmp(mode, L"acmlist") == 0)
        return acm_list();
    if (wcscmp(mode, L"acmconvert") == 0 && argc == 3)
        return acm_convert(argv[2], NULL);
    if (wcscmp(mode, L"installed") == 0 && argc == 8 && wcscmp(argv[3], L"roundtrip") == 0)
        return installed_video(argv[2], argv + 4);
    if (wcscmp(mode, L"installed") == 0 && argc == 5 && wcscmp(argv[3], L"acmconvert") == 0)
        return installed_audio(argv[2], argv[4]);
    if (wcscmp(mode, L"bench") == 0 && argc == 6)
        return bench(argv[2], wcstol(argv[3], NULL, 10), wcstol(argv[4], NULL, 10), wcstol(argv[5], NULL, 10));
    if (wcscmp(mode, L"badpointer") == 0 && argc == 3)
        return bad_pointers(argv[2]);
    if (wcscmp(mode, L"roundtrip") == 0 && argc == 6)
        return roundtrip(argv[2], wcstol(argv[3], NULL, 10), wcstol(argv[4], NULL, 10), wcstol(argv[5], NULL, 10));
    if (argc != 3)
        return 2;
    AVIFileInit();
    int rc = wcscmp(mode, L"avi") == 0 ? avi_frames(argv[2]) : wcscmp(mode, L"icdecompress") == 0 ? ic_decompress(argv[2]) : 2;
    AVIFileExit();
    return rc;
}
