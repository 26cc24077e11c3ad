/* codec_client: acmStream* conversion of a WAV file and the ACM driver list. */
#include "codec_client.h"

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

/* had: the driver to use, or NULL for any the ACM finds */
int acm_convert(const wchar_t *path, HACMDRIVER had)
{
    WAVEFORMATEX *src = NULL, dst = {.wFormatTag = WAVE_FORMAT_PCM};
    uint8_t *data;
    DWORD data_len = 0;
    if (read_wav(path, &src, &data, &data_len))
        return 1;
    MMRESULT r = acmFormatSuggest(had, src, &dst, sizeof dst, ACM_FORMATSUGGESTF_WFORMATTAG);
    printf("source tag %u %lu Hz %u ch block %u; suggest %u: %lu Hz %u ch %u-bit\n", src->wFormatTag,
           (unsigned long)src->nSamplesPerSec, src->nChannels, src->nBlockAlign, r,
           (unsigned long)dst.nSamplesPerSec, dst.nChannels, dst.wBitsPerSample);
    if (r)
        return failed("acmFormatSuggest", r);
    HACMSTREAM has;
    if ((r = acmStreamOpen(&has, had, src, &dst, NULL, 0, 0, ACM_STREAMOPENF_NONREALTIME)))
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

int acm_list(void)
{
    return acmDriverEnum(list_driver, 0, 0) ? 1 : 0;
}
