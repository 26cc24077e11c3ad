/* codec_client: avifil32 frame decode, ICDecompress, the ICCompress -> ICDecompress round trip. */
#include "codec_client.h"

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

int avi_frames(const wchar_t *path)
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

int ic_decompress(const wchar_t *path)
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

int roundtrip(const wchar_t *fcc, LONG w, LONG h, LONG n)
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
