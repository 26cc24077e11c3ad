/* mci_wave.exe FILE.wav: opens, queries and closes a WAV file through winmm's MCI twice, once
   with mciSendString and once with mciSendCommand, printing what each query answered (the
   same lines with and without the tap in front of the waveaudio driver). */
#include <windows.h>
#include <mmsystem.h>
#include <stdio.h>

static int by_string(const wchar_t *file)
{
    static const wchar_t *queries[] = {
        L"status wav length", L"status wav position", L"status wav format tag",
        L"set wav time format samples", L"status wav length",
    };
    wchar_t cmd[MAX_PATH + 64], answer[128];
    _snwprintf(cmd, ARRAYSIZE(cmd), L"open \"%ls\" type waveaudio alias wav", file);
    MCIERROR err = mciSendStringW(cmd, answer, ARRAYSIZE(answer), NULL);
    printf("string open: %lu\n", (unsigned long)err);
    if (err)
        return 1;
    for (size_t i = 0; i < ARRAYSIZE(queries); i++) {
        answer[0] = 0;
        err = mciSendStringW(queries[i], answer, ARRAYSIZE(answer), NULL);
        printf("string %ls: %lu %ls\n", queries[i], (unsigned long)err, answer);
    }
    err = mciSendStringW(L"close wav", NULL, 0, NULL);
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

static int by_command(const wchar_t *file)
{
    MCI_WAVE_OPEN_PARMSW open = {0};
    open.lpstrDeviceType = L"waveaudio";
    open.lpstrElementName = file;
    MCIERROR err = mciSendCommandW(0, MCI_OPEN, MCI_OPEN_TYPE | MCI_OPEN_ELEMENT | MCI_WAIT, (DWORD_PTR)&open);
    printf("command open: %lu\n", (unsigned long)err);
    if (err)
        return 1;
    static const struct { DWORD item; const char *name; } items[] = {
        {MCI_STATUS_LENGTH, "length"}, {MCI_STATUS_POSITION, "position"},
        {MCI_WAVE_STATUS_FORMATTAG, "format tag"}, {MCI_WAVE_STATUS_CHANNELS, "channels"},
        {MCI_WAVE_STATUS_SAMPLESPERSEC, "samplespersec"},
    };
    for (size_t i = 0; i < ARRAYSIZE(items); i++) {
        DWORD value = status_of(open.wDeviceID, items[i].item, &err);
        printf("command status %s: %lu %lu\n", items[i].name, (unsigned long)err, (unsigned long)value);
    }
    MCI_SET_PARMS set = {0};
    set.dwTimeFormat = MCI_FORMAT_BYTES;
    err = mciSendCommandW(open.wDeviceID, MCI_SET, MCI_SET_TIME_FORMAT | MCI_WAIT, (DWORD_PTR)&set);
    DWORD bytes = err ? 0 : status_of(open.wDeviceID, MCI_STATUS_LENGTH, &err);
    printf("command set bytes, status length: %lu %lu\n", (unsigned long)err, (unsigned long)bytes);
    MCI_GENERIC_PARMS close = {0};
    err = mciSendCommandW(open.wDeviceID, MCI_CLOSE, MCI_WAIT, (DWORD_PTR)&close);
    printf("command close: %lu\n", (unsigned long)err);
    return err != 0;
}

int wmain(int argc, wchar_t **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mci_wave FILE.wav\n");
        return 2;
    }
    int failed = by_string(argv[1]);
    failed |= by_command(argv[1]);
    fflush(stdout);
    return failed;
}
