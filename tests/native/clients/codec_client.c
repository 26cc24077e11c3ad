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
#define WIN32_LEAN_AND_MEAN
#ifndef _UNICODE
#define _UNICODE /* -municode defines UNICODE; msacm.h wants both */
#endif
#include <windows.h>
#include <mmsystem.h>
#include <mmreg.h>
#include <msacm.h>
#include <vfw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../wine_msacmdrv.h"

#define ACM_SOURCE_BYTES 4096u
#define ACMDM_STREAM_CONVERT (ACMDM_BASE + 79) /* Wine's msacmdrv.h */
#define BENCH_W 320
#define BENCH_H 240

static uint32_t crc32(const void *data, size_t n)
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

static int failed(const char *what, long long code)
{
    printf("failed %s %lld\n", what, code);
    return 1;
}

/* The bytes of a packed DIB: header, colour table, bits. */
static size_t dib_size(const BITMAPINFOHEADER *bi)
{
    size_t colours = bi->biClrUsed ? bi->biClrUsed : bi->biBitCount <= 8 ? 1u << bi->biBitCount : 0;
    if (bi->biCompression == BI_BITFIELDS)
        colours += 3;
    size_t image = bi->biSizeImage ? bi->biSizeImage
                                   : (size_t)((bi->biWidth * bi->biBitCount + 31) / 32 * 4) * (size_t)labs(bi->biHeight);
    return bi->biSize + 4 * colours + image;
}

static PAVISTREAM open_video(const wchar_t *path, PAVIFILE *file)
{
    PAVISTREAM stream = NULL;
    HRESULT hr = AVIFileOpenW(file, path, OF_READ | OF_SHARE_DENY_WRITE, NULL);
    if (hr != AVIERR_OK) {
        failed("AVIFileOpen", hr);
        return NULL;
    }
    hr = AVIFileGetStream(*file, &stream, streamtypeVIDEO, 0);
    if (hr != AVIERR_OK) {
        failed("AVIFileGetStream", hr);
        AVIFileRelease(*file);
        return NULL;
    }
    return stream;
}

static int avi_frames(const wchar_t *path)
{
    PAVIFILE file;
    PAVISTREAM stream = open_video(path, &file);
    if (!stream)
        return 1;
    int rc = 0;
    PGETFRAME frames = AVIStreamGetFrameOpen(stream, NULL);
    if (!frames) {
        rc = failed("AVIStreamGetFrameOpen", 0);
    } else {
        LONG start = AVIStreamStart(stream), end = AVIStreamEnd(stream);
        for (LONG i = start; i < end; i++) {
            const BITMAPINFOHEADER *bi = AVIStreamGetFrame(frames, i);
            if (!bi) {
                rc = failed("AVIStreamGetFrame", i);
                break;
            }
            printf("frame %ld %ldx%ld %u-bit crc %08x\n", (long)i, (long)bi->biWidth, (long)bi->biHeight,
                   bi->biBitCount, crc32(bi, dib_size(bi)));
        }
        printf("frames %ld\n", (long)(end - start));
        AVIStreamGetFrameClose(frames);
    }
    AVIStreamRelease(stream);
    AVIFileRelease(file);
    return rc;
}

/* Every frame of the stream through hic; the output format `out` holds is set up already. */
static int decompress_frames(HIC hic, PAVISTREAM stream, BITMAPINFOHEADER *in, BITMAPINFOHEADER *out)
{
    LONG size = 0;
    AVIStreamRead(stream, AVIStreamStart(stream), 1, NULL, 0, &size, NULL); /* the first frame's size */
    LONG cap = 1 << 22;
    uint8_t *src = malloc((size_t)cap), *dst = malloc(out->biSizeImage);
    LRESULT r = ICDecompressBegin(hic, in, out);
    printf("begin %lld\n", (long long)r);
    int rc = r == ICERR_OK && src && dst ? 0 : 1;
    LONG start = AVIStreamStart(stream), end = AVIStreamEnd(stream);
    for (LONG i = start; rc == 0 && i < end; i++) {
        LONG got = 0;
        if (AVIStreamRead(stream, i, 1, src, cap, &got, NULL) != AVIERR_OK) {
            rc = failed("AVIStreamRead", i);
            break;
        }
        in->biSizeImage = (DWORD)got;
        DWORD flags = AVIStreamIsKeyFrame(stream, i) ? 0 : ICDECOMPRESS_NOTKEYFRAME;
        r = ICDecompress(hic, flags, in, src, out, dst);
        if (r != ICERR_OK) {
            rc = failed("ICDecompress", r);
            break;
        }
        printf("frame %ld in %ld crc %08x\n", (long)i, (long)got, crc32(dst, out->biSizeImage));
    }
    printf("end %lld frames %ld\n", (long long)ICDecompressEnd(hic), (long)(end - start));
    free(src);
    free(dst);
    return rc;
}

static int ic_decompress(const wchar_t *path)
{
    PAVIFILE file;
    PAVISTREAM stream = open_video(path, &file);
    if (!stream)
        return 1;
    AVISTREAMINFOW info;
    LONG fmt_size = 0;
    AVIStreamInfoW(stream, &info, sizeof info);
    AVIStreamReadFormat(stream, AVIStreamStart(stream), NULL, &fmt_size);
    BITMAPINFOHEADER *in = calloc(1, (size_t)fmt_size + 1024), *out = calloc(1, sizeof(BITMAPINFO) + 1024);
    AVIStreamReadFormat(stream, AVIStreamStart(stream), in, &fmt_size);
    int rc = 1;
    HIC hic = ICDecompressOpen(ICTYPE_VIDEO, info.fccHandler, in, NULL);
    if (!hic) {
        failed("ICDecompressOpen", 0);
    } else {
        LONG got = ICDecompressGetFormat(hic, in, out);
        printf("format %ld %ldx%ld %u-bit compression %08lx size %lu\n", got, (long)out->biWidth,
               (long)out->biHeight, out->biBitCount, (unsigned long)out->biCompression,
               (unsigned long)out->biSizeImage);
        if (got == ICERR_OK) {
            out->biSizeImage = (DWORD)((out->biWidth * out->biBitCount + 31) / 32 * 4) * (DWORD)labs(out->biHeight);
            rc = decompress_frames(hic, stream, in, out);
        }
        ICClose(hic);
    }
    free(in);
    free(out);
    AVIStreamRelease(stream);
    AVIFileRelease(file);
    return rc;
}

/* Frame i of a synthetic 8-bit picture: horizontal runs that move, so RLE has work. */
static void synth_frame(uint8_t *bits, LONG w, LONG h, LONG i)
{
    LONG stride = (w + 3) & ~3;
    for (LONG y = 0; y < h; y++)
        for (LONG x = 0; x < stride; x++)
            bits[y * stride + x] = x < w ? (uint8_t)(((x + i * 3) / 8 + y / 4) % 16) : 0;
}

typedef struct {
    BITMAPINFOHEADER h;
    RGBQUAD colours[256];
} dib8_t;

static void palette_format(dib8_t *f, LONG w, LONG h)
{
    memset(f, 0, sizeof *f);
    f->h = (BITMAPINFOHEADER){sizeof f->h, w, h, 1, 8, BI_RGB, (DWORD)(((w + 3) & ~3) * h), 0, 0, 256, 0};
    for (int c = 0; c < 256; c++)
        f->colours[c] = (RGBQUAD){(BYTE)(c * 16), (BYTE)(255 - c * 16), (BYTE)(c * 5), 0};
}

/* ICCompress every frame (all key frames) into packed[i] of sizes[i] bytes. */
static int compress_frames(HIC hic, dib8_t *in, dib8_t *out, LONG n, uint8_t **packed, DWORD *sizes)
{
    LONG w = in->h.biWidth, h = in->h.biHeight;
    uint8_t *bits = malloc(in->h.biSizeImage);
    DWORD max = ICCompressGetSize(hic, &in->h, &out->h);
    printf("compress size %lu begin %lld\n", (unsigned long)max, (long long)ICCompressBegin(hic, &in->h, &out->h));
    for (LONG i = 0; i < n; i++) {
        synth_frame(bits, w, h, i);
        packed[i] = malloc(max);
        DWORD ckid = 0, flags = 0;
        out->h.biSizeImage = max;
        DWORD r = ICCompress(hic, ICCOMPRESS_KEYFRAME, &out->h, packed[i], &in->h, bits, &ckid, &flags, i, 0, 0,
                             NULL, NULL);
        if (r != ICERR_OK) {
            free(bits);
            return failed("ICCompress", (long long)r);
        }
        sizes[i] = out->h.biSizeImage;
        printf("frame %ld raw crc %08x packed %lu crc %08x flags %lx\n", (long)i, crc32(bits, in->h.biSizeImage),
               (unsigned long)sizes[i], crc32(packed[i], sizes[i]), (unsigned long)flags);
    }
    printf("compress end %lld\n", (long long)ICCompressEnd(hic));
    free(bits);
    return 0;
}

static int decompress_packed(HIC hic, dib8_t *packed_fmt, dib8_t *raw_fmt, LONG n, uint8_t **packed, DWORD *sizes)
{
    uint8_t *bits = malloc(raw_fmt->h.biSizeImage), *want = malloc(raw_fmt->h.biSizeImage);
    int rc = 0;
    printf("decompress begin %lld\n", (long long)ICDecompressBegin(hic, &packed_fmt->h, &raw_fmt->h));
    for (LONG i = 0; i < n && rc == 0; i++) {
        packed_fmt->h.biSizeImage = sizes[i];
        LRESULT r = ICDecompress(hic, 0, &packed_fmt->h, packed[i], &raw_fmt->h, bits);
        if (r != ICERR_OK) {
            rc = failed("ICDecompress", r);
            break;
        }
        synth_frame(want, raw_fmt->h.biWidth, raw_fmt->h.biHeight, i);
        printf("frame %ld decoded crc %08x %s\n", (long)i, crc32(bits, raw_fmt->h.biSizeImage),
               memcmp(bits, want, raw_fmt->h.biSizeImage) ? "differs" : "equal");
    }
    printf("decompress end %lld\n", (long long)ICDecompressEnd(hic));
    free(bits);
    free(want);
    return rc;
}

static int roundtrip(const wchar_t *fcc, LONG w, LONG h, LONG n)
{
    if (wcslen(fcc) != 4 || w < 1 || h < 1 || n < 1 || n > 256)
        return 2;
    DWORD handler = mmioFOURCC(fcc[0], fcc[1], fcc[2], fcc[3]);
    static dib8_t in, out;
    palette_format(&in, w, h);
    HIC hic = ICOpen(ICTYPE_VIDEO, handler, ICMODE_COMPRESS);
    if (!hic)
        return failed("ICOpen compress", 0);
    LRESULT r = ICCompressGetFormat(hic, &in.h, &out.h);
    printf("compress format %lld %u-bit compression %08lx\n", (long long)r, out.h.biBitCount,
           (unsigned long)out.h.biCompression);
    uint8_t *packed[256];
    DWORD sizes[256];
    int rc = r == ICERR_OK ? compress_frames(hic, &in, &out, n, packed, sizes) : failed("ICCompressGetFormat", r);
    ICClose(hic);
    if (rc)
        return rc;
    hic = ICOpen(ICTYPE_VIDEO, handler, ICMODE_DECOMPRESS);
    if (!hic)
        return failed("ICOpen decompress", 0);
    rc = decompress_packed(hic, &out, &in, n, packed, sizes);
    ICClose(hic);
    for (LONG i = 0; i < n; i++)
        free(packed[i]);
    return rc;
}

/* The fmt and data chunks of a RIFF WAVE file read whole into memory. */
static int read_wav(const wchar_t *path, WAVEFORMATEX **fmt, uint8_t **data, DWORD *data_len)
{
    FILE *f = _wfopen(path, L"rb");
    if (!f)
        return failed("open", 0);
    static uint8_t file[1 << 24];
    size_t n = fread(file, 1, sizeof file, f);
    fclose(f);
    if (n < 12 || memcmp(file, "RIFF", 4) || memcmp(file + 8, "WAVE", 4))
        return failed("not a WAVE file", 0);
    *fmt = NULL;
    *data = NULL;
    for (size_t at = 12; at + 8 <= n;) {
        DWORD len;
        memcpy(&len, file + at + 4, 4);
        if (len > n - at - 8)
            len = (DWORD)(n - at - 8);
        if (!memcmp(file + at, "fmt ", 4)) {
            *fmt = calloc(1, len < sizeof(WAVEFORMATEX) ? sizeof(WAVEFORMATEX) : len);
            memcpy(*fmt, file + at + 8, len);
        } else if (!memcmp(file + at, "data", 4)) {
            *data = file + at + 8;
            *data_len = len;
        }
        at += 8 + len + (len & 1);
    }
    return *fmt && *data ? 0 : failed("no fmt or data chunk", 0);
}

static int convert_all(HACMSTREAM has, const WAVEFORMATEX *src, uint8_t *data, DWORD data_len)
{
    DWORD chunk = ACM_SOURCE_BYTES / src->nBlockAlign * src->nBlockAlign, dst_len = 0;
    if (chunk == 0)
        chunk = src->nBlockAlign;
    MMRESULT r = acmStreamSize(has, chunk, &dst_len, ACM_STREAMSIZEF_SOURCE);
    printf("size %u src %lu dst %lu\n", r, (unsigned long)chunk, (unsigned long)dst_len);
    if (r)
        return failed("acmStreamSize", r);
    uint8_t *src_buf = malloc(chunk), *dst_buf = malloc(dst_len);
    ACMSTREAMHEADER head = {.cbStruct = sizeof head, .pbSrc = src_buf, .cbSrcLength = chunk, .pbDst = dst_buf,
                            .cbDstLength = dst_len};
    if ((r = acmStreamPrepareHeader(has, &head, 0)))
        return failed("acmStreamPrepareHeader", r);
    int rc = 0, i = 0;
    for (DWORD at = 0; at < data_len && rc == 0; at += chunk, i++) {
        DWORD len = data_len - at < chunk ? data_len - at : chunk;
        memcpy(src_buf, data + at, len);
        head.cbSrcLength = len;
        DWORD flags = ACM_STREAMCONVERTF_BLOCKALIGN | (at == 0 ? ACM_STREAMCONVERTF_START : 0) |
                      (at + len >= data_len ? ACM_STREAMCONVERTF_END : 0);
        if ((r = acmStreamConvert(has, &head, flags))) {
            rc = failed("acmStreamConvert", r);
            break;
        }
        printf("buffer %d src %lu used %lu dst %lu crc %08x\n", i, (unsigned long)len,
               (unsigned long)head.cbSrcLengthUsed, (unsigned long)head.cbDstLengthUsed,
               crc32(dst_buf, head.cbDstLengthUsed));
    }
    printf("unprepare %u buffers %d\n", acmStreamUnprepareHeader(has, &head, 0), i);
    free(src_buf);
    free(dst_buf);
    return rc;
}

static int acm_convert(const wchar_t *path)
{
    WAVEFORMATEX *src, dst = {.wFormatTag = WAVE_FORMAT_PCM};
    uint8_t *data;
    DWORD data_len = 0;
    if (read_wav(path, &src, &data, &data_len))
        return 1;
    MMRESULT r = acmFormatSuggest(NULL, src, &dst, sizeof dst, ACM_FORMATSUGGESTF_WFORMATTAG);
    printf("source tag %u %lu Hz %u ch block %u; suggest %u: %lu Hz %u ch %u-bit\n", src->wFormatTag,
           (unsigned long)src->nSamplesPerSec, src->nChannels, src->nBlockAlign, r,
           (unsigned long)dst.nSamplesPerSec, dst.nChannels, dst.wBitsPerSample);
    if (r)
        return failed("acmFormatSuggest", r);
    HACMSTREAM has;
    if ((r = acmStreamOpen(&has, NULL, src, &dst, NULL, 0, 0, ACM_STREAMOPENF_NONREALTIME)))
        return failed("acmStreamOpen", r);
    int rc = convert_all(has, src, data, data_len);
    printf("close %u\n", acmStreamClose(has, 0));
    free(src);
    return rc;
}

static BOOL CALLBACK count_format(HACMDRIVERID id, LPACMFORMATDETAILSW details, DWORD_PTR counter, DWORD support)
{
    (void)id, (void)details, (void)support;
    ++*(unsigned *)counter;
    return TRUE;
}

static BOOL CALLBACK list_tag(HACMDRIVERID id, LPACMFORMATTAGDETAILSW tag, DWORD_PTR had, DWORD support)
{
    (void)id, (void)support;
    DWORD max = 0;
    acmMetrics((HACMOBJ)had, ACM_METRIC_MAX_SIZE_FORMAT, &max);
    WAVEFORMATEX *wfx = calloc(1, max < sizeof *wfx ? sizeof *wfx : max);
    ACMFORMATDETAILSW fd = {.cbStruct = sizeof fd, .dwFormatTag = tag->dwFormatTag, .pwfx = wfx, .cbwfx = max};
    wfx->wFormatTag = (WORD)tag->dwFormatTag;
    unsigned formats = 0;
    MMRESULT r = acmFormatEnumW((HACMDRIVER)had, &fd, count_format, (DWORD_PTR)&formats, ACM_FORMATENUMF_WFORMATTAG);
    printf("  tag %lu %ls: formats %u (%u)\n", (unsigned long)tag->dwFormatTag, tag->szFormatTag, formats, r);
    free(wfx);
    return TRUE;
}

static BOOL CALLBACK list_driver(HACMDRIVERID id, DWORD_PTR unused, DWORD support)
{
    (void)unused;
    ACMDRIVERDETAILSW d = {.cbStruct = sizeof d};
    MMRESULT r = acmDriverDetailsW(id, &d, 0);
    printf("driver %ls: details %u tags %lu support %08lx\n", r ? L"?" : d.szShortName, r,
           (unsigned long)d.cFormatTags, (unsigned long)support);
    HACMDRIVER had;
    if (r || acmDriverOpen(&had, id, 0))
        return TRUE;
    ACMFORMATTAGDETAILSW tag = {.cbStruct = sizeof tag};
    r = acmFormatTagEnumW(had, &tag, list_tag, (DWORD_PTR)had, 0);
    printf("  tags %u close %u\n", r, acmDriverClose(had, 0));
    return TRUE;
}

static int bad_pointers(const wchar_t *driver)
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

static int bench(const wchar_t *dll, long n, long decompresses, long converts)
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

int wmain(int argc, wchar_t **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: codec_client avi|icdecompress|roundtrip|acmconvert|acmlist ...\n");
        return 2;
    }
    const wchar_t *mode = argv[1];
    if (wcscmp(mode, L"acmlist") == 0)
        return acmDriverEnum(list_driver, 0, 0) ? 1 : 0;
    if (wcscmp(mode, L"acmconvert") == 0 && argc == 3)
        return acm_convert(argv[2]);
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
