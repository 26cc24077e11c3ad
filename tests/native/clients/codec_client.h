/* What the parts of codec_client (codec_client.c says what it does) share. */
#ifndef CODEC_CLIENT_H
#define CODEC_CLIENT_H

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

#define ACM_SOURCE_BYTES 4096u /* source bytes per acmStreamConvert / ACMDM_STREAM_CONVERT */

uint32_t crc32(const void *data, size_t n);
int failed(const char *what, long long code); /* prints "failed WHAT CODE"; returns 1 */

int avi_frames(const wchar_t *path);
int ic_decompress(const wchar_t *path);
int roundtrip(const wchar_t *fcc, LONG w, LONG h, LONG n);
int acm_convert(const wchar_t *path, HACMDRIVER had);
int acm_list(void);
int bad_pointers(const wchar_t *driver);
int bench(const wchar_t *dll, long n, long decompresses, long converts);

#endif
