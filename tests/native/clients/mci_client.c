/* mci_client.exe TYPE FILE: opens, queries and closes FILE on the MCI device type TYPE
   (waveaudio, sequencer, avivideo) through winmm twice, once with mciSendString and once
   with mciSendCommand, printing what each query answered (the same lines with and without
   the tap in front of the device's driver). waveaudio is also asked its format tag,
   channels and rate, and its length in samples and bytes. */
#include <windows.h>
#include <mmsystem.h>
#include <stdio.h>

static int wave;

static int by_string(const wchar_t *type, const wchar_t *file)
{
    static const wchar_t *queries[] = {
        L"status dev length", L"status dev position", L"status dev mode", L"info dev product",
        L"status dev format tag", L"set dev time format samples", L"status dev length",
    };
    wchar_t cmd[MAX_PATH + 64], answer[128];
    _snwprintf(cmd, ARRAYSIZE(cmd), L"open \"%ls\" type %ls alias dev", file, type);
    MCIERROR err = mciSendStringW(cmd, answer, ARRAYSIZE(answer), NULL);
    printf("string open: %lu\n", (unsigned long)err);
    if (err)
        return 1;
    for (size_t i = 0; i < (wave ? ARRAYSIZE(queries) : 4); i++) { /* the first 4 are for any device */
        answer[0] = 0;
        err = mciSendStringW(queries[i], answer, ARRAYSIZE(answer), NULL);
        printf("string %ls: %lu %ls\n", queries[i], (unsigned long)err, answer);
    }
    err = mciSendStringW(L"close dev", NULL, 0, NULL);
    printf("string close: %lu\n", (unsigned long)err);
    return err != 0;
}

static DWORD status_of(MCIDEVICEID id, DWORD item, MCIERROR *err)
{
    MCI_STATUS_PARMS status = {0};
    status.dwItem = item;
    *err = mciSendCommandW(id, MCI_STATUS, MCI_STATUS_ITEM | MCI_WAIT, (DWORD_PTR)&status);
    return (DWORD)status.dwReturn;
}

static int by_command(const wchar_t *type, const wchar_t *file)
{
    MCI_WAVE_OPEN_PARMSW open = {0}; /* MCI_OPEN_PARMSW and a dwBufferSeconds no flag asks to read */
    open.lpstrDeviceType = type;
    open.lpstrElementName = file;
    MCIERROR err = mciSendCommandW(0, MCI_OPEN, MCI_OPEN_TYPE | MCI_OPEN_ELEMENT | MCI_WAIT, (DWORD_PTR)&open);
    printf("command open: %lu\n", (unsigned long)err);
    if (err)
        return 1;
    static const struct { DWORD item; const char *name; } items[] = {
        {MCI_STATUS_LENGTH, "length"}, {MCI_STATUS_POSITION, "position"}, {MCI_STATUS_MODE, "mode"},
        {MCI_WAVE_STATUS_FORMATTAG, "format tag"}, {MCI_WAVE_STATUS_CHANNELS, "channels"},
        {MCI_WAVE_STATUS_SAMPLESPERSEC, "samplespersec"},
    };
    for (size_t i = 0; i < (wave ? ARRAYSIZE(items) : 3); i++) {
        DWORD value = status_of(open.wDeviceID, items[i].item, &err);
        printf("command status %s: %lu %lu\n", items[i].name, (unsigned long)err, (unsigned long)value);
    }
    wchar_t product[64] = L"";
    MCI_INFO_PARMSW info = {0};
    info.lpstrReturn = product;
    info.dwRetSize = ARRAYSIZE(product);
    err = mciSendCommandW(open.wDeviceID, MCI_INFO, MCI_INFO_PRODUCT | MCI_WAIT, (DWORD_PTR)&info);
    printf("command info product: %lu %ls\n", (unsigned long)err, product);
    MCI_SET_PARMS set = {0};
    set.dwTimeFormat = wave ? MCI_FORMAT_BYTES : MCI_FORMAT_MILLISECONDS;
    err = mciSendCommandW(open.wDeviceID, MCI_SET, MCI_SET_TIME_FORMAT | MCI_WAIT, (DWORD_PTR)&set);
    DWORD length = err ? 0 : status_of(open.wDeviceID, MCI_STATUS_LENGTH, &err);
    printf("command set %s, status length: %lu %lu\n", wave ? "bytes" : "ms", (unsigned long)err,
           (unsigned long)length);
    MCI_GENERIC_PARMS close = {0};
    err = mciSendCommandW(open.wDeviceID, MCI_CLOSE, MCI_WAIT, (DWORD_PTR)&close);
    printf("command close: %lu\n", (unsigned long)err);
    return err != 0;
}

int wmain(int argc, wchar_t **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mci_client TYPE FILE\n");
        return 2;
    }
    wave = _wcsicmp(argv[1], L"waveaudio") == 0;
    int failed = by_string(argv[1], argv[2]);
    failed |= by_command(argv[1], argv[2]);
    fflush(stdout);
    return failed;
}
